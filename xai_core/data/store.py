"""The on-disk form of a dataset: one ``.npz`` without pickle, masks bit-packed, a JSON header.

Registered datasets are stored here once per seed (``load_dataset``), and folder datasets' decoded copies
go through the result cache with the same ``save``/``load`` pair (``folder.load_folder``).
"""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np

from .. import config
from .base import SPLITS, Dataset, Split


def path_for(name: str, version: str, seed: int):
    """Where a registered dataset's build for ``seed`` is kept; a new ``version`` of its generator gets a new file."""
    tag = hashlib.sha256(f"{name}|{version}|{seed}".encode()).hexdigest()[:16]
    return config.cache_dir() / "datasets" / f"{name}-{tag}.npz"


def save(ds: Dataset, path) -> None:
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


def load(path) -> Dataset:
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
