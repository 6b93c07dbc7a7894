"""``rise``: RISE, Randomized Input Sampling for Explanation (Petsiuk, Das & Saenko, BMVC 2018).

``masks`` random masks: a coarse binary grid (each cell kept with probability
``p``), upsampled bilinearly to cells of ``cell_size`` pixels and shifted by a
random offset; the image times each mask is scored, and each pixel's value is
the mean score over the masks, weighted by how much each mask kept it:
S = sum_i f(x * M_i) M_i / (N p). Written here (no kept library has it for
Keras 3); masks are built a batch at a time with two small matrix products
instead of one image resize per mask. Deterministic per seed.
"""

from __future__ import annotations

import time

import numpy as np

from ..models.loaded import OUTPUT_SPACES
from . import EXPLAINERS
from .base import Explainer, Param


def upsample_matrix(n: int, size: int) -> np.ndarray:
    """(size, n) bilinear interpolation weights from n cell centres to ``size`` pixels (half-pixel centres)."""
    src = np.clip((np.arange(size) + 0.5) * n / size - 0.5, 0, n - 1)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    frac = src - lo
    m = np.zeros((size, n))
    m[np.arange(size), lo] += 1 - frac
    m[np.arange(size), hi] += frac
    return m


def rise_masks(grids: np.ndarray, shifts: np.ndarray, h: int, w: int, cell_size: int) -> np.ndarray:
    """(b, h, w) soft masks from binary grids (b, gh, gw) and offsets (b, 2) in [0, cell_size)."""
    gh, gw = grids.shape[1:]
    ry, rx = upsample_matrix(gh, gh * cell_size).astype(np.float32), upsample_matrix(gw, gw * cell_size)
    up = ry @ grids.astype(np.float32) @ rx.T.astype(np.float32)  # (b, gh*cell, gw*cell), batched matmul
    return np.stack([u[dy:dy + h, dx:dx + w] for u, (dy, dx) in zip(up, shifts)])


@EXPLAINERS.register("rise")
class Rise(Explainer):
    name = "rise"
    display_name = "RISE"
    featured = 6
    description = ("The model scores the scan under thousands of random smooth masks; a pixel matters if the "
                   "score is high when it is visible.")
    family = "perturbation"
    unit = "expected score when visible ({space})"
    additive = False
    completeness = "not additive: each pixel's value is the mean score of the masks that kept it"
    budget_param = "masks"
    params = (
        Param("masks", 1000, "Random masks scored.", int, min=10, max=100_000),
        Param("cell_size", 16, "Size of a mask cell (pixels): larger gives smoother maps.", int, min=2, max=512),
        Param("p", 0.5, "Probability that a cell is kept.", float, min=0.05, max=0.95),
        Param("batch_size", 128, "Masked images per model call.", int, min=1, max=8192),
        Param("seed", 0, "Seed of the masks; the same seed gives identical maps.", int, min=0),
    )

    def explain(self, model, image, classes, output, progress=None, *, masks, cell_size, p, batch_size, seed):
        classes = np.asarray(classes, np.int64)
        x = np.asarray(image, np.float32)
        h, w = x.shape[:2]
        gh, gw = -(-h // cell_size) + 1, -(-w // cell_size) + 1  # one spare cell for the shift
        rng = np.random.default_rng(seed)
        grids = rng.random((masks, gh, gw)) < p
        shifts = rng.integers(0, cell_size, (masks, 2))
        f = model.output_fn(output, batch_size)
        t0 = time.perf_counter()
        total = np.zeros((len(classes), h, w))
        for i in range(0, masks, batch_size):
            m = rise_masks(grids[i:i + batch_size], shifts[i:i + batch_size], h, w, cell_size)
            scores = f((x[None] * m[..., None]).astype(np.float32))[:, classes]  # (b, K)
            total += np.tensordot(scores.T, m, axes=1)  # (K, h, w)
            if progress is not None:
                done = min(masks, i + batch_size)
                progress(done / masks, f"{done:,} / {masks:,} masks")
        maps = total / (masks * p)
        ch = x.shape[-1]
        out = model.forward_image(image)[OUTPUT_SPACES.index(output)][classes]
        return self.result(
            model, image, classes, output, values=np.repeat(maps[..., None] / ch, ch, axis=-1),
            base_values=np.full(len(classes), np.nan), output_values=out,
            params={"masks": masks, "cell_size": cell_size, "p": p, "batch_size": batch_size, "seed": seed},
            seconds=time.perf_counter() - t0, info={"evaluations": int(masks)})
