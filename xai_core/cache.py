"""Content-addressed disk cache for results.

The key is a SHA-256 over everything that determines a result: the model
file's hash, the image's hash, the method, its parameters and the versions
of the libraries that compute it. Entries are ``.npz`` files written
atomically; an entry that cannot be read is deleted and recomputed, never
fatal. The total size is bounded: after each write the least recently used
entries go until the cache fits ``config.cache_max_bytes()``.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Callable, TypeVar

from . import config

T = TypeVar("T")


_LIBRARIES = ("numpy", "tensorflow", "keras", "shap", "lime", "skimage", "sklearn")


def library_versions(extra: tuple[str, ...] = ()) -> dict:
    """Versions of the core libraries plus ``extra`` ones (an explainer's ``libraries``), for cache keys."""
    import importlib
    from importlib.metadata import PackageNotFoundError, version

    from . import __version__

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
    def __init__(self, root: Path | None = None, max_bytes: int | None = None):
        self._root = root
        self._max = max_bytes
        self._lock = threading.Lock()
        self.hits = self.misses = self.errors = 0

    @property
    def root(self) -> Path:
        return Path(self._root) if self._root is not None else config.cache_dir() / "results"

    @property
    def max_bytes(self) -> int:
        return self._max if self._max is not None else config.cache_max_bytes()

    def path(self, key: str, kind: str) -> Path:
        return self.root / kind / key[:2] / f"{key}.npz"

    def get_or_compute(self, key: str, kind: str, compute: Callable[[], T],
                       load: Callable[[Path], T], save: Callable[[T, Path], object]) -> tuple[T, bool]:
        """Return (result, was_cached)."""
        p = self.path(key, kind)
        if p.exists():
            try:
                value = load(p)
                os.utime(p)  # mark as recently used
                self.hits += 1
                return value, True
            except Exception:
                self.errors += 1
                p.unlink(missing_ok=True)
        self.misses += 1
        value = compute()
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            save(value, p)
            self.evict()
        except OSError:
            pass  # a full or read-only disk only costs speed
        return value, False

    def evict(self) -> None:
        with self._lock:
            files = []
            for f in self.root.rglob("*.npz"):
                try:
                    st = f.stat()
                    files.append((st.st_mtime, st.st_size, f))
                except OSError:
                    continue
            total = sum(s for _, s, _ in files)
            for _, size, f in sorted(files):
                if total <= self.max_bytes:
                    break
                f.unlink(missing_ok=True)
                total -= size

    def clear(self) -> None:
        for f in self.root.rglob("*.npz"):
            f.unlink(missing_ok=True)


DEFAULT_CACHE = DiskCache()
