"""Intervals and chance levels for comparisons of two maps, from the maps' own spatial blocks.

The costly checks compare two maps of one scan (the map and the map of a randomised model, of a noisy
copy, of a larger budget, of another seed); their chance level is what two unrelated maps would score.
Neighbouring pixels of a map are not independent samples, so a pixel count overstates the evidence: a
Fisher interval on 16,384 pixels is a hundredth wide while the maps at another seed differ by a tenth.
Two remedies from the statistics of dependent data:

* **block bootstrap** (Kuensch 1989, "The jackknife and the bootstrap for general stationary
  observations", Annals of Statistics): the map is cut into square blocks about the size of its
  structures, blocks are resampled with replacement, and the statistic is recomputed from per-block
  sums; the 2.5th and 97.5th percentiles are its 95% interval (convergence's agreements).
* **block permutation** (the spatial analogue of a permutation test): the blocks of one map are
  shuffled, which keeps its values and local texture but breaks its alignment with the other map; the
  statistic over such shuffles is what two *unrelated* maps with these values would score: chance.

Each statistic is written as a function of a few per-pixel quantities' totals, so a resample costs a
weighted sum over blocks, not a pass over the pixels: 2,000 resamples take milliseconds.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

BOOTSTRAP = 2000  # resamples; the percentile's own error is then under a tenth of the interval
PERMUTATIONS = 20  # block shuffles for the chance level (its mean, and the spread around it)


def block_side(shape) -> int:
    """A block side of about a sixteenth of the map (4 px at least): 8 px on 128 px, 4 px on 28 px."""
    return max(4, int(round(min(shape[:2]) / 16)))


def block_ids(shape, side: int | None = None) -> tuple[np.ndarray, int]:
    """(H, W) block number of each pixel (row-major blocks of ``side``), and the number of blocks."""
    h, w = shape[:2]
    side = side or block_side(shape)
    rows, cols = np.arange(h) // side, np.arange(w) // side
    n_cols = int(cols.max()) + 1
    return rows[:, None] * n_cols + cols[None, :], int(rows.max() + 1) * n_cols


def bootstrap(per_pixel: np.ndarray, statistic: Callable[[np.ndarray], np.ndarray], seed: int = 0,
              side: int | None = None, n_boot: int = BOOTSTRAP) -> tuple[float, float]:
    """95% block-bootstrap interval of ``statistic(totals)``.

    ``per_pixel``: (K, H, W) quantities whose totals over the pixels define the statistic;
    ``statistic``: (..., K) totals -> (...) values, vectorised over leading axes.
    """
    q = np.asarray(per_pixel, np.float64)
    ids, nb = block_ids(q.shape[1:], side)
    sums = np.stack([np.bincount(ids.ravel(), weights=k.ravel(), minlength=nb) for k in q], -1)  # (nb, K)
    counts = np.random.default_rng(seed).multinomial(nb, np.full(nb, 1.0 / nb), size=n_boot)  # (B, nb)
    values = statistic(counts @ sums)
    values = values[np.isfinite(values)]
    if values.size < n_boot // 2:
        return float("nan"), float("nan")
    return float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))


def shuffle_blocks(m: np.ndarray, rng: np.random.Generator, side: int | None = None) -> np.ndarray:
    """``m`` with its whole blocks of ``side`` moved to random places (a ragged edge stays where it is)."""
    m = np.asarray(m)
    side = side or block_side(m.shape)
    h, w = (m.shape[0] // side) * side, (m.shape[1] // side) * side
    out = m.copy()
    core = m[:h, :w].reshape(h // side, side, w // side, side).swapaxes(1, 2).reshape(-1, side, side)
    core = core[rng.permutation(len(core))]
    out[:h, :w] = core.reshape(h // side, w // side, side, side).swapaxes(1, 2).reshape(h, w)
    return out


def chance(a: np.ndarray, b: np.ndarray, similarity: Callable[[np.ndarray, np.ndarray], float], seed: int = 0,
           n: int = PERMUTATIONS) -> np.ndarray:
    """``similarity(a, b')`` over ``n`` block shuffles ``b'`` of ``b``: what unrelated maps score."""
    rng = np.random.default_rng([int(seed), 22])
    return np.array([similarity(a, shuffle_blocks(b, rng)) for _ in range(n)], np.float64)


# Statistics as functions of per-pixel totals ------------------------------------------------------------------


def rank_terms(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(6, H, W): 1, ra, rb, ra^2, rb^2, ra*rb of the maps' tie-averaged ranks (for ``spearman_of``)."""
    from scipy.stats import rankdata

    ra = rankdata(np.ravel(a)).reshape(np.shape(a)) / np.size(a)
    rb = rankdata(np.ravel(b)).reshape(np.shape(b)) / np.size(b)
    return np.stack([np.ones_like(ra), ra, rb, ra * ra, rb * rb, ra * rb])


def spearman_of(t: np.ndarray) -> np.ndarray:
    """Pearson correlation of the ranks from the totals of ``rank_terms`` (the Spearman correlation)."""
    n, sa, sb, saa, sbb, sab = np.moveaxis(t, -1, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sab / n - sa * sb / n ** 2
        return cov / np.sqrt((saa / n - (sa / n) ** 2) * (sbb / n - (sb / n) ** 2))
