"""``occlusion``: occlusion sensitivity (Zeiler & Fergus, ECCV 2014).

A window slides over the image with a stride; each position is hidden
(filled with black, the image mean or a blur) and the drop in the class score
is credited to the hidden pixels; each pixel gets the mean drop over the
windows that covered it. PAIR's ``Occlusion`` has no stride and calls the
model one image at a time (12,769 calls for a 15 px window on 128 px), so this
is written batched; at stride 1 it equals PAIR's map divided by the number of
covering windows (tested).
"""

from __future__ import annotations

import time

import numpy as np

from ..errors import InputError
from ..models.loaded import OUTPUT_SPACES
from . import EXPLAINERS
from .base import Explainer, Param

FILLS = ("black", "mean", "blur")


def fill_image(x: np.ndarray, fill: str) -> np.ndarray:
    if fill == "black":
        return np.zeros_like(x)
    if fill == "mean":
        return np.broadcast_to(x.mean(axis=(0, 1), keepdims=True), x.shape).copy()
    if fill == "blur":
        from scipy.ndimage import gaussian_filter

        s = max(x.shape[:2]) / 16
        return gaussian_filter(x, sigma=(s, s, 0), mode="nearest")
    return np.full_like(x, float(fill))


def positions(size: int, window: int, stride: int) -> list[int]:
    """Window starts from 0 with ``stride``, plus one flush with the far edge so every pixel is covered."""
    last = max(0, size - window)
    out = list(range(0, last + 1, stride))
    return out if out[-1] == last else out + [last]


@EXPLAINERS.register("occlusion")
class Occlusion(Explainer):
    name = "occlusion"
    display_name = "Occlusion"
    description = "How much the class score drops when a window of the image is hidden, window by window."
    family = "perturbation"
    unit = "score drop when hidden ({space})"
    additive = False
    completeness = "not additive: each pixel gets the mean drop of the windows that hid it"
    params = (
        Param("window", 16, "Side of the square window (pixels).", int, min=1, max=1024),
        Param("stride", 8, "Step between windows (pixels).", int, min=1, max=1024),
        Param("fill", "black", "What a hidden window shows: black, the image mean, a blur, or a grey level.",
              str, choices=FILLS, pattern=r"\d{1,3}(\.\d+)?"),
        Param("batch_size", 128, "Occluded images per model call.", int, min=1, max=8192),
    )

    @classmethod
    def validate(cls, params):
        p = super().validate(params)
        if p["fill"] not in FILLS and not 0 <= float(p["fill"]) <= 255:
            raise InputError(f"fill must be black, mean, blur or a grey level 0..255; got {p['fill']!r}.")
        return p

    @classmethod
    def reference_image(cls, explanation, image):
        fill = str(explanation.params.get("fill", "black"))
        return np.asarray(fill_image(np.asarray(image, np.float32), fill), np.float32), f"occlusion's fill ({fill})"

    def explain(self, model, image, classes, output, progress=None, *, window, stride, fill, batch_size):
        classes = np.asarray(classes, np.int64)
        x = np.asarray(image, np.float32)
        h, w = x.shape[:2]
        win_h, win_w = min(window, h), min(window, w)
        filled = fill_image(x, fill).astype(np.float32)
        starts = [(r, c) for r in positions(h, win_h, stride) for c in positions(w, win_w, stride)]
        f = model.output_fn(output, batch_size)
        t0 = time.perf_counter()
        ref = model.forward_image(image)[OUTPUT_SPACES.index(output)]
        total = np.zeros((len(classes), h, w))
        count = np.zeros((h, w))
        for i in range(0, len(starts), batch_size):
            chunk = starts[i:i + batch_size]
            batch = np.repeat(x[None], len(chunk), 0)
            for j, (r, c) in enumerate(chunk):
                batch[j, r:r + win_h, c:c + win_w] = filled[r:r + win_h, c:c + win_w]
            drop = ref[classes][None] - f(batch)[:, classes]  # (b, K)
            for j, (r, c) in enumerate(chunk):
                total[:, r:r + win_h, c:c + win_w] += drop[j][:, None, None]
                count[r:r + win_h, c:c + win_w] += 1
            if progress is not None:
                done = min(len(starts), i + batch_size)
                progress(done / len(starts), f"{done:,} / {len(starts):,} windows")
        maps = total / np.maximum(count, 1)
        ch = x.shape[-1]
        return self.result(
            model, image, classes, output, values=np.repeat(maps[..., None] / ch, ch, axis=-1),
            base_values=np.full(len(classes), np.nan), output_values=ref[classes],
            params={"window": window, "stride": stride, "fill": fill, "batch_size": batch_size},
            seconds=time.perf_counter() - t0, info={"evaluations": len(starts), "windows": len(starts)})
