"""What users add, within one disk budget: list it, delete it, and clean up after killed writers.

User data is the models users upload or train (``config.user_models_dir()``),
the dataset zips they unpack (``<first data root>/uploads``) and the decoded
copies of folder datasets (the result cache's ``datasets`` kind). Together
they may take at most ``config.user_data_max_bytes()`` (``XAI_USER_DATA_MAX_MB``);
a new upload that would pass it is refused with one sentence that says how
to make room. Shipped models and the generated demo datasets do not count.

``housekeeping()`` runs at start-up (the CLI and the app call it): it removes
half-unpacked zips and temporary files whose writing process is gone, so a
kill in the middle of a write leaves nothing behind after the next start.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import config
from .errors import InputError

UNPACK_PREFIX = ".unpacking-"  # archive.py's temporary folders: .unpacking-<pid>-<random>
UPLOAD_PREFIX = "xai-upload-"  # importing.py's temporary folders: xai-upload-<pid>-<random>
DECODED = "decoded dataset copies"


@dataclass(frozen=True)
class Item:
    name: str
    kind: str  # "model", "dataset" or DECODED
    path: Path
    bytes: int


def _size(p: Path) -> int:
    if p.is_file():
        return p.stat().st_size
    total = 0
    for f in p.rglob("*"):
        try:
            if f.is_file() and not f.is_symlink():
                total += f.stat().st_size
        except OSError:
            continue
    return total


upload_dir = config.upload_dir  # the unpacked dataset zips (shared, or one owner's private folder)


_PRIVATE = re.compile(re.escape(config.SESSIONS) + r"[/\\]+[A-Za-z0-9_-]{8,64}")


def redact_private(text: str) -> str:
    """``text`` with every private area (``.sessions/OWNER``) replaced by ``.sessions/(private)``: a shared
    model's training command must not show another user its owner's folder or owner id."""
    return _PRIVATE.sub(config.SESSIONS + "/(private)", str(text))


def _decoded_root() -> Path:
    from .cache import DECODED_KIND, DEFAULT_CACHE

    return DEFAULT_CACHE.root / DECODED_KIND


def items(owner: str | None = None) -> list[Item]:
    """What a user may see and delete, largest first: the shared library, plus ``owner``'s private items."""
    out = []
    for kind, where in (("model", config.user_models_dir), ("dataset", upload_dir)):
        for base in [where()] + ([where(owner)] if owner else []):
            if base.is_dir():
                out += [Item(d.name, kind, d, _size(d)) for d in sorted(base.iterdir())
                        if d.is_dir() and not d.name.startswith(".")]
    decoded = _decoded_root()
    if decoded.is_dir():
        out.append(Item(DECODED, DECODED, decoded, _size(decoded)))
    return sorted(out, key=lambda i: -i.bytes)


def used_bytes() -> int:
    """All user data on this server, every session's private area included: the budget protects the disk."""
    return sum(_size(p) for p in (config.user_models_dir(), upload_dir(), _decoded_root()) if p.exists())


def _mb(n: float) -> str:
    return f"{n / 2**20:,.0f} MB" if n < 2**30 else f"{n / 2**30:,.1f} GB"


def require_space(incoming: int, what: str) -> int:
    """Bytes still free in the budget after ``incoming`` more; refuses in one sentence if they do not fit."""
    limit, used = config.user_data_max_bytes(), used_bytes()
    if used + int(incoming) > limit:
        raise InputError(
            f"There is no room for {what} ({_mb(incoming)}): your models and data already take {_mb(used)} of "
            f"the {_mb(limit)} allowed; delete something you added (the 'Your models and data' page, or "
            f"`python -m xai_core user-data --delete NAME`) and try again.")
    return limit - used - int(incoming)


def free_bytes() -> int:
    return max(0, config.user_data_max_bytes() - used_bytes())


def delete(name: str, owner: str | None = None) -> Item:
    """Delete one thing the user added, by the name ``items(owner)`` lists; returns what was removed."""
    found = [i for i in items(owner) if i.name == name]
    if not found:
        known = ", ".join(i.name for i in items(owner)) or "nothing yet"
        raise InputError(f"Nothing you added is called {name!r}; you have: {known}.")
    if len(found) > 1:
        raise InputError(f"Both a model and a dataset are called {name!r}; delete the folder by hand: "
                         f"{', '.join(str(i.path) for i in found)}.")
    item = found[0]
    if item.kind == DECODED:  # copies only: they are decoded again when next needed
        from .cache import DECODED_KIND, DEFAULT_CACHE

        DEFAULT_CACHE.forget(DECODED_KIND)
    else:
        shutil.rmtree(item.path)
    for forget in _forgetters:
        forget(item)
    return item


_forgetters: list[Callable[[Item], None]] = []


def on_delete(forget: Callable[[Item], None]) -> None:
    """Have ``forget(item)`` called after each ``delete``, to drop in-memory copies of what went.

    The loaders that keep such copies (``data``, ``models``) sit above this module and register their
    ``forget`` when they are imported, so deleting never imports them: a loader never imported holds nothing.
    """
    _forgetters.append(forget)


_PID = re.compile(r"^(?:\.unpacking-|xai-upload-)(\d+)-")


def _writer_gone(p: Path) -> bool:
    from .cache import STALE_S, process_alive

    m = _PID.match(p.name)
    if m:
        return not process_alive(int(m.group(1)))
    try:
        import time

        return time.time() - p.stat().st_mtime > STALE_S
    except OSError:
        return False


def housekeeping() -> list[Path]:
    """Remove leftovers of killed writers: half-unpacked zips, upload staging folders, temporary cache files.

    Safe to run while other processes work: only what a dead process (or, without a process id in its
    name, something older than an hour) left is removed. Returns what was removed.
    """
    from .cache import DEFAULT_CACHE, sweep_temporaries

    removed: list[Path] = []
    for base, prefix in ((upload_dir(), UNPACK_PREFIX), (Path(tempfile.gettempdir()), UPLOAD_PREFIX)):
        try:
            leftovers = [p for p in base.iterdir() if p.name.startswith(prefix) and p.is_dir()]
        except OSError:
            continue
        for p in leftovers:
            if _writer_gone(p):
                shutil.rmtree(p, ignore_errors=True)
                if not p.exists():
                    removed.append(p)
    DEFAULT_CACHE.sweep(again=True)
    if (config.cache_dir() / "datasets").is_dir():
        sweep_temporaries(config.cache_dir() / "datasets")
    return removed


def temp_prefix(prefix: str) -> str:
    """A temporary folder prefix that names this process, so ``housekeeping`` knows when it is orphaned."""
    return f"{prefix}{os.getpid()}-"
