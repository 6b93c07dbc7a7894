"""``insertion``: the insertion game (Petsiuk, Das & Saenko 2018, "RISE: Randomized Input Sampling for
Explanation of Black-box Models", BMVC).

Starting from the method's own baseline (a blurred scan for SHAP's blur
masker), the most relevant pixels by the map are revealed first; a faithful
map makes the class score rise fast, so the area under the curve is large.
Reported as the map's area minus random orderings' area, divided by the
span of scores the curves visit: 0 = no better than random, 1 the bound;
judged like deletion (``deletion.py``).
"""

from __future__ import annotations

from . import register
from ._perturbation import petsiuk
from .deletion import BAR, Deletion, petsiuk_result


@register
class Insertion(Deletion):
    name = "insertion"
    display_name = "Insertion (faithfulness)"
    description = "How much faster the class score rises when the map's top pixels are revealed first than " \
                  "when random pixels are (0 = no better than random)."
    card = 20
    lead = "Revealing the map's top pixels first raises the score"
    version = 3  # random orderings shared with deletion (reversed), so its chance curve changed

    def evaluate(self, model, image, explanation, mask, progress=None, *, steps, random_orders,
                 max_random_orders, seed):
        d = petsiuk(model, image, explanation, steps, random_orders, max_random_orders, seed, insertion=True,
                    bar=BAR)
        return petsiuk_result(self, d, "revealed", "revealing")
