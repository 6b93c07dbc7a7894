"""What a user hits on the first day (issue 28), where the state lives in Streamlit: AppTest."""

import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

TIMEOUT = 300


def _labelled(widgets, start: str):
    return next(w for w in widgets if w.label.startswith(start))


def test_stop_during_refinement_keeps_the_latest_finished_step_of_the_new_scan(monkeypatch):
    """Stop while SHAP sharpens the maps of a new scan: the page keeps that scan's latest finished step and
    says how far it got, instead of going back to the previous scan's maps."""
    import pages._ui.progressive as progressive

    at = AppTest.from_file(str(ROOT / "pages/shap_margin_vs_probability.py"), default_timeout=TIMEOUT)
    at.session_state["_w_index"] = 0
    at.run()
    assert not at.exception and not at.error
    assert at.session_state["shap_mvp_result"]["request"]["scan"]["index"] == 0

    real = progressive.explain_progressive

    def stops_at_the_second_step(*args, **kwargs):
        # (no disk cache: a final map cached by an earlier test run would be served at once, in one step)
        for i, step in enumerate(real(*args, **{**kwargs, "cache": None})):
            if i == 1:
                st.stop()  # what a Stop click does: the script ends at its next Streamlit call
            yield step

    monkeypatch.setattr(progressive, "explain_progressive", stops_at_the_second_step)
    at.number_input(key="_w_index").set_value(5)
    _labelled(at.slider, "max_evals").set_value(400)  # max_evals: a schedule of 100, then 400
    _labelled(at.button, "Explain").click().run()  # Explain (the form's submit button)
    monkeypatch.setattr(progressive, "explain_progressive", real)
    at.run()  # the rerun the Stop click causes
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = at.session_state["shap_mvp_result"]
    assert shown["request"]["scan"]["index"] == 5, "went back to the previous scan's maps"
    assert shown["margin"].params["max_evals"] == 100 and shown["probability"].params["max_evals"] == 100
    assert any("Stopped after step 1 of 2" in w.value and "100" in w.value for w in at.warning), \
        [w.value for w in at.warning]
    assert any("100 evaluations per map" in c.value for c in at.caption)
    assert not any("previous settings" in c.value for c in at.caption)
    at.run()  # any later rerun (a toggle) still shows the stopped maps and says so
    assert at.session_state["shap_mvp_result"]["request"]["scan"]["index"] == 5
    assert any("Stopped after step 1 of 2" in w.value for w in at.warning)
