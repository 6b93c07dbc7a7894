"""``relevance-rank``: relevance rank accuracy (Arras, Osman & Samek 2022, "CLEVR-XAI: A benchmark dataset
for the ground truth evaluation of neural network explanations", Information Fusion).

Take as many of the map's most relevant pixels as the mask has pixels; the
share of them that lie inside the mask. A map that ranks pixels at random
scores the mask's area share, reported as chance.
"""

from __future__ import annotations

import numpy as np

from . import Metric, class_map, register
from ._localisation import against_chance


@register
class RelevanceRank(Metric):
    name = "relevance-rank"
    display_name = "Relevance rank on the lesion"
    description = "Share of the map's top-K pixels (K = lesion size) that lie on the lesion (chance = lesion " \
                  "area share)."
    better = "higher"
    cost = "cheap"
    needs_mask = True

    def evaluate(self, model, image, explanation, mask, progress=None):
        m = class_map(explanation).ravel()
        inside = mask.ravel()
        k = int(inside.sum())
        top = np.argsort(-m, kind="stable")[:k]
        value = float(inside[top].mean())
        chance = float(inside.mean())
        verdict, threshold = against_chance(value, chance)
        meaning = f"{value:.0%} of the map's top {k:,} pixels lie on the lesion (chance {chance:.0%})."
        return self.result(value, verdict, threshold, meaning, {"k": k}, chance=chance)
