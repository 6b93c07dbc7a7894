"""``deletion``: the deletion game (Petsiuk, Das & Saenko 2018, "RISE: Randomized Input Sampling for
Explanation of Black-box Models", BMVC).

The most relevant pixels by the map are replaced by the method's own
baseline first; a faithful map makes the class score fall fast, so the area
under the score curve is small. Reported as the area a random ordering of
the same pixels leaves minus the map's area, divided by
the span of scores the two curves visit: 0 = no better than random, 1 is
the bound, negative = worse than random.
"""

from __future__ import annotations

from ..params import Param
from . import Metric, graded, register
from ._perturbation import petsiuk

PASS, WARN = 0.1, 0.02


@register
class Deletion(Metric):
    name = "deletion"
    display_name = "Deletion (faithfulness)"
    description = "How much faster the class score falls when the map's top pixels are removed first than " \
                  "when random pixels are (0 = no better than random)."
    better = "higher"
    cost = "cheap"
    params = (
        Param("steps", 20, "Chunks of pixels removed between two scores.", int, min=2, max=500),
        Param("random_orders", 3, "Random orderings averaged for the chance curve.", int, min=1, max=50),
        Param("seed", 0, "Seed of the random orderings.", int, min=0),
    )

    def evaluate(self, model, image, explanation, mask, progress=None, *, steps, random_orders, seed):
        d = petsiuk(model, image, explanation, steps, random_orders, seed, insertion=False)
        verdict, threshold = graded(d["value"], "higher", PASS, WARN)
        v = d["value"]
        meaning = ("Removing the map's top pixels first lowers the score "
                   + ("faster than removing random pixels." if v >= WARN else
                      "no faster than removing random pixels." if v > -WARN else
                      "more slowly than removing random pixels.")
                   + f" (removed pixels show {d['baseline']})")
        return self.result(v, verdict, threshold, meaning, d, chance=0.0)
