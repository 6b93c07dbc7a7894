"""Margin heads: squash(margin) must reproduce the model's probabilities, for every kind of head."""

import numpy as np
import pytest

from tests.conftest import tiny_cnn, tiny_loaded
from xai_core.models.heads import build_heads, squash


@pytest.mark.parametrize("head", ["dense-softmax", "softmax-layer", "activation-softmax", "sigmoid-1", "raw"])
def test_squash_of_margin_equals_probability(head):
    lm = tiny_loaded(head)
    x = np.random.default_rng(1).uniform(0, 255, (32, 16, 16, 1)).astype(np.float32)
    margin, prob = lm.forward(x)
    np.testing.assert_allclose(squash(margin, lm.squash), prob, atol=1e-6)
    np.testing.assert_allclose(prob.sum(1), 1.0, atol=1e-5) if lm.squash == "softmax" or head == "sigmoid-1" else None
    assert margin.shape == (32, lm.num_classes)


def test_margin_is_the_pre_softmax_score():
    import keras

    model = tiny_cnn(head="dense-softmax")
    heads = build_heads(model)
    x = np.random.default_rng(2).uniform(0, 1, (5, 16, 16, 1)).astype(np.float32)
    penult = keras.Model(model.inputs, model.layers[-1].input)(x)
    w, b = model.layers[-1].get_weights()
    z = np.asarray(penult) @ w + b
    margin, prob = heads.model(x)
    np.testing.assert_allclose(np.asarray(margin), z, rtol=1e-5, atol=1e-5)
    assert np.abs(np.asarray(margin)).max() > 1.0  # logits, not probabilities


def test_users_model_is_not_modified():
    model = tiny_cnn(head="dense-softmax")
    x = np.random.default_rng(3).uniform(0, 1, (4, 16, 16, 1)).astype(np.float32)
    before = np.asarray(model(x))
    build_heads(model)
    assert model.layers[-1].activation.__name__ == "softmax"
    np.testing.assert_array_equal(np.asarray(model(x)), before)


def test_sigmoid_head_gives_two_complementary_classes():
    lm = tiny_loaded("sigmoid-1")
    x = np.random.default_rng(4).uniform(0, 255, (8, 16, 16, 1)).astype(np.float32)
    margin, prob = lm.forward(x)
    assert lm.num_classes == 2
    np.testing.assert_allclose(margin[:, 0], -margin[:, 1])
    np.testing.assert_allclose(prob.sum(1), 1.0, atol=1e-6)


def test_raw_scores_are_the_margin_and_softmax_gives_probability():
    lm = tiny_loaded("raw")
    x = np.random.default_rng(5).uniform(0, 255, (8, 16, 16, 1)).astype(np.float32)
    raw = np.asarray(lm.keras_model(x / 255.0))
    margin, prob = lm.forward(x)
    np.testing.assert_allclose(margin, raw, rtol=1e-5, atol=1e-5)
    e = np.exp(raw - raw.max(1, keepdims=True))
    np.testing.assert_allclose(prob, e / e.sum(1, keepdims=True), atol=1e-6)


@pytest.mark.parametrize("output", ["margin", "probability"])
def test_every_gradient_path_sees_the_sigmoid_head_as_two_classes(output):
    """The binary-head rule lives once (LoadedModel.class_scores): the taped forward pass, shap's gradient
    model and the compiled forward pass agree on both classes of a 1-unit sigmoid head."""
    from xai_core.explainers.shap_gradient import _score_model

    lm = tiny_loaded("sigmoid-1")
    idx = ("margin", "probability").index(output)
    x = np.random.default_rng(6).uniform(0, 255, (4, 16, 16, 1)).astype(np.float32)
    want = lm.forward(x)[idx]
    np.testing.assert_allclose(np.asarray(lm.scores(x)[idx]), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(_score_model(lm, output, np.array([1, 0]))(x)), want[:, ::-1],
                               rtol=1e-5, atol=1e-6)
    grads, taped = lm.gradients(x, 0, output, return_outputs=True)
    np.testing.assert_allclose(taped, want[:, 0], rtol=1e-5, atol=1e-6)
    assert grads.shape == x.shape and np.isfinite(grads).all() and np.abs(grads).max() > 0
