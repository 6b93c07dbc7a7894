"""AppTest: every page runs without an exception and shows what it promises."""

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tests.tables import cut_off

TIMEOUT = 300  # TensorFlow start-up plus a first explanation on 2 cores


def test_app_entry_runs_the_home_page():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    assert "Explain image classifiers" in at.title[0].value
    assert any(m.label == "Test accuracy" for m in at.metric)
    backend = at.sidebar.selectbox(key="forward_backend")  # the session's forward-pass setting, on every page
    assert backend.value == "tensorflow"  # the server default (XAI_FORWARD_BACKEND, set by conftest)
    assert any("bf16" in o and "approximate" in o for o in backend.options)


def test_home_gallery_filters():
    at = AppTest.from_file(str(ROOT / "pages/home.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    n_all = len([b for b in at.button if b.label == "Explain"])
    assert n_all == 24
    at.radio[0].set_value("misclassified").run()
    assert not at.exception
    n_wrong = len([b for b in at.button if b.label == "Explain"])
    assert n_wrong < n_all
    at.multiselect[0].set_value(["pituitary"]).run()
    assert not at.exception and not at.error


def test_shap_page_shows_both_rows_and_additivity():
    at = AppTest.from_file(str(ROOT / "pages/shap_margin_vs_probability.py"), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    assert not at.error
    subheaders = [s.value for s in at.subheader]
    assert "Margin (logit) space" in subheaders and "Probability space" in subheaders
    table = at.dataframe[0].value
    assert set(table["space"]) == {"margin", "probability"} and len(table) == 8
    assert table["residual"].max() < 1e-4 * max(1.0, table["model output"].abs().max())
    # change the settings and explain again
    at.slider[0].set_value(300)
    at.slider[1].set_value(2)
    at.button[0].click().run()
    assert not at.exception and not at.error
    assert len(at.dataframe[0].value) == 4


@pytest.mark.parametrize("index", [0, 239])
def test_shap_page_handles_first_and_last_image(index):
    at = AppTest.from_file(str(ROOT / "pages/shap_margin_vs_probability.py"), default_timeout=TIMEOUT)
    at.session_state["image_ref"] = {"dataset": "synthetic-brain-mri", "split": "test", "index": index}
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.number_input[0].value == index


def test_lime_page_compares_every_segmenter_with_stability():
    import xai_core as xc
    from xai_core.metrics.stability import verdict

    at = AppTest.from_file(str(ROOT / "pages/lime_segmenters.py"), default_timeout=TIMEOUT)
    at.session_state["image_ref"] = {"dataset": "synthetic-brain-mri", "split": "test", "index": 17}
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert [s.value for s in at.subheader] == ["2. Segmentation", "3. Stability across seeds"]  # 1: the headline maps
    table = at.dataframe[0].value
    names = [s.display_name for _, s in xc.SEGMENTERS.items()]
    assert list(table["segmenter"]) == names and len(names) == 6
    assert table["fit R²"].between(0, 1).all()
    # the quick first view: one run per segmenter at the quick sample count, stability only on request
    assert "verdict" not in table and at.slider[0].label == "Samples" and at.slider[0].value == 500
    assert at.session_state["lime_segmenters_result"]["request"]["repeats"] == 1
    at.toggle(key="lime_check_stability").set_value(True)
    at.button[0].click().run()  # the form's "Explain with every segmenter"
    assert not at.exception and not at.error, [e.value for e in at.error]
    table = at.dataframe[0].value
    assert table["top overlap (Jaccard)"].between(0, 1).all()
    assert list(table["verdict"]) == [verdict(v) for v in table["weight spread"]]  # verdicts follow the spread
    assert not cut_off(at.dataframe[0])  # "somew", "unstab" (issue 11): the canvas grid clips nothing
    top_output = table["model output"].iloc[0]
    # the runner-up switch re-uses the same runs (both classes were fitted) and changes the class shown
    at.toggle(key="lime_runner_up").set_value(True).run()
    assert not at.exception and not at.error
    assert at.dataframe[0].value["model output"].iloc[0] < top_output
    # new settings: fewer samples, two repeats, margin space
    at.slider[0].set_value(200)
    at.selectbox[3].set_value("margin")
    at.slider[1].set_value(2)
    at.button[0].click().run()
    assert not at.exception and not at.error
    assert len(at.dataframe[0].value) == 6
    assert any("logit" in m.value or "margin" in m.value for m in at.caption)


def test_cross_domain_page_tabulates_flags_and_explains_both_domains():
    at = AppTest.from_file(str(ROOT / "pages/cross_domain.py"), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.selectbox(key="cd_target").value == "synthetic-lung-ct"
    metrics = {m.label: m.value for m in at.metric}
    assert float(metrics["Out-of-domain AUROC"]) >= 0.9
    table = at.dataframe[0].value
    assert "p_group_tumor" in table and table["outside_domain"].mean() > 0.8
    subheaders = [s.value for s in at.subheader]
    assert subheaders[:3] == ["1. Per-image table", "2. What the model answers, and how sure it is",
                              "3. Where it looks: SHAP on both domains"]
    assert "4. A model trained for the target domain, on the same images" in subheaders
    # filters: one actual class, only flagged images
    at.multiselect(key="cd_actual").set_value(["normal"]).run()
    at.toggle(key="cd_only_out").set_value(True).run()
    assert not at.exception and not at.error
    shown = at.dataframe[0].value
    assert set(shown["actual"]) == {"normal"} and shown["outside_domain"].all()
    # a malformed group gets one clear sentence; the rest of the page keeps working
    at.text_input(key="cd_groups_brain-basic-cnn").set_value("tumor=lungs").run()
    assert not at.exception
    assert len(at.error) == 1 and "not a class of this model" in at.error[0].value


def test_prediction_pages_warn_on_an_out_of_domain_scan():
    at = AppTest.from_file(str(ROOT / "pages/shap_margin_vs_probability.py"), default_timeout=TIMEOUT)
    at.session_state["dataset"] = "synthetic-lung-ct"
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("outside this model's training domain" in w.value for w in at.warning)
    home = AppTest.from_file(str(ROOT / "pages/home.py"), default_timeout=TIMEOUT)
    home.session_state["dataset"] = "synthetic-lung-ct"
    home.run()
    assert not home.exception and any("outside" in w.value for w in home.warning)
    brain = AppTest.from_file(str(ROOT / "pages/shap_margin_vs_probability.py"), default_timeout=TIMEOUT).run()
    assert not brain.warning  # test scan 0 of its own domain is not flagged
