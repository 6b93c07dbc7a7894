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

from pages._ui.literal import lit
from xai_core.errors import Cancelled


def stop_slot():
    """The place of this page's Stop button, reserved just under the title (call it there): the settings
    between the title and the work (an open settings expander, an uploader) can push the work below the
    first screen of a 1280x720 projector, never the Stop. Pass it to ``run_steps`` or ``stoppable``."""
    return st.empty()


def _stop_button(holder, key: str, what: str, help: str, **on_click) -> Callable[[str], None]:
    """Stop, and beside it what is running (so a Stop at the top says which work below it ends). Returns a
    function that rewrites that line as the work goes on."""
    with holder.container():
        b, note = st.columns([1, 7], vertical_alignment="center")
        b.button("Stop", key=f"{key}_stop", icon=":material/stop_circle:", help=help, **on_click)
        line = note.empty()
    line.caption(what)
    return lambda text: line.caption(text)


def run_steps(key: str, request: dict, steps: list[tuple[str, Callable[[], object]]], start: bool,
              slot=None, what: str = "Working", titles: dict | None = None) -> dict | None:
    """Run ``steps`` ((name, fn) pairs) when ``start``; return the kept state for ``key``.

    State: ``request`` (the settings it is for), ``done`` ({name: result}, in order), ``names`` (every
    step), ``stopped`` (True when it ended before every step finished). The Stop button goes in ``slot``
    (``stop_slot``) when given, with ``what`` and the step running (by its ``titles`` entry) beside it."""
    state = st.session_state.get(key)
    if state is not None and state.get("running"):
        state["running"], state["stopped"] = False, True  # the run that was computing was interrupted
    if not start:
        return state
    old = state if state is not None and state["request"] == request else None
    state = {"request": request, "names": [n for n, _ in steps], "running": True, "stopped": False,
             "done": dict(old["done"]) if old else {}}  # resume: finished steps are not redone
    st.session_state[key] = state
    holder = slot if slot is not None else st.empty()
    say = _stop_button(holder, key, f"{what}…", "Stop now; what has finished stays shown, and pressing the start "
                                                "button again resumes.")
    try:
        for i, (name, fn) in enumerate(steps):
            if name not in state["done"]:
                say(f"{what}: {lit((titles or {}).get(name, name))} ({i + 1} of {len(steps)})…")
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
def stoppable(key: str, slot=None, what: str = "Working…"):
    """Draw a Stop button while the block computes (for pages whose result is kept only once complete), in
    ``slot`` (``stop_slot``) when given, with ``what`` beside it.

    Pressing it reruns the page, which ends the block at its next Streamlit call; the page goes on
    showing what it showed before, and every explanation that finished is in the disk cache, so
    starting again resumes where it stopped. ``was_stopped(key)`` tells the rerun it was a stop."""
    holder = slot if slot is not None else st.empty()
    _stop_button(holder, key, what, "Stop now. What is shown stays; starting again reuses every run that finished.",
                 on_click=_mark_stopped, args=(key,))
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
