"""``pointing-game`` (Zhang et al. 2018, "Top-down Neural Attention by Excitation Backprop", IJCV; as used
for ground-truth evaluation by Arras, Osman & Samek 2022, "CLEVR-XAI", Information Fusion).

1 if the map's single most relevant pixel lies inside the ground-truth mask,
else 0. A map that points at random hits with probability equal to the mask's
area share, reported as chance.
"""

from __future__ import annotations

import numpy as np

from . import Metric, class_map, register


@register
class PointingGame(Metric):
    name = "pointing-game"
    display_name = "Pointing game"
    description = "Does the map's strongest pixel fall on the lesion? (1 = yes; chance = lesion area share)"
    better = "higher"
    cost = "cheap"
    needs_mask = True

    def evaluate(self, model, image, explanation, mask, progress=None):
        m = class_map(explanation)
        top = np.unravel_index(int(np.argmax(m)), m.shape)
        hit = bool(mask[top])
        chance = float(mask.mean())
        meaning = ("The map's strongest pixel lies on the lesion." if hit else
                   "The map's strongest pixel lies outside the lesion.")
        return self.result(float(hit), "pass" if hit else "fail", "pass = 1 (the top pixel is on the lesion)",
                           meaning, {"top_pixel": [int(top[0]), int(top[1])]}, chance=chance)
