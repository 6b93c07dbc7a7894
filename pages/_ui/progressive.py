"""Progressive maps on a page: a coarse map within about a second, sharpened step by step.

``xai_core.progressive`` runs a sampling method at a short schedule of budgets; this draws every step
as it arrives, says how much it agrees with the step before (the convergence check's quantity), and
offers a Stop button. Stopping is a rerun: the finer steps are simply never computed, and the maps
shown so far stay on screen. The last step is the one-shot map, bit for bit, so the page's final
result does not depend on having watched it sharpen.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import streamlit as st

import xai_core as xc
from pages._ui import cached
from xai_core.progressive import explain_progressive


def agreement_words(rho: float | None) -> str:
    """The rank agreement between two successive steps, in words."""
    if rho is None or not np.isfinite(rho):
        return "first, coarse map"
    if rho >= 0.9:
        how = "the map has settled"
    elif rho >= 0.7:
        how = "the map is still sharpening"
    else:
        how = "the map is still changing a lot"
    return f"agreement with the previous step ρ = {rho:.2f}: {how}"


def refine(model_name: str, image: np.ndarray, jobs: list[dict], draw: Callable[[int, xc.Explanation], None],
           key: str) -> list[xc.Explanation]:
    """Run ``jobs`` (``explain`` keyword arguments) progressively, interleaved step by step.

    After every step ``draw(j, explanation)`` is called for the job that advanced (draw it into that
    job's own placeholder). Returns the final explanations (the one-shot maps)."""
    lm = cached.model(model_name)
    gens = [explain_progressive(lm, image, **{k: v for k, v in job.items() if k != "title"}) for job in jobs]
    latest: list = [None] * len(jobs)
    status = st.empty()
    stop = st.empty()
    stop.button("Stop", key=f"{key}_stop", icon=":material/stop_circle:",
                help="Stop refining: the maps shown so far stay; press the start button again to go on "
                     "(finished steps come from the cache).")
    pending = list(range(len(jobs)))
    while pending:
        for j in list(pending):
            try:
                step = next(gens[j])
            except StopIteration:
                pending.remove(j)
                continue
            latest[j] = step
            draw(j, step.explanation)
            status.caption(f"{jobs[j].get('title', jobs[j]['method'])}: step {step.index + 1} of {step.total} "
                           f"({step.budget:,}) · {agreement_words(step.agreement)}")
    status.empty()
    stop.empty()
    return [s.explanation for s in latest]
