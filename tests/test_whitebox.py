"""White-box access (``LoadedModel.gradients`` / ``layer_gradients``) against numbers computed another way."""

import numpy as np
import pytest

from conftest import tiny_loaded


def smooth_model(channels=1, head="softmax", classes=3, seed=1):
    """tanh and average pooling: smooth everywhere, so central differences converge."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    inp = keras.Input((12, 12, channels))
    h = layers.Conv2D(3, 3, activation="tanh", padding="same")(inp)
    h = layers.AveragePooling2D(2)(h)
    h = layers.Flatten()(h)
    out = layers.Dense(1 if head == "sigmoid" else classes, activation=head)(h)
    return keras.Model(inp, out)


def wrap(keras_model, channels, n, scale="0-1", name="m"):
    from xai_core.models import LoadedModel, ModelMetadata

    meta = ModelMetadata(class_names=[f"c{i}" for i in range(n)], input_size=(keras_model.inputs[0].shape[1],
                         keras_model.inputs[0].shape[2]), input_channels=channels, input_scale=scale)
    return LoadedModel(keras_model, meta, name, file_hash=f"{name}-{channels}-{scale}")


@pytest.mark.parametrize("channels,head,scale,output", [
    (1, "softmax", "0-1", "margin"), (1, "softmax", "0-1", "probability"),
    (3, "sigmoid", "-1-1", "margin"), (3, "softmax", "caffe", "probability")])
def test_gradients_equal_central_differences(channels, head, scale, output):
    lm = wrap(smooth_model(channels, head), channels, 2 if head == "sigmoid" else 3, scale)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, lm.input_shape).astype(np.float32)
    cls = 1
    g = lm.gradients(x[None], cls, output)[0]
    assert g.shape == lm.input_shape and np.isfinite(g).all() and np.abs(g).max() > 0
    # 24 random pixels, +-h in 0..255 space, all in one batch
    idx = [tuple(rng.integers(0, s) for s in lm.input_shape) for _ in range(24)]
    h = 0.1 if scale == "caffe" else 2.0  # caffe feeds raw pixels: 20x steeper than 0-1
    batch = np.repeat(x[None], 2 * len(idx), 0).astype(np.float64)
    for j, p in enumerate(idx):
        batch[2 * j][p] += h
        batch[2 * j + 1][p] -= h
    f = lm.output_fn(output)(batch)[:, cls]
    fd = (f[0::2] - f[1::2]) / (2 * h)
    got = np.array([g[p] for p in idx])
    np.testing.assert_allclose(got, fd, rtol=2e-2, atol=2e-3 * np.abs(g).max())


def test_gradients_are_batched_per_image_and_return_the_scores():
    lm = tiny_loaded("dense-softmax")
    x = np.random.default_rng(1).uniform(0, 255, (5, *lm.input_shape))
    g, s = lm.gradients(x, [0, 1, 2, 0, 1], "probability", batch_size=2, return_outputs=True)
    np.testing.assert_allclose(s, lm.forward(x)[1][np.arange(5), [0, 1, 2, 0, 1]], atol=1e-6)
    alone = lm.gradients(x[3:4], 0, "probability")
    np.testing.assert_allclose(g[3], alone[0], rtol=1e-5, atol=1e-9)


def nested_model(channels=3, sigmoid=False):
    """A nested Sequential feature extractor (Rescaling, BatchNorm) inside a functional classifier."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(3)
    inner = keras.Sequential([keras.Input((16, 16, channels)), layers.Rescaling(1 / 127.5, offset=-1),
                              layers.Conv2D(4, 3, padding="same", name="c1"), layers.BatchNormalization(),
                              layers.ReLU(), layers.Conv2D(5, 3, padding="same", name="c2")], name="inner")
    inp = keras.Input((16, 16, channels))
    h = layers.GlobalAveragePooling2D()(inner(inp))
    out = layers.Dense(1 if sigmoid else 3, activation="sigmoid" if sigmoid else "softmax", name="head")(h)
    model = keras.Model(inp, out)
    bn = inner.layers[2]
    bn.moving_mean.assign(np.full(4, 0.3, np.float32))  # inference mode must use these, not batch statistics
    bn.moving_variance.assign(np.full(4, 2.0, np.float32))
    return model, inner


@pytest.mark.parametrize("sigmoid", [False, True])
def test_layers_inside_nested_models_give_activations_and_exact_gradients(sigmoid):
    import keras

    model, inner = nested_model(3, sigmoid)
    lm = wrap(model, 3, 2 if sigmoid else 3, scale="0-255", name=f"nested-{sigmoid}")
    assert lm.conv_layers() == ["inner/c1", "inner/c2"]
    assert "inner" in lm.layer_names() and "head" in lm.layer_names()
    x = np.random.default_rng(2).uniform(0, 255, (2, 16, 16, 3))
    act, grad, score = lm.layer_gradients(x, 1, "margin")  # default: the last conv layer
    ref = keras.Model(inner.inputs, inner.get_layer("c2").output)(x.astype(np.float32), training=False)
    np.testing.assert_allclose(act, np.asarray(ref), rtol=1e-4, atol=1e-4)
    # margin = GAP(A) @ W + b, so d margin_c / dA = W[:, c] / (h * w) everywhere
    w = model.get_layer("head").get_weights()[0]
    col = w[:, 0] if sigmoid else w[:, 1]
    np.testing.assert_allclose(grad, np.broadcast_to(col / 256, grad.shape), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(score, lm.forward(x)[0][:, 1], atol=1e-5)
    a1 = lm.activations(x, "inner/c1")
    assert a1.shape == (2, 16, 16, 4)


def test_unknown_layer_and_bad_classes_are_one_sentence_errors():
    from xai_core.errors import InputError

    lm = tiny_loaded("dense-softmax")
    x = np.zeros((2, *lm.input_shape))
    with pytest.raises(InputError, match="no layer"):
        lm.layer_gradients(x, 0, layer="nope")
    with pytest.raises(InputError, match="Class indices"):
        lm.gradients(x, 7)


def test_every_shipped_model_has_gradients_and_a_cam_layer(brain_model):
    import xai_core as xc

    for row in xc.list_models():
        if row["source"] != "shipped":
            continue
        lm = xc.load_model(row["name"])
        x = np.random.default_rng(0).uniform(0, 255, (2, *lm.input_shape))
        g = lm.gradients(x, 0, "probability")
        assert g.shape == (2, *lm.input_shape) and np.isfinite(g).all() and np.abs(g).max() > 0, row["name"]
        a, ga, s = lm.layer_gradients(x, 0, "margin")
        assert a.ndim == 4 and a.shape == ga.shape and np.isfinite(ga).all(), row["name"]
