"""``pointing-game`` (Zhang et al. 2018, "Top-down Neural Attention by Excitation Backprop", IJCV; as used
for ground-truth evaluation by Arras, Osman & Samek 2022, "CLEVR-XAI", Information Fusion).

Does the map's most relevant pixel lie inside the ground-truth mask? When
several pixels share the maximum (a SHAP Partition region, a LIME superpixel)
the score is the share of them on the mask: the chance that a uniformly random
pick among the tied pixels hits (``_ties``), not whichever comes first in
raster order. A map that points at random hits with probability equal to the
mask's area share, reported as chance. (Quantus's ``PointingGame`` counts a
hit if *any* tied maximum lies on the mask.)
"""

from __future__ import annotations

import numpy as np

from . import Metric, class_map, register
from ._ties import top_tied

PASS_AT = 0.5


@register
class PointingGame(Metric):
    name = "pointing-game"
    display_name = "Pointing game"
    description = "Does the map's strongest pixel fall on the lesion? (1 = yes; tied maxima count by their share " \
                  "on the lesion; chance = lesion area share)"
    better = "higher"
    cost = "cheap"
    needs_mask = True
    region = "finding"
    category = "localisation"
    card = 40
    version = 2
    rule = (f"pass: at least {PASS_AT:.0%} of the tied strongest pixels lie on the finding; warn: more than its "
            "area share (chance); fail: otherwise")
    why = ("A tie settled by raster position scores where the lesion sits, not the map; the tied share is the "
           "expected hit over tie orderings.")

    def evaluate(self, model, image, explanation, mask, progress=None):
        top = top_tied(class_map(explanation))
        value = float(mask[top].mean())
        chance = float(mask.mean())
        verdict = "pass" if value >= PASS_AT else "warn" if value > chance else "fail"
        n = int(top.sum())
        where = (("lies on the lesion." if value == 1 else "lies outside the lesion.") if n == 1 else
                 f"is shared by {n:,} tied pixels; {value:.0%} of them lie on the lesion.")
        first = np.argwhere(top)[0]
        return self.result(value, verdict, f"pass >= {PASS_AT:.2g}, warn > {chance:.3g} (chance)",
                           f"The map's strongest value {where}",
                           {"top_pixel": [int(first[0]), int(first[1])], "tied": n}, chance=chance)
