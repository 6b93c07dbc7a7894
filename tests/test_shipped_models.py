"""The shipped zoo: loads safely, carries its metadata, and still reaches its recorded accuracy."""

import numpy as np

import xai_core as xc
from xai_core.models.heads import squash


def test_brain_basic_cnn_reaches_90_percent_and_its_recorded_figure(brain_model, brain):
    test = brain.split("test")
    probs = xc.predict_split(brain_model, "synthetic-brain-mri", "test", cache=None)
    acc = float((probs.argmax(1) == test.labels).mean())
    assert acc >= 0.90
    assert abs(acc - brain_model.metadata.test_accuracy) < 0.01


def test_metadata_describes_how_it_was_made(brain_model):
    meta = brain_model.metadata
    assert meta.class_names == ["glioma", "meningioma", "no_tumor", "pituitary"]
    assert meta.dataset == "synthetic-brain-mri" and meta.arch == "basic-cnn" and meta.seed == 0
    assert meta.input_size == (128, 128) and meta.input_channels == 1 and meta.input_scale == "0-1"
    assert len(meta.history["loss"]) == len(meta.history["val_accuracy"]) >= 5
    assert "python -m xai_core train" in meta.trained_with["command"]


def test_margin_head_of_the_shipped_model(brain_model, brain):
    x = brain.split("test").images[:16].astype(np.float32)
    margin, prob = brain_model.forward(x)
    np.testing.assert_allclose(squash(margin, brain_model.squash), prob, atol=1e-5)
    assert brain_model.squash == "softmax" and "rebuilt" in brain_model.head_how
