"""One rule for every configured root (data folders, the audits folder, user models): what is opened
under a root resolves, symbolic links followed, to a place inside it, and never into a hidden folder
(the per-session private areas live in ``.sessions``) unless the caller names that area as its own.

A symlinked ``rows.csv`` in an audit folder, a class folder linking to ``/etc`` or ``uploads/.sessions``
typed into a folder box are all refused here, in one place.
"""

from __future__ import annotations

from pathlib import Path

from .errors import InputError


def within(path: str | Path, roots, *, own: Path | None = None, what: str = "this folder") -> Path:
    """``path`` resolved; refused unless it lies inside one of ``roots`` and no part of it below that root
    is a hidden (dot) folder, except inside ``own`` (the caller's own private area, if any).

    A relative ``path`` is taken relative to the first root where it exists (else the first root)."""
    roots = [Path(r).expanduser().resolve() for r in ([roots] if isinstance(roots, (str, Path)) else roots)]
    p = Path(path).expanduser()
    if not p.is_absolute():
        candidates = [r / p for r in roots]
        p = next((c for c in candidates if c.exists()), candidates[0])
    resolved = p.resolve()
    root = next((r for r in roots if resolved == r or resolved.is_relative_to(r)), None)
    if root is None:
        raise InputError(f"{path} is outside {what} ({', '.join(map(str, roots))}); nothing outside it is opened.")
    own_resolved = own.expanduser().resolve() if own is not None else None
    if own_resolved is not None and (resolved == own_resolved or resolved.is_relative_to(own_resolved)):
        return resolved
    if any(part.startswith(".") for part in resolved.relative_to(root).parts):
        raise InputError(f"{path} is a hidden or private folder; it is not opened.")
    return resolved


def file_within(folder: Path, name: str, roots, what: str = "this folder") -> Path | None:
    """``folder / name`` if it is a regular file that resolves inside ``roots`` (None if absent); a
    symbolic link that leads out is refused with one sentence."""
    p = Path(folder) / name
    if not p.exists() and not p.is_symlink():
        return None
    resolved = within(p, roots, own=Path(folder), what=what)
    if not resolved.is_file():
        return None
    return resolved
