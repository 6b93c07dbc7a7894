"""``insertion``: the insertion game (Petsiuk, Das & Saenko 2018, "RISE: Randomized Input Sampling for
Explanation of Black-box Models", BMVC).

Starting from the method's own baseline (a blurred scan for SHAP's blur
masker), the most relevant pixels by the map are revealed first; a faithful
map makes the class score rise fast, so the area under the curve is large.
Reported as the map's area minus a random ordering's area, divided by the
span of scores the two curves visit: 0 = no better than random, 1 the bound.
"""

from __future__ import annotations

from . import graded, register
from .deletion import PASS, WARN, Deletion
from ._perturbation import petsiuk


@register
class Insertion(Deletion):
    name = "insertion"
    display_name = "Insertion (faithfulness)"
    description = "How much faster the class score rises when the map's top pixels are revealed first than " \
                  "when random pixels are (0 = no better than random)."

    def evaluate(self, model, image, explanation, mask, progress=None, *, steps, random_orders, seed):
        d = petsiuk(model, image, explanation, steps, random_orders, seed, insertion=True)
        verdict, threshold = graded(d["value"], "higher", PASS, WARN)
        v = d["value"]
        meaning = ("Revealing the map's top pixels first raises the score "
                   + ("faster than revealing random pixels." if v >= WARN else
                      "no faster than revealing random pixels." if v > -WARN else
                      "more slowly than revealing random pixels.")
                   + f" (hidden pixels show {d['baseline']})")
        return self.result(v, verdict, threshold, meaning, d, chance=0.0)
