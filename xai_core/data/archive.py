"""Unpacking an uploaded zip of a dataset folder, refusing anything unsafe before writing a byte.

Refused: entries with absolute paths, drive letters or ``..`` (zip-slip),
symbolic links, names longer than a file system allows, more files than
``config.zip_limits()`` allows, a declared expanded size above it or above
the space left in the user-data budget (``userdata``), and any member that
expands more than ``config.zip_max_ratio()`` times (a 1.9 MB zip of zeros can
hold 1.9 GB). The declared sizes can lie, so bytes are counted again while
extracting and the unpacking stops (and is removed) the moment they exceed a
limit. The archive is unpacked into a temporary folder named with this
process's id and moved into ``<first data root>/uploads/<name>`` only when
complete and recognised as a dataset folder; a kill half-way leaves a folder
that ``userdata.housekeeping`` removes at the next start.
"""

from __future__ import annotations

import errno
import io
import re
import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from .. import config, limits, userdata
from ..config import upload_dir  # where unpacked uploads go; the pages list them from here too
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


def _ratio_error(name: str, ratio: float) -> InputError:
    return InputError(f"The zip member {name!r} expands more than {ratio:,.0f} times its compressed size, as "
                      f"decompression bombs do; it was refused.")


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
    ratio = config.zip_max_ratio()
    for info in infos:
        limits.check_member_name(info.filename, "The zip")
        rel = _safe_member(info.filename)
        if (info.external_attr >> 16) & 0o170000 == 0o120000:
            raise InputError(f"The zip holds a symbolic link ({info.filename!r}); it was refused.")
        if rel is None or rel.parts[0] == "__MACOSX" or rel.name.startswith("."):
            continue
        if info.file_size > ratio * max(info.compress_size, 1024):
            raise _ratio_error(info.filename, ratio)
        members.append((info, rel))
    if len(members) > max_files:
        raise InputError(f"The zip holds {len(members):,} files; the limit is {max_files:,}.")
    declared = sum(i.file_size for i, _ in members)
    if declared > max_bytes:
        raise InputError(f"The zip would expand to {declared / 2**20:,.0f} MB; the limit is {max_bytes / 2**20:,.0f} MB.")
    if not members:
        raise InputError("The zip holds no files.")
    room = userdata.require_space(declared, f"the unpacked {name}")
    max_bytes = min(max_bytes, declared + room)  # what the zip may really write, whatever it declares
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(name).stem).strip("-.") or "dataset"
    base = upload_dir(owner)
    base.mkdir(parents=True, exist_ok=True)
    dest = base / slug
    k = 2
    while dest.exists():
        dest, k = base / f"{slug}-{k}", k + 1
    userdata.housekeeping()  # a half-unpacked zip from a killed process goes before this one starts
    tmp = Path(tempfile.mkdtemp(prefix=userdata.temp_prefix(userdata.UNPACK_PREFIX), dir=base))
    written = 0
    try:
        for n, (info, rel) in enumerate(members, 1):
            target = tmp.joinpath(*rel.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            member_bytes = 0
            with zf.open(info) as src, open(target, "wb") as out:
                while chunk := src.read(CHUNK):
                    written += len(chunk)
                    member_bytes += len(chunk)
                    if written > max_bytes:
                        raise InputError(f"The zip expands to more than its declared size and past the "
                                         f"{max_bytes / 2**20:,.0f} MB limit; it was refused.")
                    if member_bytes > ratio * max(info.compress_size, 1024):
                        raise _ratio_error(info.filename, ratio)
                    out.write(chunk)
            if progress is not None and (n % 50 == 0 or n == len(members)):
                progress(n / len(members), f"unpacked {n:,} of {len(members):,} files")
        from .folder import scan_folder

        try:
            scan_folder(tmp, quick=True, own=tmp)  # not a dataset folder: refused now, not left behind
        except InputError as exc:
            raise InputError(str(exc).replace(str(tmp), name)) from None
        tmp.rename(dest)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if getattr(exc, "errno", None) == errno.ENAMETOOLONG:
            raise InputError("The zip holds a file or folder name too long for this computer's file system; "
                             "it was refused.") from None
        if getattr(exc, "errno", None) == errno.ENOSPC:
            raise InputError("The disk is full, so the zip could not be unpacked; nothing was kept.") from None
        raise InputError(f"The zip could not be unpacked ({type(exc).__name__}); it may be damaged or encrypted.") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest
