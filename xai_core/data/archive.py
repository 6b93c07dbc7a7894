"""Unpacking an uploaded zip of a dataset folder, refusing anything unsafe before writing a byte.

Refused: entries with absolute paths, drive letters or ``..`` (zip-slip),
symbolic links, more files than ``config.zip_limits()`` allows, or a declared
expanded size above it. The declared sizes can lie, so bytes are counted
again while extracting and the unpacking stops (and is removed) the moment
they exceed the limit. The archive is unpacked into a temporary folder and
moved into ``<first data root>/uploads/<name>`` only when complete.
"""

from __future__ import annotations

import io
import re
import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from .. import config
from ..errors import InputError

CHUNK = 1 << 20


def _safe_member(name: str) -> PurePosixPath | None:
    """The entry's relative path, or None for a directory; raises for an unsafe name."""
    norm = name.replace("\\", "/")
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm):
        raise InputError(f"The zip holds an entry with an absolute path ({name!r}); it was refused.")
    parts = [p for p in norm.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InputError(f"The zip holds an entry that points outside its folder ({name!r}); it was refused.")
    if norm.endswith("/") or not parts:
        return None
    return PurePosixPath(*parts)


def upload_dir(owner: str | None = None) -> Path:
    """The shared uploads folder, or ``owner``'s private one inside it (a dot folder, never listed as shared)."""
    base = config.data_roots()[0] / "uploads"
    return base if owner is None else base / config.SESSIONS / config.check_owner(owner)


def share_dataset(folder: str | Path, owner: str) -> Path:
    """Move one of ``owner``'s unpacked datasets into the shared uploads folder, for every user."""
    src = Path(folder).resolve()
    mine = upload_dir(owner).resolve()
    if src.parent != mine or not src.is_dir():
        raise InputError("Only a dataset you uploaded yourself can be added to the shared library.")
    dest = upload_dir() / src.name
    if dest.exists():
        raise InputError(f"The shared library already has a dataset folder called {src.name!r}.")
    shutil.move(str(src), str(dest))
    return dest


def extract_zip(data: bytes, name: str, progress=None, owner: str | None = None) -> Path:
    """Check and unpack a zip under the uploads folder (``owner``'s private one if given); returns the new folder."""
    max_bytes, max_files = config.zip_limits()
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        raise InputError("This file is not a readable zip archive.") from None
    members = []
    for info in infos:
        rel = _safe_member(info.filename)
        if (info.external_attr >> 16) & 0o170000 == 0o120000:
            raise InputError(f"The zip holds a symbolic link ({info.filename!r}); it was refused.")
        if rel is None or rel.parts[0] == "__MACOSX" or rel.name.startswith("."):
            continue
        members.append((info, rel))
    if len(members) > max_files:
        raise InputError(f"The zip holds {len(members):,} files; the limit is {max_files:,}.")
    declared = sum(i.file_size for i, _ in members)
    if declared > max_bytes:
        raise InputError(f"The zip would expand to {declared / 2**20:,.0f} MB; the limit is {max_bytes / 2**20:,.0f} MB.")
    if not members:
        raise InputError("The zip holds no files.")
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(name).stem).strip("-.") or "dataset"
    base = upload_dir(owner)
    base.mkdir(parents=True, exist_ok=True)
    dest = base / slug
    k = 2
    while dest.exists():
        dest, k = base / f"{slug}-{k}", k + 1
    tmp = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=base))
    written = 0
    try:
        for n, (info, rel) in enumerate(members, 1):
            target = tmp.joinpath(*rel.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as out:
                while chunk := src.read(CHUNK):
                    written += len(chunk)
                    if written > max_bytes:
                        raise InputError(f"The zip expands to more than its declared size and past the "
                                         f"{max_bytes / 2**20:,.0f} MB limit; it was refused.")
                    out.write(chunk)
            if progress is not None and (n % 50 == 0 or n == len(members)):
                progress(n / len(members), f"unpacked {n:,} of {len(members):,} files")
        tmp.rename(dest)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise InputError(f"The zip could not be unpacked ({type(exc).__name__}); it may be damaged or encrypted.") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest
