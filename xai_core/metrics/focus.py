"""``relevance-mass``: the focus score, i.e. relevance mass accuracy (Arras, Osman & Samek 2022,
"CLEVR-XAI: A benchmark dataset for the ground truth evaluation of neural network explanations",
Information Fusion): the share of positive attribution that falls inside the ground-truth lesion mask.

The poster's finding ("high accuracy, wrong regions") as a number. For a
map ``m`` and mask ``M``: ``sum(max(m, 0) * M) / sum(max(m, 0))``. A map that
spreads its positive credit evenly scores the mask's area share, which is
reported next to it as the chance level; 1.0 means every bit of evidence for
the class lies on the lesion. Undefined (NaN) for a map with no positive
attribution or an empty mask.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from . import Metric, class_map, register
from ._localisation import against_chance


def smooth(maps: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing of (..., H, W) maps over the last two axes (sigma in pixels; 0 = unchanged).

    The poster shows smoothed SHAP; smoothing preserves each map's total, so additivity still holds
    up to what leaves the image edges (``mode="nearest"`` keeps that small).
    """
    from scipy.ndimage import gaussian_filter

    a = np.asarray(maps, np.float64)
    if sigma < 0:
        raise InputError("The smoothing sigma cannot be negative.")
    if sigma == 0:
        return a
    s = [0] * (a.ndim - 2) + [sigma, sigma]
    return gaussian_filter(a, sigma=s, mode="nearest")


def focus_score(attribution: np.ndarray, mask: np.ndarray) -> float:
    """Share of positive attribution inside ``mask``; ``attribution`` is (H, W) or (H, W, C) (channels summed)."""
    m = np.asarray(attribution, np.float64)
    if m.ndim == 3:
        m = m.sum(-1)
    mask = np.asarray(mask, bool)
    if m.shape != mask.shape:
        raise InputError(f"The map {m.shape} and the mask {mask.shape} differ in size.")
    pos = np.maximum(m, 0)
    total = pos.sum()
    if total <= 0 or not mask.any():
        return float("nan")
    return float(pos[mask].sum() / total)


def chance_focus(mask: np.ndarray) -> float:
    """The focus score of a map that spreads positive attribution evenly: the mask's area share."""
    mask = np.asarray(mask, bool)
    return float(mask.mean()) if mask.size else float("nan")


@register
class RelevanceMass(Metric):
    """The focus score as a registered metric: one code path for the compare page, the card and the CLI."""

    name = "relevance-mass"
    display_name = "Relevance mass (lesion)"
    description = "Share of positive attribution inside the ground-truth lesion mask (chance = lesion area share)."
    better = "higher"
    cost = "cheap"
    needs_mask = True
    region = "finding"
    category = "localisation"
    card = 30
    rule = ("pass: at least halfway from the lesion's area share (chance) to 1; warn: at least twice chance; "
            "fail: otherwise")
    why = ("An exact ratio of the map itself (no sampling): the only reference is the share an evenly spread "
           "map would give.")

    def evaluate(self, model, image, explanation, mask, progress=None):
        value = focus_score(class_map(explanation), mask)
        chance = chance_focus(mask)
        if not np.isfinite(value):
            return self.not_applicable("the map gives no positive attribution")
        verdict, threshold = against_chance(value, chance)
        meaning = f"{value:.0%} of the map's positive evidence lies on the lesion (chance {chance:.0%})."
        return self.result(value, verdict, threshold, meaning, {}, chance=chance)
