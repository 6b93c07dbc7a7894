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

**Calibrated verdict** (issue 22). Each agreement carries a 95% interval
from a block bootstrap over the map's own blocks (``_spatial.bootstrap``:
neighbouring pixels are not independent, so a pixel-count interval would be
far too narrow) and is read against chance, the agreement of the map with
its own blocks shuffled (``_spatial.chance``). A pair *agrees* when its
interval lies wholly at or above ``agreement`` and *differs* when wholly
below. The recommended budget is found twice, once counting undecided pairs
as agreeing and once as differing; when the two readings give different
verdicts the result is ``inconclusive`` and names the budget that is safe
under both.
"""

from __future__ import annotations

import numpy as np

from ..agreement import spearman
from ..params import Param
from . import Metric, class_map, register
from ._evidence import judge
from ._rerun import rerun
from ._spatial import bootstrap, chance, rank_terms, spearman_of

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


def agreement_interval(a: np.ndarray, b: np.ndarray, seed: int = 0) -> tuple[float, float, float]:
    """(Spearman of two maps, its 95% block-bootstrap interval); NaN where either map is constant."""
    rho = spearman(a, b)
    if not np.isfinite(rho):
        return rho, float("nan"), float("nan")
    low, high = bootstrap(rank_terms(a, b), spearman_of, seed)
    return rho, min(low, rho), max(high, rho)


def chance_band(m: np.ndarray, seed: int = 0) -> float:
    """The 97.5th percentile of the agreement of ``m`` with its own blocks shuffled: unrelated maps."""
    rhos = chance(m, m, spearman, seed)
    rhos = rhos[np.isfinite(rhos)]
    return float(np.percentile(rhos, 97.5)) if rhos.size else 0.0


def recommended(budgets: list[int], agrees: list[bool]) -> int | None:
    """The smallest budget from which every pair tried agrees (None: not even the last pair)."""
    rec = None
    for k in range(len(agrees) - 1, -1, -1):
        if not agrees[k]:
            break
        rec = budgets[k]
    return rec


def _verdict(rec: int | None, n: int) -> str:
    return "pass" if rec == n else "warn" if rec is not None else "fail"


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
    version = 2
    rule = ("a pair (map at B, map at 2B) agrees when the 95% block-bootstrap interval of its Spearman correlation "
            "lies all >= 0.9, differs when all below. pass: every pair from the budget used agrees; warn: from a "
            "larger budget; fail: at none; inconclusive: undecided pairs change that reading (the card names the "
            "budget safe either way). Seeded methods without a budget: two seeds, pass when the interval is all "
            ">= 0.9, fail when no better than the map's own blocks shuffled")
    why = ("A sampled map at too small a budget is coarse while still additive (FIELD_NOTES: 0.49 at 1,000 "
           "evaluations); neighbouring pixels move together, so the interval resamples blocks, not pixels.")
    params = (
        Param("agreement", 0.9, "Spearman correlation between the maps at N and 2N that counts as converged.",
              float, min=0.0, max=1.0),
        Param("doublings", 3, "How many times the budget is doubled (N, 2N, 4N, ...).", int, min=1, max=10),
    )

    def evaluate(self, model, image, explanation, mask, progress=None, *, agreement, doublings):
        from ..explainers import EXPLAINERS

        cls = EXPLAINERS.get(explanation.method)
        budget = budget_param(cls)
        threshold = (f"pass: the 95% interval of Spearman(map at B, map at 2B) all >= {agreement:.3g} for every B "
                     "from the budget used")
        if budget is None:
            seeded = "seed" in explanation.params
            if not seeded:
                return self.not_applicable(f"{cls.display_name} is deterministic; there is nothing to converge")
            seed = int(explanation.params["seed"])
            other = rerun(model, image, explanation, seed=seed + 1, progress=progress)
            rho, low, high = agreement_interval(class_map(explanation), other)
            band = chance_band(class_map(explanation))
            verdict = judge(rho, low, high, np.isfinite(low) and low > band, agreement)
            meaning = "Two seeds give " + {"pass": "the same map.", "warn": "noticeably different maps.",
                                           "fail": "maps as unrelated as shuffled ones.",
                                           "inconclusive": "maps that agree about as much as the line asks.",
                                           "n/a": "a constant map."}[verdict]
            meaning += f" (Spearman {rho:.2f}, 95% interval {low:.2f} to {high:.2f}; unrelated maps reach {band:.2f}.)"
            return self.result(rho, verdict, f"pass: Spearman(two seeds) 95% interval all >= {agreement:.3g}; fail: "
                               f"not above {band:.3g} (unrelated maps)", meaning,
                               {"seeds": [seed, seed + 1], "spearman": [rho], "low": [low], "high": [high],
                                "chance_band": band}, chance=0.0, low=low, high=high)
        n = int(explanation.params[budget.name])
        cap = int(budget.max) if budget.max is not None else n * 2 ** doublings
        budgets, rhos, lows, highs = [n], [], [], []
        current = class_map(explanation)
        for d in range(doublings):
            nxt = 2 * budgets[-1]
            if nxt > cap:
                break

            def step(f, msg, d=d, nxt=nxt):
                if progress is not None:
                    progress((d + f) / doublings, f"{budget.name} = {nxt:,}: {msg}")

            m = rerun(model, image, explanation, progress=step, **{budget.name: nxt})
            rho, low, high = agreement_interval(current, m)
            rhos.append(rho), lows.append(low), highs.append(high)
            budgets.append(nxt)
            current = m
        sure = recommended(budgets, [np.isfinite(lo) and lo >= agreement for lo in lows])  # undecided: differ
        hope = recommended(budgets, [np.isfinite(hi) and hi >= agreement for hi in highs])  # undecided: agree
        verdict = _verdict(sure, n)
        if _verdict(hope, n) != verdict:
            verdict = "inconclusive"
        value = rhos[0] if rhos else float("nan")
        band = chance_band(class_map(explanation))
        details = {"budget_param": budget.name, "budgets": budgets, "spearman": rhos, "low": lows, "high": highs,
                   "recommended": sure, "chance_band": band}
        low, high = (lows[0], highs[0]) if rhos else (None, None)
        safe = sure if sure is not None else 2 * budgets[-1]
        if verdict == "inconclusive":
            details["to_decide"] = safe
            return self.result(value, verdict, threshold,
                               f"Perhaps converged: the maps agree about as much as the line asks ({value:.2f}, 95% "
                               f"interval {low:.2f} to {high:.2f}); {budget.name} = {safe:,} is safe either way.",
                               details, chance=0.0, low=low, high=high)
        if verdict == "pass":
            return self.result(value, "pass", threshold,
                               f"Converged: {budget.name} = {n:,} gives the same map as up to {budgets[-1]:,}.",
                               details, chance=0.0, low=low, high=high)
        if verdict == "warn":
            return self.result(value, "warn", threshold,
                               f"Not converged at {n:,}; use {budget.name} = {sure:,}.", details, chance=0.0,
                               low=low, high=high)
        unrelated = " (the maps at successive budgets are as unrelated as shuffled ones)" \
            if rhos and np.isfinite(highs[-1]) and highs[-1] <= band else ""
        return self.result(value, "fail", threshold,
                           f"Not converged even at {budgets[-1]:,}; use {budget.name} above {budgets[-1]:,}"
                           f"{unrelated}.", details, chance=0.0, low=low, high=high)
