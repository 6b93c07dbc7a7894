"""AppTest: the "Download report" widget builds on click, de-identified unless ticked for that one report."""

import re

import pydicom
from streamlit.testing.v1 import AppTest

from tests import files
from tests.conftest import ROOT

TIMEOUT = 300
LEAKS = ("DOE^JANE", "12345", "Ridgeview General Infirmary")


def _dicom_bytes(tmp_path) -> bytes:
    ds = pydicom.dcmread(files.pydicom_file("CT_small.dcm"))
    ds.PatientName, ds.PatientID, ds.InstitutionName = "DOE^JANE", "12345", "Ridgeview General Infirmary"
    ds.save_as(tmp_path / "x.dcm")
    return (tmp_path / "x.dcm").read_bytes()


def _text(html: bytes) -> str:
    return re.sub(rb"data:image/png;base64,[A-Za-z0-9+/=]+", b"", html).decode()


def test_your_scan_builds_a_de_identified_report_on_click_and_identifiers_only_when_ticked(tmp_path):
    at = AppTest.from_file(str(ROOT / "pages/your_scan.py"), default_timeout=TIMEOUT)
    at.session_state["scan_shap-partition_max_evals"] = 300
    at.run()
    at.file_uploader[0].set_value(("DOE_JANE_12345.dcm", _dicom_bytes(tmp_path), "application/dicom")).run()
    # a CT is out of domain: its maps are hidden until asked for, for this scan
    next(t for t in at.toggle if t.key.startswith("scan_show_anyway_")).set_value(True).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "scan_report_built" not in at.session_state  # nothing is built before the click
    at.button(key="scan_report_build").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    built = at.session_state["scan_report_built"]
    assert built["pdf"][:5] == b"%PDF-" and re.fullmatch(r"xai-case-[0-9a-f]{12}", built["stem"])
    html = _text(built["html"])
    for leak in LEAKS:
        assert leak not in html and leak not in built["stem"]
    assert "brain-basic-cnn" in html and "outside this model" in html and "python -m xai_core report" in html
    assert "window centre" in html  # the window the page used (CT_small stores none: the full range)
    # tick "include identifiers": that report has them, and the tick is gone afterwards
    at.run()  # the next rerun shows a fresh, unticked box
    at.checkbox(key="scan_report_ids_1").check().run()
    at.button(key="scan_report_build").click().run()
    assert not at.exception and not at.error
    html = _text(at.session_state["scan_report_built"]["html"])
    assert all(v in html for v in LEAKS)
    assert at.session_state["scan_report_ids_round"] == 2 and not at.checkbox(key="scan_report_ids_2").value
