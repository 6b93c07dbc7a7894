"""The shipped zoo: loads safely, carries its metadata, and still reaches its recorded accuracy."""

import numpy as np

import xai_core as xc
from xai_core.models.heads import squash


import pytest

FLOORS = {"brain-basic-cnn": 0.90, "lung-basic-cnn": 0.85, "mnist-cnn": 0.95, "brain-optimized-cnn": 0.95,
          "brain-augmented-cnn": 0.95,
          # on the tagged test split; their clean-split figures are pinned in tests/test_shortcut.py
          "brain-tagged-cnn": 0.90, "brain-tagged-cnn-guided": 0.90, "brain-tagged-cnn-erasing": 0.85}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_shipped_model_reaches_its_floor_and_its_recorded_figure(name):
    model = xc.load_model(name)
    meta = model.metadata
    test = xc.load_dataset(meta.dataset).split("test")
    probs = xc.predict_split(model, meta.dataset, "test", cache=None)
    acc = float((probs.argmax(1) == test.labels).mean())
    assert acc >= FLOORS[name], acc
    assert abs(acc - meta.test_accuracy) < 0.01
    if meta.test_metrics:  # models trained since the report landed carry every figure
        assert meta.test_metrics["accuracy"] == meta.test_accuracy and meta.test_metrics["n"] == len(test)
    assert meta.seed == 0 and f"--dataset {meta.dataset}" in meta.trained_with["command"]


def test_every_shipped_model_has_an_accuracy_floor():
    shipped = {r["name"] for r in xc.list_models() if r["source"] == "shipped"}
    assert shipped == set(FLOORS)


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
