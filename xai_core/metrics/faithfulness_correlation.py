"""``faithfulness-correlation`` (Bhatt, Weller & Moura 2020, "Evaluating and Aggregating Feature-based
Model Explanations", IJCAI).

Random subsets of pixels are hidden (replaced by the method's own baseline);
the Pearson correlation, over subsets, between the map's summed attribution
on the subset and the drop of the class score when the subset is hidden.
1 = the map predicts exactly which pixels matter, 0 = chance.
"""

from __future__ import annotations

import numpy as np

from ..params import Param
from . import Metric, class_map, graded, register, scorer
from ._baseline import baseline_image

PASS, WARN = 0.3, 0.1


@register
class FaithfulnessCorrelation(Metric):
    name = "faithfulness-correlation"
    display_name = "Faithfulness correlation"
    description = "Correlation between the attribution on random pixel subsets and the score drop when " \
                  "they are hidden (0 = chance)."
    better = "higher"
    cost = "cheap"
    params = (
        Param("subsets", 64, "Random pixel subsets hidden, one model call each.", int, min=4, max=5000),
        Param("subset_fraction", 0.1, "Share of the pixels in each subset.", float, min=0.001, max=0.9),
        Param("seed", 0, "Seed of the random subsets.", int, min=0),
    )

    def evaluate(self, model, image, explanation, mask, progress=None, *, subsets, subset_fraction, seed):
        x = np.asarray(image, np.float32)
        base, base_name = baseline_image(explanation, x)
        m = class_map(explanation).ravel()
        h, w = x.shape[:2]
        k = max(1, int(round(subset_fraction * m.size)))
        rng = np.random.default_rng(seed)
        chosen = np.zeros((subsets, m.size), bool)
        for i in range(subsets):
            chosen[i, rng.choice(m.size, k, replace=False)] = True
        score = scorer(model, explanation)
        f0 = float(score(x[None])[0])
        hidden = np.where(chosen.reshape(subsets, h, w, 1), base[None], x[None])
        drop = f0 - score(hidden)
        attr = chosen.astype(np.float64) @ m
        if np.std(drop) < 1e-12 or np.std(attr) < 1e-12:
            return self.not_applicable("the map or the model's score does not vary over the subsets")
        r = float(np.corrcoef(attr, drop)[0, 1])
        verdict, threshold = graded(r, "higher", PASS, WARN)
        meaning = ("Where the map puts more attribution, hiding the pixels costs more score." if r >= WARN else
                   "The map's attribution hardly predicts which pixels the score depends on.")
        return self.result(r, verdict, threshold, meaning,
                           {"attribution_sum": attr, "score_drop": drop, "baseline": base_name,
                            "subset_size": k}, chance=0.0)
