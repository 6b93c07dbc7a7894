"""Progressive maps: a coarse map at once, refined in steps up to the chosen budget.

Sampling methods (SHAP Partition, LIME, RISE, superpixel Kernel SHAP) get
finer with their budget (``max_evals``, ``num_samples``, masks): a small
budget gives a coarse but honest map in a fraction of the time. This module
runs the same method at a short schedule of budgets, smallest first, so a
page can draw a map within about a second and then sharpen it.

Viewing never changes results: every step is an ordinary ``explain`` call
with the same seed and parameters, and the last step *is* the one-shot call
at the full budget (same computation, same cache entry), so the final map is
bit for bit the map a non-progressive caller gets. With the default schedule
(ratio 4, three steps) the extra compute for the early steps is
1/16 + 1/4 = 31% of the final step.

Each step reports its agreement with the previous one: the Spearman rank
correlation of the two maps (mean over the explained classes), the same
quantity the convergence check uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from .agreement import spearman
from .errors import InputError
from .explanation import Explanation
from .params import Progress

DEFAULT_RATIO = 4
DEFAULT_STEPS = 3
SMALLEST_BUDGET = 50  # below this a sampling map is mostly noise, whatever the method allows


@dataclass
class Step:
    explanation: Explanation
    budget: int
    index: int  # 0-based position in the schedule
    total: int  # number of steps in the schedule
    agreement: float | None  # Spearman rank correlation with the previous step's map; None for the first

    @property
    def final(self) -> bool:
        return self.index == self.total - 1


def budget_param(method: str):
    """The ``Param`` that sets ``method``'s sampling budget, or None when the method does not sample."""
    from .explainers import EXPLAINERS

    cls = EXPLAINERS.get(method)
    name = getattr(cls, "budget_param", None)
    if not name:
        return None
    return next(p for p in cls.params if p.name == name)


def schedule(budget: int, minimum: int = SMALLEST_BUDGET, ratio: int = DEFAULT_RATIO,
             steps: int = DEFAULT_STEPS) -> list[int]:
    """Budgets to run, ascending, ending at ``budget``: budget / ratio^k for k = steps-1 .. 0, above ``minimum``."""
    budget, ratio, steps = int(budget), int(ratio), int(steps)
    if ratio < 2 or steps < 1:
        raise InputError("A progressive schedule needs a ratio of at least 2 and at least one step.")
    out = [budget]
    b = budget
    while len(out) < steps:
        b //= ratio
        if b < minimum:
            break
        out.append(b)
    return sorted(set(out))


def overhead(budgets: list[int]) -> float:
    """Compute for the whole schedule relative to the final step alone (budgets are roughly linear in cost)."""
    return float(sum(budgets)) / float(budgets[-1])


def rank_agreement(a: Explanation, b: Explanation) -> float:
    """Mean over classes of the Spearman rank correlation between two explanations' maps (NaN if a map is flat)."""
    rs = [spearman(a.map(k), b.map(k)) for k in range(min(len(a.class_indices), len(b.class_indices)))]
    return float(np.nanmean(rs)) if rs and not np.all(np.isnan(rs)) else float("nan")


def explain_progressive(model, image: np.ndarray, method: str = "shap-partition", output: str = "margin",
                        ratio: int = DEFAULT_RATIO, steps: int = DEFAULT_STEPS, progress: Progress | None = None,
                        **kwargs) -> Iterator[Step]:
    """Yield ``Step``s of ``explain(model, image, method, output, **kwargs)`` at growing budgets.

    ``kwargs`` are ``explain``'s (``top_k``/``classes``, ``cache``, method parameters); the method's budget
    parameter (e.g. ``max_evals``) sets the final budget, its default when absent. A method that does not
    sample yields its one map as a single final step. Stopping the iteration early (a Stop button) simply
    leaves the finer steps uncomputed.
    """
    from .api import explain
    from .models import as_model

    lm = as_model(model)
    p = budget_param(method)
    if p is None:
        yield Step(explain(lm, image, method=method, output=output, progress=progress, **kwargs), 0, 0, 1, None)
        return
    final = int(kwargs.pop(p.name, None) or p.default)
    done_before = explain(lm, image, method=method, output=output, cached_only=True, **{p.name: final}, **kwargs)
    if done_before is not None:  # the final map is in the cache: nothing to refine, show it at once
        if progress is not None:
            progress(1.0, "served from cache")
        yield Step(done_before, final, 0, 1, None)
        return
    budgets = schedule(final, minimum=max(int(p.min or 1), SMALLEST_BUDGET), ratio=ratio, steps=steps)
    total_work = float(sum(budgets))
    done = 0.0
    previous = None
    for i, b in enumerate(budgets):
        def step_progress(f, msg, done=done, b=b, i=i):
            if progress is not None:
                progress(min(1.0, (done + f * b) / total_work), f"step {i + 1} of {len(budgets)} ({b:,}): {msg}")

        e = explain(lm, image, method=method, output=output, progress=step_progress, **{p.name: b}, **kwargs)
        yield Step(e, b, i, len(budgets), None if previous is None else rank_agreement(previous, e))
        previous = e
        done += b
