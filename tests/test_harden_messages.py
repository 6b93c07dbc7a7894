"""Hostile or broken inputs get one sentence that says what is wrong."""

import json
import re
import zipfile
import io

import numpy as np
import pytest

import xai_core as xc
from tests import files
from tests.conftest import tiny_cnn
from tests.hostile import dicom_bytes, keras_bytes


def _nan_model():
    model = tiny_cnn((16, 16, 1))
    dense = model.layers[-1]
    w, b = dense.get_weights()
    dense.set_weights([w, np.full_like(b, np.nan)])
    return model


def test_nan_model_says_it_outputs_nan_before_claiming_it_loaded():
    from xai_core.models import LoadedModel, ModelMetadata
    from xai_core.models.importing import inspect_upload

    with pytest.raises(xc.ModelError, match=r"outputs NaN \(not a number\)") as err:
        inspect_upload(keras_bytes(_nan_model()), "nan.keras")  # the page's check step, before "loaded"
    assert "logits" not in str(err.value)
    meta = ModelMetadata(class_names=["a", "b", "c"], input_size=(16, 16), input_channels=1, input_scale="0-1")
    with pytest.raises(xc.ModelError, match="outputs NaN"):
        LoadedModel(_nan_model(), meta, "nan")


def test_safe_mode_refusal_names_the_layer_and_the_function(tmp_path):
    from xai_core.models.importing import inspect_upload

    model = tiny_cnn((16, 16, 1))
    cfg = json.loads(zipfile.ZipFile(io.BytesIO(keras_bytes(model))).read("config.json"))
    conv = next(lay for lay in cfg["config"]["layers"] if lay["class_name"] == "Conv2D")
    conv["config"]["activation"] = {"module": "builtins", "class_name": "function", "config": "exec",
                                    "registered_name": "function"}
    with pytest.raises(xc.ModelError) as err:
        inspect_upload(keras_bytes(model, config_json=json.dumps(cfg)), "exec.keras")
    msg = str(err.value)
    assert f"layer {conv['config']['name']!r}" in msg and "builtins.exec" in msg and "activation" in msg
    assert "without running it" in msg and "<class" not in msg and "\n" not in msg
    conv["config"]["activation"] = "relu"
    conv.update(module="os", class_name="system")
    with pytest.raises(xc.ModelError, match=r"is of class os\.system, a custom layer"):
        inspect_upload(keras_bytes(model, config_json=json.dumps(cfg)), "os.keras")


def test_keras_refusal_text_is_reduced_to_the_layer():
    from xai_core.models.safe_loading import explain_refusal

    keras_text = ("<class 'keras.src.models.functional.Functional'> could not be deserialized properly. Please "
                  "ensure...\n\nException encountered: <class 'keras.src.layers.convolutional.conv2d.Conv2D'> "
                  "could not be deserialized properly.\n\nconfig={'module': 'keras.layers', 'class_name': "
                  "'Conv2D', 'config': {'name': 'conv2d', 'trainable': True}}")
    msg = explain_refusal(ValueError(keras_text), "m.keras")
    assert msg.startswith("Keras refused to rebuild the Conv2D layer 'conv2d' of m.keras") and "<" not in msg


@pytest.mark.parametrize("name, needle", [("no\ntumor", "U+000A"), ("x\u202eroma", "RIGHT-TO-LEFT OVERRIDE"),
                                          ("<b>bold</b>", "markup character '<'"), ("[link](x)", "markup")])
def test_hostile_class_folder_names_are_refused(tmp_path, monkeypatch, name, needle):
    from xai_core.data.folder import scan_folder

    monkeypatch.setenv("XAI_DATA_ROOTS", str(tmp_path))
    files.class_tree(tmp_path / "ds", {"fine": 2, name: 2})
    with pytest.raises(xc.InputError, match=re.escape(needle)) as err:
        scan_folder("ds")
    assert "\n" not in str(err.value)  # repr() keeps the newline from splitting the message


def test_ordinary_class_names_still_pass(tmp_path, monkeypatch):
    from xai_core.data.folder import scan_folder

    monkeypatch.setenv("XAI_DATA_ROOTS", str(tmp_path))
    files.class_tree(tmp_path / "ds", {"Bengin cases": 2, "Normal_cases (2)": 2, "glioma-1.b": 2})
    assert scan_folder("ds").class_names == ("Bengin cases", "Normal_cases (2)", "glioma-1.b")


@pytest.mark.parametrize("frames", [-1, 0])
def test_impossible_dicom_frame_counts_are_refused_at_the_header(frames):
    from xai_core.data.images import read_scan

    with pytest.raises(xc.ImageError, match=f"impossible image size .*{frames} frames"):
        read_scan(dicom_bytes(frames=frames), "f.dcm")


def test_absurd_dicom_frame_count_is_refused_by_the_pixel_limit():
    from xai_core.data.dicom import read_dicom

    with pytest.raises(xc.ImageError, match="10000000 frames"):
        read_dicom(dicom_bytes(frames=10_000_000), 4096 * 4096)
