"""AppTest with file_uploader: scans, DICOM windows, bad files, and adding a model through the page."""

import numpy as np
from streamlit.testing.v1 import AppTest

import xai_core as xc
from tests import files
from tests.conftest import ROOT

TIMEOUT = 300


def _scan_page():
    at = AppTest.from_file(str(ROOT / "pages/your_scan.py"), default_timeout=TIMEOUT)
    at.session_state["scan_shap-partition_max_evals"] = 300
    return at.run()


def test_dicom_upload_shows_prediction_window_and_shap():
    at = _scan_page()
    assert not at.exception and any("Upload a scan" in i.value for i in at.info)
    data = files.pydicom_file("CT_small.dcm").read_bytes()
    at.file_uploader[0].set_value(("CT_small.dcm", data, "application/dicom")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.selectbox(key="scan_window").value == "full range"  # CT_small stores no window
    assert any("outside" in w.value.lower() for w in at.warning)  # a real CT is not the synthetic brain MRI
    assert not any("says **" in m.value for m in at.markdown)  # so the answer is collapsed (issue 11)
    next(t for t in at.toggle if t.key.startswith("scan_show_anyway_")).set_value(True).run()
    assert any("says **" in m.value for m in at.markdown)
    assert any("Additivity" in c.value for c in at.caption)
    at.selectbox(key="scan_window").set_value("lung").run()
    assert not at.exception and not at.error
    assert any("window lung: centre -600, width 1500" in c.value for c in at.caption)


def test_bad_files_get_one_sentence_and_the_page_keeps_working():
    at = _scan_page()
    for case in ("renamed-text", "animated-gif", "dicom-no-pixels", "too-large"):
        name, data, words = files.malformed()[case]
        at.file_uploader[0].set_value((name, data, "application/octet-stream")).run()
        assert not at.exception, case
        assert len(at.error) == 1 and words in at.error[0].value, (case, [e.value for e in at.error])
        assert at.selectbox(key="_w_model").value == "brain-basic-cnn"  # the rest of the page is still there
    # and a good photo afterwards works
    at.file_uploader[0].set_value(("cat.png", files.png(files.photo("chelsea")), "image/png")).run()
    assert not at.exception and not at.error


def test_adding_a_model_through_the_page(tmp_path):
    import keras
    from keras import layers

    inp = keras.Input((20, 20, 3))
    model = keras.Model(inp, layers.Dense(2, activation="softmax")(layers.GlobalAveragePooling2D()(
        layers.Conv2D(4, 3)(layers.Rescaling(1 / 255.0)(inp)))))
    model.save(tmp_path / "mine.keras")
    at = AppTest.from_file(str(ROOT / "pages/your_models_and_data.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    at.file_uploader(key="up_model").set_value(("mine.keras", (tmp_path / "mine.keras").read_bytes(),
                                                "application/octet-stream")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.selectbox(key="up_scale").value == "0-255"  # the Rescaling layer was noticed
    at.file_uploader(key="up_labels").set_value(("labels.txt", b"benign\nmalignant\n", "text/plain")).run()
    assert at.text_area(key="up_names_mine.keras_labels.txt").value == "benign\nmalignant"
    at.text_input(key="up_name_mine.keras").set_value("page-model")
    at.button(key="up_add").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    owner = at.session_state["_owner"]  # added in the dashboard: private to this session (issue 11)
    assert xc.load_model("page-model", owner=owner).class_names == ["benign", "malignant"]
    # a Lambda model: one sentence, and the form above it is not lost
    inp = keras.Input((8, 8, 1))
    evil = keras.Model(inp, layers.Dense(2, activation="softmax")(layers.Flatten()(layers.Lambda(lambda x: x)(inp))))
    evil.save(tmp_path / "evil.keras")
    at.file_uploader(key="up_model").set_value(("evil.keras", (tmp_path / "evil.keras").read_bytes(),
                                                "application/octet-stream")).run()
    assert not at.exception and len(at.error) == 1 and "Lambda" in at.error[0].value
    assert any(h.value.startswith("2. Your models") for h in at.header)
    names = np.array([r["name"] for r in xc.list_models(owner=owner)])
    assert "page-model" in names and "evil" not in names
