"""``relevance-rank``: relevance rank accuracy (Arras, Osman & Samek 2022, "CLEVR-XAI: A benchmark dataset
for the ground truth evaluation of neural network explanations", Information Fusion).

Take as many of the map's most relevant pixels as the mask has pixels; the
share of them that lie inside the mask. Tied values count by their expected
share over tie orderings (``_ties``): the last, partly taken tie group adds
its share on the mask, not the pixels that come first in raster order. A map
that ranks pixels at random scores the mask's area share (chance); its score
is hypergeometric, so the chance band is the 97.5th percentile of that
distribution, and the verdict asks to beat it.
"""

from __future__ import annotations

from . import Metric, class_map, register
from ._evidence import judge
from ._ties import top_share


def chance_band(n: int, k: int) -> float:
    """97.5th percentile of the share a random top-``k`` of ``n`` pixels lands on a ``k``-pixel mask."""
    from scipy.stats import hypergeom

    return float(hypergeom(n, k, k).ppf(0.975)) / k


@register
class RelevanceRank(Metric):
    name = "relevance-rank"
    display_name = "Relevance rank on the lesion"
    description = "Share of the map's top-K pixels (K = lesion size) that lie on the lesion (chance = lesion " \
                  "area share)."
    better = "higher"
    cost = "cheap"
    needs_mask = True
    region = "finding"
    category = "localisation"
    version = 2
    rule = ("pass: above the 97.5th percentile of random rankings (hypergeometric) and at least halfway from "
            "chance to 1; warn: above that percentile, short of halfway; fail: not above it")
    why = "A random ranking's share is hypergeometric around the lesion's area share: beating it is the evidence."

    def evaluate(self, model, image, explanation, mask, progress=None):
        m = class_map(explanation).ravel()
        inside = mask.ravel()
        k = int(inside.sum())
        value = top_share(m, inside, k)
        chance = float(inside.mean())
        band = chance_band(inside.size, k)
        bar = chance + (1 - chance) / 2
        verdict = judge(value, value, value, value > band, bar)
        meaning = (f"{value:.0%} of the map's top {k:,} pixels lie on the lesion (chance {chance:.0%}; a random "
                   f"ranking stays under {band:.0%}).")
        return self.result(value, verdict, f"pass >= {bar:.3g} (halfway from chance to 1) and > {band:.3g} "
                           f"(97.5th percentile of random rankings); warn > {band:.3g}", meaning,
                           {"k": k, "chance_band": band}, chance=chance)
