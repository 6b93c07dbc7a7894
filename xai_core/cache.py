"""Content-addressed disk cache for results.

The key is a SHA-256 over everything that determines a result: the model
file's hash, the image's hash, the method, its parameters and the versions
of the libraries that compute it. Entries are ``.npz`` files written
atomically; an entry that cannot be read is deleted and recomputed, never
fatal. The total size is bounded: after each write the least recently used
entries go until the cache fits ``config.cache_max_bytes()``. The key is
also stored inside each entry and checked on every read, and a cache that
cannot be written (read-only, full) only costs speed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import threading
import zipfile
from pathlib import Path
from typing import Callable, TypeVar

from . import config
from .version import __version__

T = TypeVar("T")
log = logging.getLogger(__name__)


DECODED_KIND = "datasets"  # the kind of entry holding decoded copies of folder datasets (user data, in its budget)
_LIBRARIES = ("numpy", "tensorflow", "keras", "shap", "lime", "skimage", "sklearn")


def library_versions(extra: tuple[str, ...] = ()) -> dict:
    """Versions of the core libraries plus ``extra`` ones (an explainer's ``libraries``), for cache keys."""
    import importlib
    from importlib.metadata import PackageNotFoundError, version

    def v(name):
        mod = importlib.import_module(name)
        if getattr(mod, "__version__", None):
            return mod.__version__
        try:
            return version(name)
        except PackageNotFoundError:
            return "unknown"

    return {"xai_core": __version__, **{name: v(name) for name in dict.fromkeys((*_LIBRARIES, *extra))}}


def make_key(**parts) -> str:
    blob = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


class DiskCache:
    """``get_or_compute`` serves an entry whose stored key matches, else computes and stores the result.

    Faults never break a caller: a hit is served even on a read-only disk (marking it recently used is
    best effort), an entry that cannot be read or whose stored key differs (a file swapped for another
    valid ``.npz``), or a folder where the file should be, is a miss, and a failed write is logged once
    and the computed result returned. Writes go to a temporary file (named with the writer's process id)
    that is renamed into place; temporary files left by killed processes are removed at the first write
    of the next process.
    """

    def __init__(self, root: Path | None = None, max_bytes: int | None = None):
        self._root = root
        self._max = max_bytes
        self._lock = threading.Lock()
        self._swept = False
        self._warned = False
        self.hits = self.misses = self.errors = self.write_errors = 0

    @property
    def root(self) -> Path:
        return Path(self._root) if self._root is not None else config.cache_dir() / "results"

    @property
    def max_bytes(self) -> int:
        return self._max if self._max is not None else config.cache_max_bytes()

    def path(self, key: str, kind: str) -> Path:
        return self.root / kind / key[:2] / f"{key}.npz"

    def lookup(self, key: str, kind: str, load: Callable[[Path], T]) -> T | None:
        """The stored value for ``key``, or None (absent, unreadable, or stored under another key)."""
        p = self.path(key, kind)
        if not p.is_file():
            return None
        try:
            if stored_key(p) != key:
                raise ValueError("the entry was stored under another key")
            value = load(p)
        except Exception:
            self.errors += 1
            with contextlib.suppress(OSError):
                p.unlink()
            return None
        with contextlib.suppress(OSError):
            os.utime(p)  # mark as recently used; a read-only cache still serves its hits
        self.hits += 1
        return value

    def store(self, key: str, kind: str, value: T, save: Callable[[T, Path], object]) -> bool:
        """Write ``value`` atomically with ``key`` inside it; False (logged once) if the disk refuses."""
        p = self.path(key, kind)
        tmp = p.with_name(f"{key}.{os.getpid()}.{threading.get_ident() % 10**6}{TMP_SUFFIX}")
        try:
            self.sweep()
            p.parent.mkdir(parents=True, exist_ok=True)
            save(value, tmp)
            with zipfile.ZipFile(tmp, "a") as zf:  # an .npz is a zip: the key goes in its comment
                zf.comment = key.encode()
            os.replace(tmp, p)
            self.evict()
            return True
        except BaseException as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            if not isinstance(exc, OSError):
                raise  # a bug in a saver, or a stop: not a disk fault
            self.write_errors += 1
            if not self._warned:
                self._warned = True
                log.warning("The result cache at %s cannot be written (%s); results are computed but not "
                            "kept.", self.root, exc)
            return False

    def get_or_compute(self, key: str, kind: str, compute: Callable[[], T],
                       load: Callable[[Path], T], save: Callable[[T, Path], object]) -> tuple[T, bool]:
        """Return (result, was_cached)."""
        value = self.lookup(key, kind, load)
        if value is not None:
            return value, True
        self.misses += 1
        value = compute()
        self.store(key, kind, value, save)
        return value, False

    def sweep(self, again: bool = False) -> int:
        """Once per process (or ``again``): remove temporary files whose writer is gone; returns how many."""
        if self._swept and not again:
            return 0
        self._swept = True
        return sweep_temporaries(self.root)

    def forget(self, kind: str) -> int:
        """Delete every entry of one ``kind`` (they are computed again when next needed); returns how many."""
        gone = 0
        for f in (self.root / kind).rglob("*.npz"):
            f.unlink(missing_ok=True)
            gone += 1
        return gone

    def evict(self) -> None:
        with self._lock:
            files = []
            for f in self.root.rglob("*.npz"):
                if f.name.endswith(TMP_SUFFIX):
                    continue
                try:
                    st = f.stat()
                    files.append((st.st_mtime, st.st_size, f))
                except OSError:
                    continue
            total = sum(s for _, s, _ in files)
            for _, size, f in sorted(files):
                if total <= self.max_bytes:
                    break
                with contextlib.suppress(OSError):
                    f.unlink()
                total -= size

    def size(self, kind: str | None = None) -> int:
        base = self.root / kind if kind else self.root
        return sum(f.stat().st_size for f in base.rglob("*.npz") if f.is_file())

    def clear(self) -> None:
        for f in self.root.rglob("*.npz"):
            with contextlib.suppress(OSError):
                f.unlink()


TMP_SUFFIX = ".tmp.npz"
_PID = re.compile(r"\.(\d+)\.\d+\.tmp\.npz")
STALE_S = 3600  # a temporary file without a writer's id is left alone this long (it may be in use)


def stored_key(path: Path) -> str:
    """The key an entry was stored under (the zip comment of the ``.npz``)."""
    with zipfile.ZipFile(path) as zf:
        return zf.comment.decode("ascii", "replace")


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (this one always does): a temporary file it names may be in use."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists but is not ours
    return True


def sweep_temporaries(root: Path) -> int:
    """Remove ``*.tmp.npz`` files under ``root`` left by killed writers; returns how many went."""
    import time

    gone = 0
    now = time.time()
    for f in Path(root).rglob(f"*{TMP_SUFFIX}"):
        m = _PID.search(f.name)
        try:
            dead = (not process_alive(int(m.group(1)))) if m else now - f.stat().st_mtime > STALE_S
            if dead:
                f.unlink()
                gone += 1
        except OSError:
            continue
    return gone


DEFAULT_CACHE = DiskCache()
