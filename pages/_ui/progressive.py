"""Progressive maps on a page: a coarse map within about a second, sharpened step by step.

``xai_core.progressive`` runs a sampling method at a short schedule of budgets; this draws every step
as it arrives, says how much it agrees with the step before (the convergence check's quantity), and
offers a Stop button above the maps. Stopping is a rerun: the finer steps are simply never computed.
Every finished step is kept in ``st.session_state`` as it arrives, so the rerun that the Stop click
causes can show the latest step that finished for every job (``stopped_refinement``), not whatever the
page showed before. The last step is the one-shot map, bit for bit, so the page's final result does not
depend on having watched it sharpen.
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


def _state_key(key: str) -> str:
    return f"{key}_steps"


def refine(model_name: str, image: np.ndarray, jobs: list[dict], draw: Callable[[int, xc.Explanation], None],
           key: str, request: dict | None = None, places: Callable[[], None] | None = None) -> list[xc.Explanation]:
    """Run ``jobs`` (``explain`` keyword arguments) progressively, interleaved step by step.

    The Stop button and the status line are drawn first, at the top of the running work; then
    ``places()`` (if given) lays out the page's placeholders below them. After every step
    ``draw(j, explanation)`` is called for the job that advanced (draw it into that job's own placeholder),
    and the step is kept under ``key`` with ``request`` so that a Stop leaves it to ``stopped_refinement``.
    Returns the final explanations (the one-shot maps)."""
    lm = cached.model(model_name)
    status = st.empty()
    stop = st.empty()
    stop.button("Stop", key=f"{key}_stop", icon=":material/stop_circle:",
                help="Stop refining: the latest step that finished stays shown; press the start button again "
                     "to go on (finished steps come from the cache).")
    if places is not None:
        places()
    gens = [explain_progressive(lm, image, **{k: v for k, v in job.items() if k != "title"}) for job in jobs]
    kept = st.session_state[_state_key(key)] = {"request": request, "running": True,
                                                "steps": [[] for _ in jobs]}
    pending = list(range(len(jobs)))
    while pending:
        for j in list(pending):
            try:
                step = next(gens[j])
            except StopIteration:
                pending.remove(j)
                continue
            kept["steps"][j].append(step)
            draw(j, step.explanation)
            status.caption(f"{jobs[j].get('title', jobs[j]['method'])}: step {step.index + 1} of {step.total} "
                           f"({step.budget:,}) · {agreement_words(step.agreement)}")
    kept["running"] = False
    status.empty()
    stop.empty()
    return [steps[-1].explanation for steps in kept["steps"]]


def stopped_refinement(key: str) -> dict | None:
    """What a run of ``refine(key=...)`` had finished when it was interrupted (by its Stop button), once.

    Returns None when no run was interrupted, else ``{"request", "explanations", "index", "total", "budget"}``:
    the latest step that every job finished (so the maps shown side by side share one
    budget), or ``explanations`` None when a job had not finished even its first step."""
    kept = st.session_state.get(_state_key(key))
    if not kept or not kept["running"]:
        return None
    kept["running"] = False
    done = min(len(steps) for steps in kept["steps"])
    if done == 0:
        return {"request": kept["request"], "explanations": None, "index": 0, "total": None,
                "budget": 0}
    last = [steps[done - 1] for steps in kept["steps"]]
    total = last[0].total
    return {"request": kept["request"], "explanations": [s.explanation for s in last], "index": done,
            "total": total, "budget": last[0].budget}


def stopped_words(partial: dict, unit: str, button: str) -> str:
    """One line saying how far a stopped refinement got."""
    if partial["explanations"] is None:
        return f"Stopped before the first step finished, so there is no map for these settings yet. Press **{button}**."
    return (f"Stopped after step {partial['index']} of {partial['total']}: these maps use {partial['budget']:,} "
            f"{unit} (a coarser map than the finished one). Press **{button}** to finish "
            "(the finished steps come from the cache).")
