"""AppTest: the out-of-domain gate is per scan and empties every card; a model whose output does not move gets
faint maps and no verdict (issue 22, items 7 and 8)."""

from __future__ import annotations

import json

import numpy as np
from streamlit.testing.v1 import AppTest

from tests import files
from tests.conftest import ROOT

TIMEOUT = 600
NOT_APPLICABLE = "Not applicable: outside the training domain"


def _show_anyway(at):
    return [t for t in at.toggle if t.key.startswith("scan_show_anyway_")]


def _says(at) -> bool:
    return any("says **" in m.value for m in at.markdown)


def test_show_anyway_belongs_to_one_scan_and_cards_read_not_applicable_there():
    at = AppTest.from_file(str(ROOT / "pages/your_scan.py"), default_timeout=TIMEOUT)
    at.session_state["scan_method"] = "saliency"  # the cheapest map: the gate is the point
    at.run()
    mr = files.pydicom_file("MR_small.dcm").read_bytes()
    at.file_uploader[0].set_value(("MR_small.dcm", mr, "application/dicom")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("outside" in w.value.lower() for w in at.warning) and not _says(at)
    _show_anyway(at)[0].set_value(True).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert _says(at)
    # every card metric reads not applicable, none earns a mark; the values come only on request
    assert at.metric and all(m.value.startswith("➖") for m in at.metric)
    assert all(NOT_APPLICABLE in c.value for c in at.caption if c.value.startswith("Not applicable"))
    assert any(NOT_APPLICABLE in m.value for m in at.markdown)
    values = next(t for t in at.toggle if t.key.endswith("_values_anyway"))
    before = len(at.dataframe)
    values.set_value(True).run()
    assert len(at.dataframe) == before + 1  # the values, labelled "not evidence"
    # a second flagged scan starts hidden again: the switch was for MR_small only
    ct = files.pydicom_file("CT_small.dcm").read_bytes()
    at.file_uploader[0].set_value(("CT_small.dcm", ct, "application/dicom")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("outside" in w.value.lower() for w in at.warning)
    assert not _says(at) and not any(t.value for t in _show_anyway(at))


def test_a_model_whose_output_does_not_move_is_drawn_faintly_and_earns_no_pass():
    import keras
    from keras import layers

    from xai_core import config
    from xai_core.models import ModelMetadata

    owner = "gatestest0000001"
    folder = config.user_models_dir(owner) / "flat-untrained"
    folder.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(0)
    inp = keras.Input((64, 64, 1))
    h = layers.GlobalAveragePooling2D()(layers.Conv2D(8, 3, activation="relu")(inp))
    model = keras.Model(inp, layers.Dense(4, activation="softmax", kernel_initializer="zeros")(h))  # a new head
    model.save(folder / "model.keras")
    ModelMetadata(class_names=["glioma", "meningioma", "none", "pituitary"], input_size=(64, 64), input_channels=1,
                  input_scale="0-1").write(folder / "metadata.json")

    at = AppTest.from_file(str(ROOT / "pages/methods.py"), default_timeout=TIMEOUT)
    at.session_state["_owner"] = owner
    at.session_state["model"] = "flat-untrained"
    at.session_state["methods_set"] = ["integrated-gradients", "grad-cam"]
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.selectbox(key="_w_model").value == "flat-untrained"
    assert sum("says nothing" in c.value for c in at.caption) == 2  # one line per map, beside the faint map
    figs = [c for c in at.get("plotly_chart")]
    assert figs
    assert at.metric and not any(m.value.startswith(("✅", "⚠️", "❌")) for m in at.metric)
    assert any("output does not move" in m.value for m in at.markdown)
    heat = [t for f in figs for t in json.loads(f.proto.spec)["data"]
            if t.get("type") == "heatmap" and t.get("coloraxis")]  # the maps, not the agreement matrix
    assert heat and all(np.isclose(t.get("opacity", 1.0), 0.2) for t in heat)
