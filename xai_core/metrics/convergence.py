"""``convergence``: is the sampling budget enough? The rank correlation of a sampling method's map at
budget N with its map at 2N, doubling N until they agree.

Sampling methods (SHAP Partition's ``max_evals``, LIME's ``num_samples``,
RISE's masks, SmoothGrad's noise samples, Kernel SHAP's coalitions) only
approach their limit as the budget grows; SHAP Partition stays exactly
additive at any budget while its map is still coarse (FIELD_NOTES: 0.49
correlation with the exact attribution at 1,000 evaluations on a linear
model). The check follows the practice of reporting agreement between runs
at growing sample sizes (Spearman's rank correlation, as in Adebayo et al.
2018 and Arun et al. 2021, "Assessing the trustworthiness of saliency maps
for localizing abnormalities in medical imaging", Radiology: AI). The
budget is doubled ``doublings`` times; the verdict names the smallest budget
from which every further doubling tried agrees (Spearman >= ``agreement``).
One agreeing pair is not enough: SHAP Partition refines its region
hierarchy in jumps, so maps at 200 and 400 evaluations can agree at 0.95
while the map at 1,600 still moves (measured on brain-basic-cnn). Methods with a seed but no budget compare two seeds; deterministic
methods are ``n/a``.
"""

from __future__ import annotations

import numpy as np

from ..agreement import spearman
from ..params import Param
from . import Metric, class_map, register
from ._rerun import rerun

# Budget parameters by name, for methods that do not declare ``budget_param`` themselves.
BUDGET_NAMES = ("max_evals", "num_samples", "n_samples", "samples", "nsamples", "num_masks", "n_masks",
                "masks", "noise_samples")


def budget_param(explainer_cls):
    """The explainer's sampling-budget ``Param``, or None for a method that does not sample."""
    declared = getattr(explainer_cls, "budget_param", None)
    for p in explainer_cls.params:
        if p.name == declared or (declared is None and p.name in BUDGET_NAMES):
            return p
    return None


@register
class Convergence(Metric):
    name = "convergence"
    display_name = "Convergence of the sampling"
    description = "Rank correlation between the map at this budget and at twice the budget; names the " \
                  "budget at which the map stops changing."
    better = "higher"
    cost = "costly"
    category = "convergence"
    figure = "convergence"
    rule = ("pass: Spearman(map at B, map at 2B) >= 0.9 for every doubling tried from the budget used; warn: "
            "from a larger budget; fail: at none")
    why = "A sampled map at too small a budget is coarse while still additive (FIELD_NOTES: 0.49 at 1,000 evaluations)."
    params = (
        Param("agreement", 0.9, "Spearman correlation between the maps at N and 2N that counts as converged.",
              float, min=0.0, max=1.0),
        Param("doublings", 3, "How many times the budget is doubled (N, 2N, 4N, ...).", int, min=1, max=10),
    )

    def evaluate(self, model, image, explanation, mask, progress=None, *, agreement, doublings):
        from ..explainers import EXPLAINERS

        cls = EXPLAINERS.get(explanation.method)
        budget = budget_param(cls)
        threshold = f"pass: Spearman(map at B, map at 2B) >= {agreement:.3g} for every B from the budget used"
        if budget is None:
            seeded = "seed" in explanation.params
            if not seeded:
                return self.not_applicable(f"{cls.display_name} is deterministic; there is nothing to converge")
            seed = int(explanation.params["seed"])
            other = rerun(model, image, explanation, seed=seed + 1, progress=progress)
            rho = spearman(class_map(explanation), other)
            ok = np.isfinite(rho) and rho >= agreement
            return self.result(rho, "pass" if ok else "warn", threshold.replace("at B, map at 2B", "two seeds").replace(" for every B from the budget used", ""),
                               "Two seeds give " + ("the same map." if ok else "noticeably different maps."),
                               {"seeds": [seed, seed + 1], "spearman": [rho]})
        n = int(explanation.params[budget.name])
        cap = int(budget.max) if budget.max is not None else n * 2 ** doublings
        budgets, rhos = [n], []
        current = class_map(explanation)
        for d in range(doublings):
            nxt = 2 * budgets[-1]
            if nxt > cap:
                break

            def step(f, msg, d=d, nxt=nxt):
                if progress is not None:
                    progress((d + f) / doublings, f"{budget.name} = {nxt:,}: {msg}")

            m = rerun(model, image, explanation, progress=step, **{budget.name: nxt})
            rhos.append(spearman(current, m))
            budgets.append(nxt)
            current = m
        recommended = None  # the smallest budget from which every pair tried agrees
        for k in range(len(rhos) - 1, -1, -1):
            if not (np.isfinite(rhos[k]) and rhos[k] >= agreement):
                break
            recommended = budgets[k]
        value = rhos[0] if rhos else float("nan")
        details = {"budget_param": budget.name, "budgets": budgets, "spearman": rhos, "recommended": recommended}
        if recommended == n:
            return self.result(value, "pass", threshold,
                               f"Converged: {budget.name} = {n:,} gives the same map as up to {budgets[-1]:,}.",
                               details)
        if recommended is not None:
            return self.result(value, "warn", threshold,
                               f"Not converged at {n:,}; use {budget.name} = {recommended:,}.", details)
        return self.result(value, "fail", threshold,
                           f"Not converged even at {budgets[-1]:,}; use {budget.name} above {budgets[-1]:,}.",
                           details)
