"""The Your scan upload in AppTest: its DICOM window, the upload as a first-class scan on every page, choices
kept across pages, and work that stops and goes on (first asked for in issue 11)."""

import numpy as np
from streamlit.testing.v1 import AppTest

from tests import files
from tests.conftest import ROOT
from tests.tables import cut_off

TIMEOUT = 300


def _upload(at, name):
    data = files.pydicom_file(name).read_bytes()
    return at.file_uploader(key="scan_upload").set_value((name, data, "application/dicom")).run()


def _caption(at, words):
    return any(words in c.value for c in at.caption)


def test_new_upload_resets_the_window_to_the_files_own():
    """CT_small -> bone preset -> MR_small: label, caption, pixels and model input all use MR's own window."""
    from xai_core.data.images import read_scan

    at = AppTest.from_file(str(ROOT / "pages/your_scan.py"), default_timeout=TIMEOUT)
    at.session_state["scan_shap-partition_max_evals"] = 300
    _upload(at.run(), "CT_small.dcm")
    at.selectbox(key="scan_window").set_value("bone").run()
    assert not at.exception and not at.error
    assert _caption(at, "window bone: centre 400, width 1800")
    _upload(at, "MR_small.dcm")
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.selectbox(key="scan_window").value == "from the file"
    assert _caption(at, "window from the file: centre 600, width 1600")
    assert not _caption(at, "centre 400")
    _, mr = read_scan(files.pydicom_file("MR_small.dcm").read_bytes(), "MR_small.dcm")
    stored = at.session_state["uploaded_scan"]
    assert stored["window"] == (600.0, 1600.0)
    np.testing.assert_array_equal(stored["image"], mr.render((600.0, 1600.0)))  # what the model is given


