"""Datasets: a registry of builders, plus an on-disk cache of what they build.

A dataset module registers a ``DatasetSpec``::

    DATASETS.register("synthetic-brain-mri", DatasetSpec(build=build, ...))

``load_dataset(name)`` builds it once per seed and keeps the arrays in the
disk cache, so the app and the CLI start in well under a second afterwards.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .. import config
from ..registry import Registry
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


def _cache_path(name: str, spec: DatasetSpec, seed: int):
    tag = hashlib.sha256(f"{name}|{spec.version}|{seed}".encode()).hexdigest()[:16]
    return config.cache_dir() / "datasets" / f"{name}-{tag}.npz"


def _save(ds: Dataset, path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for split, s in ds.splits.items():
        arrays[f"{split}/images"] = s.images
        arrays[f"{split}/labels"] = s.labels
        if s.masks is not None:
            arrays[f"{split}/masks"] = np.packbits(s.masks, axis=-1)
        for extra, m in s.extra_masks.items():
            arrays[f"{split}/extra/{extra}"] = np.packbits(m, axis=-1)
    header = {"name": ds.name, "class_names": list(ds.class_names), "description": ds.description,
              "domain": ds.domain, "seed": ds.seed, "meta": ds.meta, "splits": list(ds.splits),
              "shape": list(ds.image_shape)}
    if path.name.endswith(".tmp.npz"):  # already a temporary name (the result cache's atomic write)
        np.savez(path, header=np.array(json.dumps(header)), **arrays)
        return
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.0.tmp.npz")  # the writer's id: see cache.sweep_temporaries
    np.savez(tmp, header=np.array(json.dumps(header)), **arrays)
    tmp.replace(path)


def _load(path) -> Dataset:
    with np.load(path, allow_pickle=False) as z:
        header = json.loads(str(z["header"]))
        width = header["shape"][1]
        splits = {}
        for split in header.get("splits", SPLITS):  # older caches list no splits: the standard three
            if f"{split}/images" not in z:
                continue
            masks = None
            if f"{split}/masks" in z:
                masks = np.unpackbits(z[f"{split}/masks"], axis=-1, count=width).astype(bool)
            prefix = f"{split}/extra/"
            extra = {k[len(prefix):]: np.unpackbits(z[k], axis=-1, count=width).astype(bool)
                     for k in z.files if k.startswith(prefix)}
            splits[split] = Split(z[f"{split}/images"], z[f"{split}/labels"], masks, extra)
    return Dataset(header["name"], tuple(header["class_names"]), splits, header["description"],
                   header["domain"], header["seed"], header["meta"])


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
        path = _cache_path(name, spec, seed)
        ds = None
        if path.exists():
            try:
                ds = _load(path)
            except Exception:  # corrupt or partial file: rebuild it
                try:
                    path.unlink(missing_ok=True)
                except OSError:
                    pass  # read-only, or a folder in its place: rebuild in memory only
        if ds is None:
            ds = spec.build(seed)
            try:
                _save(ds, path)
            except OSError:
                pass  # a read-only cache only costs speed
        _memory[key] = ds
        return ds
