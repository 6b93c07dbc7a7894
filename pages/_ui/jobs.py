"""Long computations that start on a button, can be stopped, and keep what finished.

Streamlit stops a running script when the user triggers a rerun (any click), at the script's next
Streamlit call; the "Stop" button drawn while ``run_steps`` works is such a click. Each finished
step's result is kept in ``st.session_state`` at once, so after a stop the page still shows it.
A step may also stop itself by raising ``xai_core.errors.Cancelled`` (e.g. from a progress callback
at a time limit): the same thing happens.
"""

from __future__ import annotations

import contextlib
from typing import Callable

import streamlit as st

from xai_core.errors import Cancelled


def run_steps(key: str, request: dict, steps: list[tuple[str, Callable[[], object]]], start: bool) -> dict | None:
    """Run ``steps`` ((name, fn) pairs) when ``start``; return the kept state for ``key``.

    State: ``request`` (the settings it is for), ``done`` ({name: result}, in order), ``names`` (every
    step), ``stopped`` (True when it ended before every step finished)."""
    state = st.session_state.get(key)
    if state is not None and state.get("running"):
        state["running"], state["stopped"] = False, True  # the run that was computing was interrupted
    if not start:
        return state
    old = state if state is not None and state["request"] == request else None
    state = {"request": request, "names": [n for n, _ in steps], "running": True, "stopped": False,
             "done": dict(old["done"]) if old else {}}  # resume: finished steps are not redone
    st.session_state[key] = state
    holder = st.empty()
    holder.button("Stop", key=f"{key}_stop", icon=":material/stop_circle:",
                  help="Stop now; what has finished stays shown, and pressing the start button again resumes.")
    try:
        for name, fn in steps:
            if name not in state["done"]:
                state["done"][name] = fn()
    except Cancelled:
        state["stopped"] = True
    state["running"] = False
    holder.empty()
    return state


def stopped_note(state: dict, what: str, button: str) -> None:
    if state.get("stopped"):
        st.warning(f"Stopped: {len(state['done'])} of {len(state['names'])} {what} finished and are shown. "
                   f"Press **{button}** to finish the rest (the finished ones are not recomputed).",
                   icon=":material/stop_circle:")


def keep(key: str, default) -> None:
    """Make widget ``key`` keep its value across page changes (Streamlit drops the state of widgets a
    page does not draw). Call before drawing the widget, and draw it WITHOUT a default."""
    kept = st.session_state.setdefault("_kept", {})
    if key not in st.session_state:
        st.session_state[key] = kept.get(key, default)
    kept[key] = st.session_state[key]


def remember(*keys: str) -> None:
    """Save the widgets' current values (call after drawing them)."""
    kept = st.session_state.setdefault("_kept", {})
    for k in keys:
        if k in st.session_state:
            kept[k] = st.session_state[k]


def _mark_stopped(key: str) -> None:
    st.session_state[f"{key}_stopped"] = True


@contextlib.contextmanager
def stoppable(key: str):
    """Draw a Stop button while the block computes (for pages whose result is kept only once complete).

    Pressing it reruns the page, which ends the block at its next Streamlit call; the page goes on
    showing what it showed before, and every explanation that finished is in the disk cache, so
    starting again resumes where it stopped. ``was_stopped(key)`` tells the rerun it was a stop."""
    holder = st.empty()
    holder.button("Stop", key=f"{key}_stop", icon=":material/stop_circle:", on_click=_mark_stopped, args=(key,),
                  help="Stop now. What is shown stays; starting again reuses every run that finished.")
    try:
        yield
    finally:
        holder.empty()


def was_stopped(key: str, button: str) -> bool:
    """True (and says so on the page) in the rerun that the Stop button of ``stoppable(key)`` caused."""
    if not st.session_state.pop(f"{key}_stopped", False):
        return False
    st.warning(f"Stopped. What is shown is from before; press **{button}** to go on (the explanations that "
               "finished are kept and not recomputed).", icon=":material/stop_circle:")
    return True
