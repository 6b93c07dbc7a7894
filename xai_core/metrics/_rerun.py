"""Explaining again with one thing changed: the model, the image, the budget or the seed.

The costly metrics (randomisation, convergence, input stability, seed
stability) all ask "what would this method have said if ...?"; they
re-run the explanation's own method with its own parameters through
``api.explain``, for its first class only.
"""

from __future__ import annotations

import numpy as np


def method_params(explanation) -> dict:
    """The explanation's parameters that its method declares (what ``explain`` accepts)."""
    from ..explainers import EXPLAINERS

    cls = EXPLAINERS.get(explanation.method)
    declared = {p.name for p in cls.params}
    return {k: v for k, v in explanation.params.items() if k in declared}


def rerun(model, image, explanation, cache="default", progress=None, **overrides) -> np.ndarray:
    """The (H, W) map of the explanation's first class, recomputed with ``overrides``."""
    from .. import api

    params = {**method_params(explanation), **overrides}
    kw = {} if cache == "default" else {"cache": cache}
    e = api.explain(model, image, method=explanation.method, output=explanation.output_space,
                    classes=[int(explanation.class_indices[0])], progress=progress, **kw, **params)
    return e.map(0)


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two maps (NaN when either is constant)."""
    from scipy.stats import spearmanr

    a, b = np.ravel(a), np.ravel(b)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b).statistic)
