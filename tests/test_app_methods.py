"""The "Methods side by side" page, and plug-ins added as one module reaching the pages and the CLI.

A throw-away explainer and a throw-away segmenter are registered here, in a test module, with no page or
CLI edit; both must then be offered by the pages (AppTest) and the CLI.
"""

import json
import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import xai_core as xc
from tests.conftest import ROOT
from xai_core.explainers import EXPLAINERS
from xai_core.explainers.base import Explainer, Param
from xai_core.explanation import Explanation
from xai_core.segmenters import SEGMENTERS, Segmenter

TIMEOUT = 600


class Brightness(Explainer):
    """A throw-away method: each pixel's brightness, scaled by a parameter."""

    name = "test-brightness"
    display_name = "Brightness (test)"
    description = "A throw-away method registered by a test."
    family = "perturbation"
    unit = "brightness ({space})"
    additive = False
    completeness = "not additive: a test fixture"
    params = (Param("gain", 1.0, "Multiplier.", float, min=0.0, max=10.0),)

    def explain(self, model, image, classes, output, progress=None, *, gain):
        v = np.repeat(np.asarray(image, np.float64)[None] * gain / 255.0, len(classes), 0)
        out = model.forward_image(image)[0 if output == "margin" else 1][classes]
        return Explanation(values=v, base_values=np.full(len(classes), np.nan), output_values=out,
                           class_indices=classes, class_names=[model.class_names[i] for i in classes],
                           output_space=output, method=self.name, params={"gain": gain}, image=image)


def _grid(x, cells):
    h, w = x.shape[:2]
    return (np.arange(h)[:, None] * cells // h) * cells + np.arange(w)[None] * cells // w


GRID = Segmenter("test-grid", "Grid (test)", "A throw-away segmenter: a square grid.", _grid,
                 (Param("cells", 3, "Cells per side.", int, min=1, max=16),))


@pytest.fixture
def plugins():
    EXPLAINERS.register(Brightness.name, Brightness)
    SEGMENTERS.register(GRID.name, GRID)
    yield
    EXPLAINERS.unregister(Brightness.name)
    SEGMENTERS.unregister(GRID.name)


def _methods_page():
    at = AppTest.from_file(str(ROOT / "pages/methods.py"), default_timeout=TIMEOUT)
    return at


def test_methods_page_shows_the_default_set_with_units_times_and_agreement():
    at = _methods_page().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    chosen = at.multiselect[0].value
    assert set(chosen) == {"shap-partition", "lime", "integrated-gradients", "grad-cam", "smoothgrad", "rise",
                           "xrai"}
    table = at.dataframe[0].value
    assert len(table) == 7 and table["unit"].str.len().min() > 3 and (table["seconds"] >= 0).all()
    ig = table[table["method"] == "Integrated Gradients"].iloc[0]
    assert ig["check"] == "residual" and ig["value"] < 0.05
    assert any("Spearman" in c.value for c in at.caption)
    # the common-scale toggle and another class rerun without errors
    at.toggle[0].set_value(True).run()
    at.selectbox[2].set_value(1).run()
    assert not at.exception and not at.error


def test_a_method_and_a_segmenter_added_as_modules_appear_on_the_pages(plugins):
    at = _methods_page()
    at.session_state["methods_set"] = ["saliency"]  # start small: the default set is tested above
    at.run()
    assert not at.exception, at.exception
    assert "Brightness (test) (perturbation)" in at.multiselect[0].options
    at.multiselect[0].set_value(["test-brightness", "saliency", "shap-superpixel"]).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any(n.label == "Gain" for n in at.number_input)  # its Param became a widget
    seg = next(s for s in at.selectbox if s.label == "Segmenter")
    assert "test-grid" in seg.options
    seg.set_value("test-grid").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("3 superpixels" in c.value or "9 superpixels" in c.value for c in at.caption)
    assert set(at.dataframe[0].value["method"]) == {"Brightness (test)", "Saliency (gradient)",
                                                    "SHAP (superpixels)"}
    lime = AppTest.from_file(str(ROOT / "pages/lime_segmenters.py"), default_timeout=TIMEOUT)
    lime.run()
    assert not lime.exception
    assert lime.title[0].value == f"LIME: {len(SEGMENTERS)} segmenters"
    assert any(n.key == "_seg_test-grid_cells" for n in lime.number_input)


def test_a_method_added_as_a_module_appears_in_the_cli(plugins, capsys, tmp_path):
    from xai_core.cli import main

    assert main(["explainers", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["test-brightness"]["params"] == {"gain": 1.0} and rows["test-brightness"]["unit"]
    out = tmp_path / "b.npz"
    assert main(["explain", "--model", "brain-basic-cnn", "--image", "synthetic-brain-mri:test:0", "--method",
                 "test-brightness", "--param", "gain=2", "--top-k", "1", "--no-cache", "--out", str(out)]) == 0
    e = xc.Explanation.load(out)
    assert e.params == {"gain": 2.0} and e.values.max() > 1.0


class GreyReference(Brightness):
    """A throw-away method with its own reference image (grey 77 for hidden pixels) and its own palette."""

    name = "test-grey-reference"
    display_name = "Grey reference (test)"
    palette = ([[0.0, "rgba(255,127,14,1.0)"], [0.5, "rgba(255,255,255,0.0)"], [1.0, "rgba(148,103,189,1.0)"]],
               "purple for the class, orange against it")

    @classmethod
    def reference_image(cls, explanation, image):
        return np.full(np.shape(image), 77.0, np.float32), "grey 77, the test method's own"


def test_an_explainer_module_declares_its_reference_image_and_palette_for_metrics_and_reports(brain_model,
                                                                                                tmp_path):
    from xai_core import report
    from xai_core.metrics import METRICS

    EXPLAINERS.register(GreyReference.name, GreyReference)
    try:
        image = xc.load_dataset("synthetic-brain-mri").image("test", 0)
        e = xc.explain(brain_model, image, method=GreyReference.name, top_k=1, cache=None)
        r = METRICS.get("deletion")(brain_model, e.image, e, random_orders=4, max_random_orders=4)
        grey = np.full(e.image.shape, 77.0, np.float32)
        c = int(e.class_indices[0])
        assert r.details["baseline"] == "grey 77, the test method's own"
        assert r.details["score_baseline"] == pytest.approx(float(brain_model.forward(grey[None])[0][0, c]), abs=1e-5)
        assert "grey 77" in METRICS.get("faithfulness-correlation")(brain_model, e.image, e).details["baseline"]
        scan = report.scan_from_dataset(brain_model, "synthetic-brain-mri:test:0", image, "glioma")
        rep = report.assemble([report.case(brain_model, scan, [e], report.Verdict.unavailable("not checked"))],
                              [brain_model])
        html = report.write(rep, tmp_path / "g.html").read_text()
        assert "purple for the class, orange against it" in html
        assert "red raises the class score" not in html
    finally:
        EXPLAINERS._items.pop(GreyReference.name, None)
