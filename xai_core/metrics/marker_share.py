"""Marker attribution share: how much of a map's positive evidence sits on a known shortcut.

The mirror image of the focus score (``focus.py``): the same ratio,
``sum(max(m, 0) * T) / sum(max(m, 0))``, but over a mask ``T`` of something
that should *not* matter, such as a burned-in scanner tag
(``synthetic-brain-mri-tagged``'s ``tag_mask``). Lower is better. A map that
spreads its credit evenly scores the marker's area share (the chance level,
well under 1% for a small tag), so a share of a fifth or more on such a
small area means the model's decision leans on the marker: the "Clever
Hans" check of Lapuschkin et al., "Unmasking Clever Hans predictors"
(Nat. Commun. 2019), made a number. A method whose maps are too coarse to
resolve the marker (large superpixels, a low SHAP budget) dilutes the share
towards chance and can hide the shortcut; compare methods on the same scans.
"""

from __future__ import annotations

import importlib
import time

import numpy as np

from . import METRICS, Metric, MetricResult
from .focus import chance_focus, focus_score

MASK_NAME = "tag_mask"  # the dataset mask this metric reads (Split.extra_masks)
FAIL_AT = 0.2  # a fifth of the evidence on the marker
WARN_TIMES_CHANCE = 10.0


def marker_share_score(attribution: np.ndarray, mask: np.ndarray) -> float:
    """Share of positive attribution inside the marker mask (NaN without positive attribution or marker)."""
    return focus_score(attribution, mask)


def marker_share(model, image, explanation, mask=None, k: int = 0, **params) -> MetricResult:
    """``MetricResult`` for the ``k``-th explained class of ``explanation``; ``mask`` is the marker mask.

    ``model`` and ``image`` are part of the shared metric call shape; this metric reads only the map.
    """
    t0 = time.perf_counter()
    threshold = f"fail >= {FAIL_AT:.2f}; warn >= {WARN_TIMES_CHANCE:g}x the marker's area share"
    if mask is None or not np.asarray(mask, bool).any():
        return MetricResult("marker-share", float("nan"), "lower", "n/a", threshold,
                            "This scan carries no marker, so there is nothing to measure.",
                            seconds=time.perf_counter() - t0)
    chance = chance_focus(mask)
    value = marker_share_score(explanation.map(k), mask)
    if np.isnan(value):
        verdict, meaning = "n/a", "The map gives no positive evidence for this class."
    elif value >= FAIL_AT:
        verdict = "fail"
        meaning = (f"{value:.0%} of the evidence lies on the marker, which covers {chance:.2%} of the image: "
                   "the prediction leans on the marker, not the anatomy.")
    elif value >= WARN_TIMES_CHANCE * chance:
        verdict = "warn"
        meaning = f"The marker draws {value / chance:.0f} times its fair share of the evidence ({value:.1%})."
    else:
        verdict = "pass"
        meaning = f"The marker draws about its area's share of the evidence or less ({value:.2%})."
    return MetricResult("marker-share", float(value), "lower", verdict, threshold, meaning,
                        details={"marker_pixels": int(np.asarray(mask, bool).sum()), "mask": MASK_NAME},
                        chance=chance, seconds=time.perf_counter() - t0)


DISPLAY_NAME = "Marker attribution share"
DESCRIPTION = ("Share of positive attribution inside a known shortcut's mask, e.g. a burned-in tag (lower is better; "
               "chance level = the marker's area share).")

_registry_api = importlib.import_module(__package__)
if hasattr(_registry_api, "register"):  # the class-based registry (one Metric subclass per module)
    @_registry_api.register
    class MarkerShare(Metric):
        name = "marker-share"
        display_name = DISPLAY_NAME
        description = DESCRIPTION
        better = "lower"
        cost = "cheap"
        needs_mask = True

        def evaluate(self, model, image, explanation, mask, progress=None, **params):
            return marker_share(model, image, explanation, mask)
else:  # the function registry
    METRICS.register("marker-share", Metric("marker-share", DISPLAY_NAME, DESCRIPTION, "mask", marker_share))
