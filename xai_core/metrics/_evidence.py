"""Verdicts from statistics: a value with its 95% interval, judged against chance for *this* model and scan.

A fixed cut-off on a sampled metric reads noise as evidence: faithfulness
correlation over 64 subsets has a seed-to-seed spread of 0.06-0.14, and the
deletion/insertion values of random maps on one scan spread by about 0.05,
so cut-offs of 0.1/0.02 put a third of random maps in "warn" (FIELD_NOTES).
Every sampled metric therefore reports

* ``value`` and a 95% interval ``[low, high]`` for it (its sampling error),
* a chance band: what a map blind to the question scores on this scan,

and reads its verdict from both (``judge``):

* ``pass``: better than chance with 95% confidence, and the whole interval
  is past the metric's bar;
* ``warn``: better than chance, but the whole interval is short of the bar;
* ``fail``: not better than chance (less than one standard error above it),
  and the interval is short of the bar;
* ``inconclusive``: the interval straddles the bar, or the value lies between
  one standard error and the 95% line above chance: a larger budget would
  decide, and the metric names it.

A metric whose budget can be raised does so while the verdict is
``inconclusive``, doubling up to a cost cap (``adaptive``).
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

Z95 = 1.959963984540054  # two-sided 95% normal quantile


def t95(dof: int) -> float:
    """Two-sided 95% quantile of Student's t with ``dof`` degrees of freedom (the normal one for large dof)."""
    from scipy.stats import t

    return float(t.ppf(0.975, dof)) if dof >= 1 else float("inf")


CHANCE_UNDECIDED_Z = 1.0  # a value this many standard errors above chance, but short of 95%, is undecided


def judge(value: float, low: float, high: float, beats_chance: bool, bar: float,
          chance_z: float | None = None) -> str:
    """The verdict of a higher-is-better value (see the module docstring); NaN is ``n/a``.

    ``chance_z``: the value's distance from chance in standard errors. Between ``CHANCE_UNDECIDED_Z`` and
    the 95% line, "not better than chance" is not shown either: a map whose true value sits just above
    chance would flip between warn and fail with the seed, so it reads inconclusive (and the budget grows).
    """
    if not all(np.isfinite(v) for v in (value, low, high)):
        return "n/a"
    if beats_chance and low >= bar:
        return "pass"
    if high < bar:
        if beats_chance:
            return "warn"
        return "inconclusive" if chance_z is not None and chance_z > CHANCE_UNDECIDED_Z else "fail"
    return "inconclusive"


def judge_lower(value: float, low: float, high: float, beats_chance: bool, bar: float,
                chance_z: float | None = None) -> str:
    """``judge`` for a lower-is-better value: pass when the whole interval is at or below ``bar``."""
    return judge(-value, -high, -low, beats_chance, -bar, chance_z)


def fisher_interval(r: float, n: int) -> tuple[float, float]:
    """95% interval of a Pearson correlation from ``n`` pairs by Fisher's z (Fisher 1915)."""
    if n <= 3 or not np.isfinite(r):
        return float("nan"), float("nan")
    z, se = math.atanh(min(max(r, -0.999999), 0.999999)), 1.0 / math.sqrt(n - 3)
    return math.tanh(z - Z95 * se), math.tanh(z + Z95 * se)


def fisher_pairs_to_decide(r: float, bar: float) -> int | None:
    """About how many pairs make the Fisher interval of ``r`` clear ``bar`` (None: r sits on the bar)."""
    gap = abs(math.atanh(min(max(r, -0.999999), 0.999999)) - math.atanh(bar))
    return None if gap < 1e-6 else int(math.ceil(3 + (Z95 / gap) ** 2))


def samples_to_decide(n: int, half_width: float, gap: float) -> int | None:
    """About how many samples shrink a 1/sqrt(n) interval of ``half_width`` under ``gap``."""
    return None if gap < 1e-9 or not np.isfinite(half_width) else int(math.ceil(n * (half_width / gap) ** 2))


def adaptive(evaluate: Callable[[int], dict], start: int, cap: int) -> dict:
    """``evaluate(budget)`` at ``start``, doubling the budget while the verdict is inconclusive, up to ``cap``.

    ``evaluate`` returns a dict with a ``verdict``; it may keep what it drew for a smaller budget (the
    larger budget only adds samples). The result carries ``budget`` and the list ``budgets`` tried.
    """
    budget, tried = int(start), []
    while True:
        out = evaluate(budget)
        tried.append(budget)
        if out["verdict"] != "inconclusive" or budget >= cap:
            out.update(budget=budget, budgets=tried)
            return out
        budget = min(2 * budget, int(cap))


def rule_text(bar: float, chance: str) -> str:
    """The threshold line a card shows: the bar and the chance test, in words."""
    return (f"pass: 95% interval all >= {bar:.3g} and better than chance ({chance}); warn: better than chance "
            f"but below {bar:.3g}; fail: not better than chance; inconclusive: the interval straddles {bar:.3g} or "
            "chance is neither ruled out nor likely")
