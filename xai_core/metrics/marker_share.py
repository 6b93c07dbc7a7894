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

import numpy as np

from . import Metric, class_map, register
from .focus import chance_focus, focus_score

MASK_NAME = "tag_mask"  # the dataset mask this metric reads (Split.extra_masks)
FAIL_AT = 0.2  # a fifth of the evidence on the marker
WARN_TIMES_CHANCE = 10.0


def marker_share_score(attribution: np.ndarray, mask: np.ndarray) -> float:
    """Share of positive attribution inside the marker mask (NaN without positive attribution or marker)."""
    return focus_score(attribution, mask)


@register
class MarkerShare(Metric):
    """The marker attribution share of the explanation's first class; ``mask`` is the marker mask."""

    name = "marker-share"
    display_name = "Marker attribution share"
    description = ("Share of positive attribution inside a known shortcut's mask, e.g. a burned-in tag (lower is "
                   "better; chance level = the marker's area share).")
    better = "lower"
    cost = "cheap"
    needs_mask = True
    region = "artefact"  # reads the artefact's mask, never the lesion's (``xai_core.regions``)
    category = "artefact"
    rule = ("fail: at least a fifth of the positive evidence on the marker; warn: at least 10x the marker's area "
            "share; pass: otherwise")
    why = ("A marker covers well under 1% of a scan, so a fifth of the evidence on it means the prediction leans "
           "on the marker (Lapuschkin et al. 2019).")

    def evaluate(self, model, image, explanation, mask, progress=None):
        threshold = f"fail >= {FAIL_AT:.2f}; warn >= {WARN_TIMES_CHANCE:g}x the marker's area share"
        chance = chance_focus(mask)
        value = marker_share_score(class_map(explanation), mask)
        if np.isnan(value):
            return self.not_applicable("the map gives no positive evidence for this class")
        if value >= FAIL_AT:
            verdict = "fail"
            meaning = (f"{value:.0%} of the evidence lies on the marker, which covers {chance:.2%} of the image: "
                       "the prediction leans on the marker, not the anatomy.")
        elif value >= WARN_TIMES_CHANCE * chance:
            verdict = "warn"
            meaning = f"The marker draws {value / chance:.0f} times its fair share of the evidence ({value:.1%})."
        else:
            verdict = "pass"
            meaning = f"The marker draws about its area's share of the evidence or less ({value:.2%})."
        return self.result(float(value), verdict, threshold, meaning,
                           {"marker_pixels": int(np.asarray(mask, bool).sum()), "mask": MASK_NAME}, chance=chance)
