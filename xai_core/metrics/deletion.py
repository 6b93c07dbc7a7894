"""``deletion``: the deletion game (Petsiuk, Das & Saenko 2018, "RISE: Randomized Input Sampling for
Explanation of Black-box Models", BMVC).

The most relevant pixels by the map are replaced by the method's own
baseline first; a faithful map makes the class score fall fast, so the area
under the score curve is small. Reported as the area random orderings of
the same pixels leave minus the map's area, divided by the span of scores
the curves visit: 0 = no better than random, 1 is the bound, negative =
worse than random. The verdict is read against this scan's own chance band
and the value's 95% interval (``_perturbation``, ``_evidence``).
"""

from __future__ import annotations

from ..params import Param
from . import Metric, register
from ._evidence import rule_text
from ._perturbation import petsiuk

BAR = 0.1  # a tenth of the score span gained over random orderings

PARAMS = (
    Param("steps", 20, "Chunks of pixels removed between two scores.", int, min=2, max=500),
    Param("random_orders", 12, "Random orderings drawn first for the chance curve and its spread.", int,
          min=2, max=200),
    Param("max_random_orders", 32, "Cost cap: random orderings drawn at most while the verdict is "
          "inconclusive (doubling from random_orders).", int, min=2, max=400),
    Param("seed", 0, "Seed of the random orderings.", int, min=0),
)


def petsiuk_result(metric, d, verb: str, noun: str):
    """The MetricResult of a deletion/insertion run ``d``: meaning, rule, interval and budget advice."""
    v = d["value"]
    if d["verdict"] == "n/a":
        return metric.not_applicable("the class score does not move when pixels are " + verb)
    faster = {"pass": f"clearly faster than {noun} random pixels",
              "warn": f"faster than {noun} random pixels, but only a little",
              "fail": f"no faster than {noun} random pixels",
              "inconclusive": f"perhaps faster than {noun} random pixels"}[d["verdict"]]
    meaning = (f"{metric.lead} {faster} ({v:+.3f}, 95% interval {d['low']:+.3f} to {d['high']:+.3f}; random "
               f"maps on this scan stay under {d['chance_band']:.3f}).")
    if d["verdict"] == "inconclusive":
        need = d.get("to_decide")
        meaning += (f" Undecided after {d['budget']} random orderings; about {need:,} would decide it." if need
                    else " The value sits on the bar; no budget decides it.")
    meaning += f" ({'Removed' if verb == 'removed' else 'Hidden'} pixels show {d['baseline']}.)"
    threshold = rule_text(BAR, f"above {d['chance_band']:.3f}, the 97.5th percentile of random maps")
    return metric.result(v, d["verdict"], threshold, meaning, d, chance=0.0, low=d["low"], high=d["high"])


@register
class Deletion(Metric):
    name = "deletion"
    display_name = "Deletion (faithfulness)"
    description = "How much faster the class score falls when the map's top pixels are removed first than " \
                  "when random pixels are (0 = no better than random)."
    better = "higher"
    cost = "cheap"
    category = "faithfulness"
    card = 10
    figure = "deletion-insertion"
    version = 2
    lead = "Removing the map's top pixels first lowers the score"
    rule = (f"pass: better than a random map on this scan (above the 97.5th percentile of random orderings) "
            f"and the 95% interval all >= {BAR}; warn: better than chance, below {BAR}; fail: not better than "
            f"chance; inconclusive: the interval straddles {BAR}, or the value is 1 to 1.96 standard deviations "
            "of random orderings above chance, after the cost cap")
    why = ("Random maps spread by about 0.05 on one scan (FIELD_NOTES), so a fixed cut-off reads chance as "
           "evidence; the random orderings drawn anyway give this scan's own chance band.")
    params = PARAMS

    def evaluate(self, model, image, explanation, mask, progress=None, *, steps, random_orders,
                 max_random_orders, seed):
        d = petsiuk(model, image, explanation, steps, random_orders, max_random_orders, seed, insertion=False,
                    bar=BAR)
        return petsiuk_result(self, d, "removed", "removing")
