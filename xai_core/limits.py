"""Reading untrusted bytes within limits: JSON nesting and zip members, checked before expanding.

A file a user hands us may be small on disk and huge once read: a zip member
whose declared size is hundreds of megabytes (``config.json`` padded with
spaces compresses about 1000:1), or JSON nested 100,000 levels deep, which
Python's parser (and Keras after it) can only answer with ``RecursionError``.
These helpers refuse such input in one sentence before the bytes are
expanded. Python's ``zipfile`` never returns more than a member's declared
size, so checking the declared size bounds what is read.
"""

from __future__ import annotations

import json
import re
import zipfile

import numpy as np

from .errors import InputError

MAX_JSON_DEPTH = 200  # Keras configs of nested functional models stay well under 50
MAX_MEMBER_NAME = 255  # the longest file name common file systems accept
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)


def json_depth(text: str | bytes) -> int:
    """The deepest nesting of ``[`` / ``{`` in a JSON text (strings ignored), in linear time."""
    raw = text.encode() if isinstance(text, str) else bytes(text)
    raw = _STRINGS.sub(b"", raw)
    b = np.frombuffer(raw, np.uint8)
    steps = np.zeros(len(b), np.int32)
    steps[(b == ord("[")) | (b == ord("{"))] = 1
    steps[(b == ord("]")) | (b == ord("}"))] = -1
    return int(np.cumsum(steps).max(initial=0))


def json_loads(text: str | bytes, what: str, max_depth: int = MAX_JSON_DEPTH):
    """``json.loads`` that refuses nesting deeper than ``max_depth`` in one sentence (``InputError``)."""
    depth = json_depth(text)
    if depth > max_depth:
        raise InputError(f"{what} is nested {depth:,} levels deep; the limit is {max_depth}, so it was not read.")
    try:
        return json.loads(text)
    except RecursionError:  # unreachable after the depth check; kept as a guard
        raise InputError(f"{what} is nested too deeply to be read.") from None
    except ValueError as exc:
        raise InputError(f"{what} is not valid JSON ({exc.__class__.__name__}).") from None


def check_member_name(name: str, what: str) -> None:
    """Refuse a zip member name no file system can store, before it reaches one."""
    longest = max((len(p.encode("utf-8", "replace")) for p in name.replace("\\", "/").split("/")), default=0)
    if longest > MAX_MEMBER_NAME:
        shown = name if len(name) <= 60 else name[:40] + "…" + name[-12:]
        raise InputError(f"{what} holds a file whose name is {longest} characters long ({shown!r}); names may be "
                         f"at most {MAX_MEMBER_NAME} characters.")


def read_member(zf: zipfile.ZipFile, name: str, limit: int, what: str) -> bytes:
    """The bytes of member ``name``, refused if its declared size is above ``limit``."""
    info = zf.getinfo(name)
    if info.file_size > limit:
        raise InputError(f"{what} declares a {name} of {info.file_size / 2**20:,.0f} MB; the limit is "
                         f"{limit / 2**20:,.0f} MB, so it was not read.")
    with zf.open(info) as f:
        return f.read(limit + 1)[:limit]
