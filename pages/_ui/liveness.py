"""Work for a closed browser tab stops: a stop flag that is set once this session is gone.

Streamlit stops a session's script at its next Streamlit call when the browser disconnects, but the
long stretches between calls (a forward pass over a dataset, a SHAP run inside a cached function) went
on computing for nobody: the red team's closed tab kept the server busy. ``xai_core.cancel`` already
checks a stop flag between batches; this module gives it one that reads the session's liveness from
Streamlit's runtime (``Runtime.is_active_session``, thread-safe), so ``xai_core`` stays free of
Streamlit. ``app.py`` runs every page under it.
"""

from __future__ import annotations


class SessionGone:
    """``is_set()`` is True once the browser session that created this object is no longer connected.

    Duck-typed like ``threading.Event`` for ``xai_core.cancel.stop_on``; outside a served session
    (AppTest, bare mode) it is never set."""

    def __init__(self, session_id: str | None):
        self.session_id = session_id

    def is_set(self) -> bool:
        if self.session_id is None:
            return False
        from streamlit.runtime import Runtime

        if not Runtime.exists():
            return False
        return not Runtime.instance().is_active_session(self.session_id)


def this_session() -> SessionGone:
    """The flag of the session whose script is running now."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return SessionGone(ctx.session_id if ctx is not None else None)
