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

    def __len__(self) -> int:
        return len(self.labels)


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
