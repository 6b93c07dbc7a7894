"""AppTest: compare architectures, model report, and training from the dashboard."""

import numpy as np
from streamlit.testing.v1 import AppTest

import xai_core as xc
from tests.conftest import ROOT

TIMEOUT = 300


def test_compare_page_shows_a_grid_and_focus_scores():
    at = AppTest.from_file(str(ROOT / "pages/compare_architectures.py"), default_timeout=TIMEOUT)
    at.session_state["cmp_models_synthetic-brain-mri"] = ["brain-basic-cnn", "lung-basic-cnn"]
    at.session_state["cmp_images_synthetic-brain-mri"] = [0, 1]
    at.session_state["cmp_shap-partition_max_evals"] = 300
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert not at.dataframe and any("Press **Compare**" in i.value for i in at.info)  # heavy: starts on a button
    at.button(key="cmp_start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    table = at.dataframe[0].value
    assert len(table) == 4 and set(table["model"]) == {"brain-basic-cnn", "lung-basic-cnn"}
    assert table["focus"].notna().any() and (table["additivity residual"] < 1e-4).all()
    raw = table["focus"].to_numpy()
    at.slider[0].set_value(3.0).run()  # smoothing re-scores without recomputing
    assert not at.exception and not at.error
    assert not np.allclose(at.dataframe[0].value["focus"].to_numpy(), raw, equal_nan=True)
    at.multiselect[0].set_value(["brain-basic-cnn"]).run()
    assert not at.exception and any("at least two models" in i.value for i in at.info)


def test_model_report_page_has_every_section():
    at = AppTest.from_file(str(ROOT / "pages/model_report.py"), default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    labels = {m.label for m in at.metric}
    assert {"Accuracy", "Balanced accuracy", "Cohen's kappa", "Log loss", "MSE (Brier)"} <= labels
    acc = next(m for m in at.metric if m.label == "Accuracy").value
    assert float(acc) == round(xc.load_model("brain-basic-cnn").metadata.test_accuracy, 3)
    per_class = at.dataframe[0].value
    assert list(per_class["class"]) == ["glioma", "meningioma", "no_tumor", "pituitary"]
    layers = at.dataframe[1].value
    assert "Conv2D" in set(layers["type"]) and layers["parameters"].sum() > 0
    subheaders = [s.value for s in at.subheader]
    assert len(subheaders) == 7 and any("convolutional layer" in s for s in subheaders)
    # a dataset with other classes: one clear error, the architecture sections still render
    at.selectbox(key="_w_dataset").set_value("synthetic-lung-ct").run()
    assert not at.exception and len(at.error) == 1 and "same classes" in at.error[0].value
    assert any("Architecture" in s.value for s in at.subheader)


def test_train_page_trains_one_epoch_and_the_model_joins_the_picker(tmp_path, monkeypatch):
    monkeypatch.setenv("XAI_USER_MODELS_DIR", str(tmp_path / "mine"))
    at = AppTest.from_file(str(ROOT / "pages/train.py"), default_timeout=TIMEOUT)
    at.session_state["dataset"] = "sklearn-digits"
    at.run()
    assert not at.exception and not at.error
    at.number_input(key="tr_epochs").set_value(1)
    at.number_input(key="tr_limit").set_value(32)
    at.text_input(key="tr_name_sklearn-digits_basic-cnn").set_value("my-digits")
    at.button(key="tr_go").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Saved **my-digits**" in s.value for s in at.success)
    owner = at.session_state["_owner"]  # trained in the dashboard: private to this session (issue 11)
    assert (tmp_path / "mine" / ".sessions" / owner / "my-digits" / "model.keras").is_file()
    assert at.session_state["model"] == "my-digits"
    assert "my-digits" not in [r["name"] for r in xc.list_models()]
    row = next(r for r in xc.list_models(owner=owner) if r["name"] == "my-digits")
    assert row["source"] == "mine" and row["arch"] == "basic-cnn"
    # the same name again must be confirmed; a shipped name is refused
    at.run()
    assert at.button(key="tr_go").disabled
    at.text_input(key="tr_name_sklearn-digits_basic-cnn").set_value("mnist-cnn").run()
    assert at.button(key="tr_go").disabled and any("shipped" in i.value for i in at.info)
