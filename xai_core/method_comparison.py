"""Several explanation methods on one scan and one class: how much do they agree?

Methods differ in what their numbers mean (a gradient, a share of the
output, a relative CAM), so agreement is measured on ranks: the Spearman
correlation between two maps over pixels says whether they order the pixels
alike, whatever their units (Adebayo et al. 2018 and Krishna et al. 2022 use
rank correlations the same way to compare maps).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .agreement import spearman_matrix
from .explanation import Explanation


def normalised(m: np.ndarray) -> np.ndarray:
    """A map divided by its max |value|: every method on the same [-1, 1] scale."""
    peak = float(np.abs(m).max(initial=0.0))
    return m / peak if peak > 0 else m


def rank_agreement(maps: dict[str, np.ndarray]) -> pd.DataFrame:
    """Spearman rank correlation between every pair of (H, W) maps (NaN where a map is constant)."""
    names = list(maps)
    return pd.DataFrame(spearman_matrix([np.asarray(maps[n], np.float64) for n in names]), index=names,
                        columns=names)


def summary_row(expl: Explanation, explainer_cls, k: int = 0) -> dict:
    """What the page lists under each map: unit, compute time and the residual or fit score."""
    from .gates import fit_score

    q = explainer_cls.quality(expl)
    if q is not None and q[0] == "fit R²" and not np.isfinite(fit_score(expl, k)):
        q = ("no fit", float("nan"))  # R² against a target that does not move measures noise (xai_core.gates)
    return {"method": explainer_cls.display_name, "family": explainer_cls.family,
            "unit": explainer_cls.unit_label(expl.output_space), "seconds": float(expl.seconds),
            "cached": bool(expl.cached), "check": q[0] if q else "—",
            "value": q[1] if q else float("nan"), "additive": explainer_cls.additive}
