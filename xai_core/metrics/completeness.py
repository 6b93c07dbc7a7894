"""``completeness``: the additivity residual |base + sum(map) - output| of methods that promise it.

Completeness (Sundararajan, Taly & Yan 2017, "Axiomatic Attribution for Deep
Networks", ICML) and local accuracy (Lundberg & Lee 2017, "A Unified
Approach to Interpreting Model Predictions", NeurIPS): the attributions of
Integrated Gradients, SHAP and their kin must add up to the change of the
output from the baseline. Reported relative to the size of the explained
outputs; ``n/a`` for methods that make no such promise (LIME, saliency).
"""

from __future__ import annotations

from . import Metric, graded, register

PASS, WARN = 1e-3, 0.05


@register
class Completeness(Metric):
    name = "completeness"
    display_name = "Completeness (additivity)"
    description = "How far base value + sum of the map is from the model's output, relative to the output."
    better = "lower"
    cost = "cheap"

    def evaluate(self, model, image, explanation, mask, progress=None):
        from ..explainers import EXPLAINERS

        cls = EXPLAINERS.get(explanation.method) if explanation.method in EXPLAINERS else None
        if cls is None or not getattr(cls, "additive", False):
            return self.not_applicable(f"{explanation.method} does not promise that its map adds up to the output")
        value = float(explanation.relative_residuals[0])
        verdict, threshold = graded(value, "lower", PASS, WARN)
        meaning = ("Base value + the map's sum equals the model's output." if verdict == "pass" else
                   f"Base value + the map's sum misses the model's output by {value:.1%} of it.")
        return self.result(value, verdict, threshold, meaning, {"residual": float(explanation.residuals[0])},
                           chance=None)
