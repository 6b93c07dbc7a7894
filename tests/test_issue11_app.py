"""Issue 11 in AppTest: the DICOM window, the upload as a first-class scan, state kept across pages."""

import numpy as np
from streamlit.testing.v1 import AppTest

from tests import files
from tests.conftest import ROOT

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
    at.session_state["scan_evals"] = 300
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
    at.session_state["scan_evals"] = 300
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
    shown = at.session_state["shap_mvp_result"]
    assert shown["request"]["scan"]["upload"] == at.session_state["uploaded_scan"]["sha"]
    assert shown["true"] is None and shown["request"]["label"].startswith("your scan MR_small.dcm, window brain")
