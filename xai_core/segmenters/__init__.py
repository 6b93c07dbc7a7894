"""Segmenters: split an image into superpixels for LIME. One module per algorithm.

Every segmenter takes an image of raw pixel values (H, W, C) in 0..255 and
returns integer labels (H, W) that run 0..n-1 and cover the whole image
(lime hides superpixel ``z`` by ``segments == z`` for z in 0..n-1, so a label
outside that range would never be hidden; see FIELD_NOTES). Defaults give
roughly 20 to 80 segments on a 128 px image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..params import Param, validate
from ..registry import Registry


@dataclass(frozen=True)
class Segmenter:
    name: str
    display_name: str
    description: str
    fn: object  # (rgb float image in [0, 1], **params) -> integer labels (H, W)
    params: tuple[Param, ...] = ()

    def validate(self, params: dict | None) -> dict:
        return validate(self.params, params, f"Segmenter {self.name}")

    def __call__(self, image: np.ndarray, **params) -> np.ndarray:
        p = self.validate(params)
        labels = np.asarray(self.fn(as_rgb01(image), **p))
        if labels.shape != image.shape[:2]:
            raise InputError(f"Segmenter {self.name} returned labels of shape {labels.shape}, "
                             f"not {image.shape[:2]}.")
        return relabel(labels)


SEGMENTERS: Registry[Segmenter] = Registry("segmenter", __name__)


def as_rgb01(image: np.ndarray) -> np.ndarray:
    """(H, W[, C]) in 0..255 as float64 RGB in [0, 1]: one scale for every algorithm
    (quickshift's result changes tenfold with the input scale, see FIELD_NOTES)."""
    x = np.asarray(image, np.float64)
    if x.ndim == 2:
        x = x[..., None]
    if x.ndim != 3 or x.shape[-1] not in (1, 3, 4):
        raise InputError(f"An image of shape {x.shape} cannot be segmented; expected (H, W, 1 or 3).")
    x = x[..., :3] if x.shape[-1] != 1 else np.repeat(x, 3, axis=-1)
    return np.clip(x / 255.0, 0.0, 1.0)


def grey01(rgb01: np.ndarray) -> np.ndarray:
    from skimage.color import rgb2gray

    return rgb2gray(rgb01)


def relabel(labels: np.ndarray) -> np.ndarray:
    """Consecutive labels 0..n-1 in order of first appearance value (``np.unique``)."""
    _, inverse = np.unique(labels, return_inverse=True)
    return inverse.reshape(labels.shape).astype(np.int32)


def segment(name: str, image: np.ndarray, **params) -> np.ndarray:
    """Segment ``image`` (H, W, C in 0..255) with the registered segmenter ``name``."""
    return SEGMENTERS.get(name)(image, **params)


def segment_stats(labels: np.ndarray) -> dict:
    """Segment count and the spread of segment sizes (fair-sized superpixels matter for LIME)."""
    sizes = np.bincount(np.asarray(labels).ravel())
    sizes = sizes[sizes > 0]
    return {"segments": int(len(sizes)), "min_px": int(sizes.min()), "median_px": float(np.median(sizes)),
            "max_px": int(sizes.max()), "largest_share": float(sizes.max() / sizes.sum()),
            "size_cv": float(sizes.std() / sizes.mean())}


__all__ = ["SEGMENTERS", "Segmenter", "as_rgb01", "grey01", "relabel", "segment", "segment_stats"]
