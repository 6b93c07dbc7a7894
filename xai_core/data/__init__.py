"""Datasets: a registry of builders, plus an on-disk cache of what they build.

A dataset module registers a ``DatasetSpec``::

    DATASETS.register("synthetic-brain-mri", DatasetSpec(build=build, ...))

``load_dataset(name)`` builds it once per seed and keeps the arrays in the
disk cache, so the app and the CLI start in well under a second afterwards.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

from .. import userdata
from ..registry import Registry
from . import store
from .base import SPLITS, Dataset, Split

__all__ = ["DATASETS", "Dataset", "DatasetSpec", "Split", "SPLITS", "dataset_names", "load_dataset", "list_datasets"]


@dataclass(frozen=True)
class DatasetSpec:
    build: Callable[[int], Dataset]
    description: str
    class_names: tuple[str, ...]
    domain: str
    version: str = "1"  # bump when the generator changes, to invalidate disk caches
    default_seed: int = 0


DATASETS: Registry[DatasetSpec] = Registry("dataset", __name__)

_memory: dict[tuple[str, int], Dataset] = {}
_lock = threading.RLock()  # re-entrant: a builder may load the dataset it derives from


def list_datasets() -> list[dict]:
    return [
        {
            "name": name,
            "description": spec.description,
            "classes": list(spec.class_names),
            "domain": spec.domain,
        }
        for name, spec in DATASETS.items()
    ]


def forget(prefix: str = "") -> int:
    """Drop the in-memory copies of datasets whose name starts with ``prefix`` (all by default), so the next
    ``load_dataset`` reads them again; returns how many went."""
    with _lock:
        gone = [k for k in _memory if str(k[0]).startswith(prefix)]
        for key in gone:
            del _memory[key]
    return len(gone)


def _forget_folders(item) -> None:
    """A deleted upload or decoded copy may be a folder dataset held in memory: forget every folder dataset."""
    from .folder import PREFIX

    forget(PREFIX)


userdata.on_delete(_forget_folders)


def dataset_names(owner: str | None = None) -> list[str]:
    """Registered datasets, then dataset folders found under the configured data roots (and, with an
    ``owner``, that owner's private uploads)."""
    from .folder import list_folder_datasets

    return DATASETS.names() + list_folder_datasets(owner=owner)


def load_dataset(name: str, seed: int | None = None, progress=None) -> Dataset:
    """Return a registered dataset (building and caching it on first use) or a ``folder:`` dataset."""
    from .folder import PREFIX, own_area, load_folder, resolve_name

    if str(name).startswith(PREFIX):
        key = (str(name), 0 if seed is None else int(seed))
        with _lock:
            if key in _memory:
                return _memory[key]
        path = resolve_name(name)
        ds = load_folder(path, seed=key[1], progress=progress, own=own_area(name[len(PREFIX):]))
        with _lock:
            _memory[key] = ds
        return ds
    spec = DATASETS.get(name)
    seed = spec.default_seed if seed is None else int(seed)
    key = (name, seed)
    with _lock:
        if key in _memory:
            return _memory[key]
        path = store.path_for(name, spec.version, seed)
        ds = None
        if path.exists():
            try:
                ds = store.load(path)
            except Exception:  # corrupt or partial file: rebuild it
                try:
                    path.unlink(missing_ok=True)
                except OSError:
                    pass  # read-only, or a folder in its place: rebuild in memory only
        if ds is None:
            ds = spec.build(seed)
            try:
                store.save(ds, path)
            except OSError:
                pass  # a read-only cache only costs speed
        _memory[key] = ds
        return ds