def test_the_upload_survives_page_changes_and_opens_on_shap():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    at.switch_page("pages/your_scan.py").run()
    at.session_state["scan_shap-partition_max_evals"] = 300
    _upload(at, "MR_small.dcm")
    at.selectbox(key="scan_window").set_value("brain").run()
    assert not at.exception and not at.error
    at.switch_page("pages/home.py").run()
    at.switch_page("pages/your_scan.py").run()
    assert not at.exception and not at.error
    assert not any("Upload a scan to begin" in i.value for i in at.info)
    assert _caption(at, "uploaded earlier in this session")
    assert at.selectbox(key="scan_window").value == "brain"  # the window chosen before is kept too
    assert _caption(at, "window brain: centre 40, width 80")
    at.session_state["scan_source"] = "upload"  # what "Open in SHAP" sets before switching
    at.switch_page("pages/shap_margin_vs_probability.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.radio(key="_w_source").value == "upload"
    assert any("less like" in w.value for w in at.warning)  # a real MR is not the synthetic brain MRI
    assert "shap_mvp_result" not in at.session_state  # collapsed: nothing computed until asked
    next(t for t in at.toggle if t.key.startswith("shap_show_anyway_")).set_value(True).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = at.session_state["shap_mvp_result"]
    assert shown["request"]["scan"]["upload"] == at.session_state["uploaded_scan"]["sha"]
    assert shown["true"] is None and shown["request"]["label"].startswith("your scan MR_small.dcm, window brain")


def test_compare_keeps_its_selections_across_pages_starts_on_a_button_and_shows_what_finished():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    at.switch_page("pages/compare_architectures.py").run()
    at.multiselect(key="cmp_models_synthetic-brain-mri").set_value(["brain-basic-cnn", "lung-basic-cnn"])
    at.multiselect(key="cmp_images_synthetic-brain-mri").set_value([2])
    at.number_input(key="cmp_shap-partition_max_evals").set_value(300)
    at.radio(key="cmp_output").set_value("margin").run()
    assert not at.exception and not at.dataframe  # nothing heavy before the button
    at.button(key="cmp_start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert len(at.dataframe[0].value) == 2
    assert not cut_off(at.dataframe[0])  # the focus column (issue 11): the canvas grid clips nothing
    at.switch_page("pages/home.py").run()
    at.switch_page("pages/compare_architectures.py").run()
    assert not at.exception and not at.error
    assert at.multiselect(key="cmp_models_synthetic-brain-mri").value == ["brain-basic-cnn", "lung-basic-cnn"]
    assert at.multiselect(key="cmp_images_synthetic-brain-mri").value == [2]
    assert at.number_input(key="cmp_shap-partition_max_evals").value == 300
    assert at.radio(key="cmp_output").value == "margin"
    assert len(at.dataframe[0].value) == 2  # the finished result is still shown
    # a run interrupted after its first model (Stop is a rerun: the script ends mid-way) keeps that model
    state = at.session_state["cmp_result"]
    state["done"].pop("lung-basic-cnn")
    state["running"] = True
    at.run()
    assert not at.exception and not at.error
    assert any("Stopped: 1 of 2 models finished" in w.value for w in at.warning)
    assert list(at.dataframe[0].value["model"]) == ["brain-basic-cnn"]
    at.button(key="cmp_start").click().run()  # resumes: the finished model is reused
    assert not at.warning and len(at.dataframe[0].value) == 2


def test_steps_stop_on_cancelled_and_keep_what_finished():
    """A step raising Cancelled (a progress callback at Stop or a time limit) ends the run, keeping results."""
    at = AppTest.from_string('''
import streamlit as st
from pages._ui.jobs import run_steps, stopped_note
from xai_core.errors import Cancelled

def cancel():
    raise Cancelled("stopped")

state = run_steps("k", {"a": 1}, [("one", lambda: 1), ("two", cancel), ("three", lambda: 3)], start=True)
stopped_note(state, "steps", "Go")
st.write(sorted(state["done"].items()))
''', default_timeout=60).run()
    assert not at.exception
    assert any("Stopped: 1 of 3 steps finished" in w.value for w in at.warning)
    assert at.session_state["k"]["done"] == {"one": 1} and not at.session_state["k"]["running"]


def test_compare_exports_describe_themselves():
    import pandas as pd

    from pages._ui.render import export_html

    html = export_html("Compare architectures: a, b on d", {"masker": "blur(20,20)", "seed": 7},
                       pd.DataFrame({"model": ["a"], "focus": [0.5]}))
    assert "<title>Compare architectures: a, b on d</title>" in html and "<h1>" in html
    assert "<th>masker</th><td>blur(20,20)</td>" in html and "<th>seed</th><td>7</td>" in html
    assert "<td>a</td>" in html and "<td>0.5</td>" in html  # the table itself


def test_methods_stop_keeps_the_finished_maps_and_go_on_finishes_the_rest():
    at = AppTest.from_file(str(ROOT / "pages/methods.py"), default_timeout=TIMEOUT)
    at.session_state["methods_set"] = ["saliency", "grad-cam", "integrated-gradients"]
    at.run()
    assert not at.exception and len(at.dataframe[0].value) == 3
    # a Stop click reruns the page while it computes: the same settings, the run still marked as running
    state = at.session_state["methods_result"]
    state["done"].pop("integrated-gradients")
    state["running"] = True
    at.session_state["methods_result"] = state
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Stopped: 2 of 3 methods" in w.value for w in at.warning), [w.value for w in at.warning]
    assert list(at.dataframe[0].value["method"]) == ["Saliency (gradient)", "Grad-CAM"]  # what finished stays
    at.button(key="methods_go_on").click().run()
    assert not at.warning and len(at.dataframe[0].value) == 3


def test_lime_and_trust_pages_stop_and_say_how_to_go_on():
    for page, key, button, result in (("lime_segmenters.py", "lime", "Explain with every segmenter",
                                       "lime_segmenters_result"),
                                      ("trust.py", "trust", "Evaluate", "trust_page_result"),
                                      ("cross_domain.py", "cd", "Explain the examples", None)):
        at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=TIMEOUT)
        at.session_state[f"{key}_stopped"] = True  # what the Stop button's callback sets for the rerun it causes
        at.run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        assert any(w.value.startswith("Stopped.") and button in w.value for w in at.warning), page
        assert f"{key}_stopped" not in at.session_state  # said once
        if result:
            assert result not in at.session_state  # a stopped first view does not start over by itself
        else:  # Cross-domain: the maps wait for the button, the rest of the page is there
            assert at.button(key="cd_go_on") and not [c for c in at.get("plotly_chart") if c.key == "cd_maps"]
            assert any(s.value.startswith("4.") for s in at.subheader)
            at.button(key="cd_go_on").click().run()
            assert not at.exception and not at.error and not at.warning
            assert any("one colour scale for all panels" in c.value for c in at.caption)


def _clipping_table():
    import pandas as pd
    import streamlit as st

    st.dataframe(pd.DataFrame({"verdict": ["somewhat unstable", "stable"], "focus": [0.123, 0.5],
                               "note": ["auto-sized columns fit their longest text", ""]}),
                 hide_index=True, column_config={"verdict": st.column_config.TextColumn(width="small"),
                                                 "focus": st.column_config.NumberColumn(format="%.3f",
                                                                                        width="small")})


def test_the_cut_off_check_sees_what_a_fixed_width_canvas_column_clips():
    at = AppTest.from_function(_clipping_table).run()
    cut = [(c, t) for c, t, *_ in cut_off(at.dataframe[0])]
    assert cut == [("verdict", "somewhat unstable")], cut  # 75 px clips it; "stable", "0.123" and auto widths fit
