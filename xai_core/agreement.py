"""Do two maps agree? The Spearman rank correlation of their pixels (Spearman, 1904).

Ranks, not values: methods and budgets put attributions on different scales, and what a reader takes
from a map is its order (which pixels matter most). A constant map has no order, so its agreement with
anything is NaN, never a number that looks meaningful. Convergence, randomisation, progressive SHAP and
the method comparison all measure agreement here.
"""

from __future__ import annotations

import numpy as np


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two maps of the same size (NaN when either is constant)."""
    from scipy.stats import spearmanr

    a, b = np.ravel(a), np.ravel(b)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b).statistic)


def spearman_matrix(maps: list[np.ndarray]) -> np.ndarray:
    """``spearman`` between every pair of maps: a symmetric matrix, 1 on the diagonal of non-constant maps."""
    n = len(maps)
    out = np.full((n, n), np.nan)
    for i in range(n):
        for j in range(i, n):
            out[i, j] = out[j, i] = spearman(maps[i], maps[j])
    return out
