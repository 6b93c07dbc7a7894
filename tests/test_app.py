"""AppTest: every page runs without an exception and shows what it promises."""

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

TIMEOUT = 300  # TensorFlow start-up plus a first explanation on 2 cores


def test_app_entry_runs_the_home_page():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    assert "Explain image classifiers" in at.title[0].value
    assert any(m.label == "Test accuracy" for m in at.metric)


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

    at = AppTest.from_file(str(ROOT / "pages/lime_segmenters.py"), default_timeout=TIMEOUT)
    at.session_state["image_ref"] = {"dataset": "synthetic-brain-mri", "split": "test", "index": 17}
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert [s.value for s in at.subheader] == ["1. Segmentation", "2. Explanation", "3. Stability across seeds"]
    table = at.dataframe[0].value
    names = [s.display_name for _, s in xc.SEGMENTERS.items()]
    assert list(table["segmenter"]) == names and len(names) == 6
    assert table["fit R²"].between(0, 1).all() and table["top overlap (Jaccard)"].between(0, 1).all()
    assert table["verdict"].str.match("stable|somewhat unstable|unstable").all()
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
