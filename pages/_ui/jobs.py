"""Long computations that start on a button, can be stopped, and keep what finished.

Streamlit stops a running script when the user triggers a rerun (any click), at the script's next
Streamlit call; the "Stop" button drawn while ``run_steps`` works is such a click. Each finished
step's result is kept in ``st.session_state`` at once, so after a stop the page still shows it.
A step may also stop itself by raising ``xai_core.errors.Cancelled`` (e.g. from a progress callback
at a time limit): the same thing happens.
"""

from __future__ import annotations

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
