"""The dataset type every registered dataset returns."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Split:
    images: np.ndarray  # (N, H, W, C) uint8, pixel values 0..255
    labels: np.ndarray  # (N,) int64 class indices
    masks: np.ndarray | None = None  # (N, H, W) bool ground-truth lesion masks, if known
    # further (N, H, W) bool ground-truth masks by name, beside the lesion mask (e.g. ``tag_mask``: where a
    # burned-in marker sits); empty for datasets that have none, so older code and caches read as before
    extra_masks: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.labels)

    def mask(self, name: str = "masks") -> np.ndarray | None:
        """The lesion mask (``"masks"``) or a named extra mask, or None where the split has no such mask."""
        return self.masks if name in ("masks", "lesion") else self.extra_masks.get(name)


@dataclass(frozen=True)
class Dataset:
    name: str
    class_names: tuple[str, ...]
    splits: dict[str, Split]
    description: str = ""
    domain: str = ""
    seed: int | None = None
    meta: dict = field(default_factory=dict)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(next(iter(self.splits.values())).images.shape[1:])  # type: ignore[return-value]

    def split(self, name: str) -> Split:
        if name not in self.splits:
            raise InputError(
                f"Dataset {self.name!r} has no split {name!r}; it has {', '.join(self.splits)}."
            )
        return self.splits[name]

    def image(self, split: str, index: int) -> np.ndarray:
        s = self.split(split)
        if not 0 <= int(index) < len(s):
            raise InputError(
                f"Index {index} is outside {self.name}:{split}, which holds {len(s)} images (0..{len(s) - 1})."
            )
        return s.images[int(index)]


FRACTIONS = (0.7, 0.2, 0.1)


def generate(name: str, class_names, render, seed: int, per_class: int, description: str, domain: str,
             size: int, generator: str) -> Dataset:
    """A procedurally generated dataset: ``per_class`` images of every class in a seeded order, image ``i``
    drawn by ``render(SeedSequence([seed, i]), label) -> (uint8 HxW, bool mask HxW)``, split 70:20:10."""
    labels = np.repeat(np.arange(len(class_names)), per_class)
    labels = labels[np.random.default_rng([seed, 10**6]).permutation(len(labels))]
    images = np.empty((len(labels), size, size, 1), np.uint8)
    masks = np.empty((len(labels), size, size), bool)
    for i, lab in enumerate(labels):
        images[i, ..., 0], masks[i] = render(np.random.default_rng([seed, i]), int(lab))
    n_train = int(round(FRACTIONS[0] * len(labels)))
    n_val = int(round(FRACTIONS[1] * len(labels)))
    cuts = {"train": slice(0, n_train), "val": slice(n_train, n_train + n_val), "test": slice(n_train + n_val, None)}
    splits = {k: Split(images[s], labels[s].astype(np.int64), masks[s]) for k, s in cuts.items()}
    return Dataset(name, tuple(class_names), splits, description, domain, seed,
                   {"generator": generator, "per_class": per_class})
