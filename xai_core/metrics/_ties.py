"""Fair ties: rank-based metrics score tied map values by their expected value over tie orderings.

Ties are the rule, not the exception: SHAP Partition spreads an unexpanded
region's credit evenly (its top value is often shared by 128-256 pixels),
LIME paints one weight on a whole superpixel (hundreds of pixels). Settling
such a tie by raster position (``argmax``, a stable ``argsort``) scores where
the lesion happens to sit, not the map. So every pixel of a tie group is
treated alike, as a uniformly random order inside the group would on
average (the "expected rank" convention of Spearman's tie-averaged ranks):

* the pointing game scores the share of the tied maximum pixels that lie on
  the mask (the chance that a random pick among them hits);
* relevance rank counts the last, partly taken group by its share on the mask;
* the deletion/insertion curves hide a partly taken group by the same fraction
  in each of its pixels: the expected image over the group's orderings (the
  expected score exactly for a model linear in the pixels, to first order
  otherwise).

Values equal to within 1e-9 of the map's largest magnitude count as tied
(float rounding of "the same" value).
"""

from __future__ import annotations

import numpy as np

RELATIVE_TIE = 1e-9


def tie_keys(values: np.ndarray) -> np.ndarray:
    """Integers that are equal exactly where ``values`` are tied (up to ``RELATIVE_TIE``)."""
    v = np.asarray(values, np.float64).ravel()
    scale = float(np.max(np.abs(v))) if v.size else 0.0
    if not np.isfinite(scale) or scale == 0:
        return np.zeros(v.size, np.int64)
    return np.round(v / (scale * RELATIVE_TIE)).astype(np.int64)


def groups_descending(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(group of each pixel, first rank of each group, size of each group), groups from the largest value down."""
    keys = tie_keys(values)
    uniq, inverse, counts = np.unique(-keys, return_inverse=True, return_counts=True)  # ascending -key
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return inverse.ravel(), starts, counts


def top_share(values: np.ndarray, inside: np.ndarray, k: int) -> float:
    """Expected share of the top ``k`` pixels (ties drawn uniformly) that lie ``inside``."""
    group, starts, counts = groups_descending(values)
    on = np.bincount(group, weights=np.asarray(inside, np.float64).ravel(), minlength=len(counts))
    taken = np.clip(k - starts, 0, counts)  # how many of each group the top k take
    return float((on * taken / counts).sum() / k) if k > 0 else float("nan")


def top_tied(values: np.ndarray) -> np.ndarray:
    """Boolean mask of the pixels tied for the maximum."""
    keys = tie_keys(values)
    return (keys == keys.max()).reshape(np.shape(values))


def changed_fractions(values: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """(len(cuts), n) share of each pixel changed once the first ``cut`` pixels by rank are, ties shared."""
    group, starts, counts = groups_descending(values)
    s, c = starts[group].astype(np.float64), counts[group].astype(np.float64)
    return np.clip((np.asarray(cuts, np.float64)[:, None] - s[None]) / c[None], 0.0, 1.0)
