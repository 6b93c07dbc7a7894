"""``completeness``: the additivity residual |base + sum(map) - output| of methods that promise it.

Completeness (Sundararajan, Taly & Yan 2017, "Axiomatic Attribution for Deep
Networks", ICML) and local accuracy (Lundberg & Lee 2017, "A Unified
Approach to Interpreting Model Predictions", NeurIPS): the attributions of
Integrated Gradients, SHAP and their kin must add up to the change of the
output from the baseline. Reported relative to the size of the explained
outputs; ``n/a`` for methods that make no such promise (LIME, saliency).

Judged against what the method itself promises
(``Explainer.residual_promise``): an exact method (SHAP Partition's Owen
values, exact superpixel Shapley values) against float rounding, so any
larger gap is a fault; integrated gradients against the Riemann error of its
step count (a 1% gap at 64 steps is what 64 steps give), with the step count
that would close the gap as advice. Methods additive only approximately (a
sample mean, an adaptive path) promise nothing; their gap is graded by fixed
cut-offs.
"""

from __future__ import annotations

from . import Metric, graded, register

PASS, WARN = 1e-3, 0.05  # for methods without a promise
TARGET = 1e-3  # the gap the advice aims at
OVER = 5.0  # warn up to this many times the promise; fail beyond


@register
class Completeness(Metric):
    name = "completeness"
    display_name = "Completeness (additivity)"
    description = "How far base value + sum of the map is from the model's output, relative to the output."
    better = "lower"
    cost = "cheap"
    category = "axiomatic"
    card = 50
    version = 2
    rule = (f"pass: the relative residual within what the method promises (float rounding for exact methods, "
            f"2/steps for integrated gradients); warn: within {OVER:g}x the promise; fail: beyond. Methods "
            f"without a promise: pass <= {PASS:g}, warn <= {WARN:g}")
    why = ("Default integrated gradients always showed a 0.5-1.5% gap and always warned: that gap is the Riemann "
           "error its 64 steps promise, not a fault; the advice names the steps that close it.")

    def applies(self, explanation):
        from ..explainers import EXPLAINERS

        cls = EXPLAINERS.get(explanation.method) if explanation.method in EXPLAINERS else None
        if cls is None or not getattr(cls, "additive", False):
            return f"{explanation.method} does not promise that its map adds up to the output"
        return None

    def evaluate(self, model, image, explanation, mask, progress=None):
        from ..explainers import EXPLAINERS

        cls = EXPLAINERS.get(explanation.method)
        value = float(explanation.relative_residuals[0])
        promise = cls.residual_promise(explanation.params)
        details = {"residual": float(explanation.residuals[0]), "promise": promise}
        if promise is None:
            verdict, threshold = graded(value, "lower", PASS, WARN)
        else:
            verdict, threshold = graded(value, "lower", promise, OVER * promise)
            threshold += " (the method's promise)"
        gap = f"misses the model's output by {value:.2%} of it"
        if verdict == "pass":
            meaning = ("Base value + the map's sum equals the model's output." if value <= TARGET else
                       f"Base value + the map's sum {gap}, within what the method promises.")
        else:
            meaning = f"Base value + the map's sum {gap}" + (
                f", more than the method promises ({promise:.2%})." if promise is not None else ".")
        advice = cls.residual_advice(explanation.params, value, TARGET)
        if advice:
            meaning += " " + advice
            details["advice"] = advice
        return self.result(value, verdict, threshold, meaning, details, chance=None)
