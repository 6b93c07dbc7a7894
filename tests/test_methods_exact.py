"""Method-specific exactness on tiny models nobody shipped: each method against a computation done another way."""

import itertools
import math

import numpy as np
import pytest

import xai_core as xc
from tests.conftest import tiny_cnn, tiny_loaded


def _image(shape=(16, 16, 1), seed=0):
    return np.random.default_rng(seed).uniform(0, 255, shape).astype(np.float32)


def _blocks(shape, seed=0):
    """Four flat quadrants plus a little noise: SLIC finds a handful of superpixels on it."""
    rng = np.random.default_rng(seed)
    h, w, c = shape
    x = np.zeros(shape)
    for r, q in itertools.product((0, 1), (0, 1)):
        x[r * h // 2:(r + 1) * h // 2, q * w // 2:(q + 1) * w // 2] = rng.uniform(20, 235, c)
    return np.clip(x + rng.normal(0, 8, shape), 0, 255).astype(np.float32)


@pytest.mark.parametrize("baseline", ["black", "blurred", "noise"])
def test_integrated_gradients_completeness_within_one_percent_at_256_steps(baseline):
    lm = tiny_loaded("dense-softmax", input_shape=(16, 16, 3))
    e = xc.explain(lm, _image((16, 16, 3), seed=11), method="integrated-gradients", output="margin", top_k=2, cache=None,
                   steps=256, baseline=baseline)
    gap = np.abs(e.output_values - e.base_values)
    assert gap.max() > 1.0  # the test means something: the path changes the output
    # within 1% of the outputs' scale, and of the gap itself wherever the gap is not tiny
    assert e.relative_residuals.max() < 0.01, (e.residuals, e.output_values)
    big = gap > 1.0
    assert (e.residuals[big] / gap[big]).max() < 0.01, (e.residuals, gap)


def test_smoothgrad_with_zero_noise_is_the_vanilla_gradient():
    lm = tiny_loaded("dense-softmax")
    x = _image()
    s = xc.explain(lm, x, method="saliency", output="probability", top_k=2, cache=None)
    g = xc.explain(lm, x, method="smoothgrad", output="probability", top_k=2, cache=None, noise=0.0, samples=3)
    np.testing.assert_allclose(g.values, s.values, rtol=1e-6, atol=1e-12)
    direct = lm.gradients(np.repeat(x[None], 2, 0), s.class_indices, "probability")
    np.testing.assert_allclose(s.values, direct, rtol=1e-4, atol=1e-6 * np.abs(direct).max())
    assert np.abs(s.values).max() > 0


def _hand_grad_cam(keras_model, image, cls, plus=False):
    """Grad-CAM by hand: a sub-model to the last conv layer, a tape, mean gradients, ReLU, max 1, resize."""
    import keras
    import tensorflow as tf
    from skimage.transform import resize

    conv = [layer for layer in keras_model.layers if type(layer).__name__ == "Conv2D"][-1]
    sub = keras.Model(keras_model.inputs, [conv.output, keras_model.outputs[0]])
    x = tf.constant(image[None] / 255.0, tf.float32)
    dense = keras_model.layers[-1]
    with tf.GradientTape() as tape:
        a, _ = sub(x)
        tape.watch(a)
        # margin = the final Dense layer before its softmax: recompute it from the features
        h = a
        for layer in keras_model.layers[keras_model.layers.index(conv) + 1:-1]:
            h = layer(h)
        z = tf.matmul(h, dense.kernel) + dense.bias
        score = z[0, cls]
    g = tape.gradient(score, a)[0].numpy().astype(np.float64)
    a = a[0].numpy().astype(np.float64)
    if plus:
        alpha = g ** 2 / np.where(np.abs(d := 2 * g ** 2 + a.sum((0, 1)) * g ** 3) > 1e-30, d, np.inf)
        w = (alpha * np.maximum(g, 0)).sum((0, 1))
    else:
        w = g.mean((0, 1))
    cam = np.maximum((a * w).sum(-1), 0)
    cam = cam / cam.max() if cam.max() > 0 else cam
    return resize(cam, image.shape[:2])


@pytest.mark.parametrize("method", ["grad-cam", "grad-cam++"])
def test_grad_cam_equals_a_hand_computation(method):
    keras_model = tiny_cnn((16, 16, 1), 3, "dense-softmax", seed=4)
    from xai_core.models import LoadedModel, ModelMetadata

    lm = LoadedModel(keras_model, ModelMetadata([f"c{i}" for i in range(3)], (16, 16), 1), "hand", file_hash="h")
    x = _image(seed=5)
    e = xc.explain(lm, x, method=method, output="margin", classes=[0, 1, 2], cache=None)
    checked = 0
    for k in range(3):
        ref = _hand_grad_cam(keras_model, x, k, plus=method == "grad-cam++")
        np.testing.assert_allclose(e.map(k), ref, rtol=1e-4, atol=1e-5)
        checked += ref.max() > 0
    assert checked >= 1


def _brute_force_shapley(v, m):
    """Shapley values by averaging marginal contributions over all m! orderings."""
    phi = np.zeros((v(0).shape[0], m))
    for order in itertools.permutations(range(m)):
        s = 0
        for i in order:
            phi[:, i] += v(s | (1 << i)) - v(s)
            s |= 1 << i
    return phi / math.factorial(m)


@pytest.mark.parametrize("shape,hide", [((16, 16, 1), "mean"), ((16, 16, 3), "0")])
def test_exact_superpixel_shapley_equals_brute_force_and_is_efficient(shape, hide):
    from xai_core.explainers.lime_image import hidden_image

    lm = tiny_loaded("dense-softmax", input_shape=shape)
    x = _blocks(shape, seed=7)
    e = xc.explain(lm, x, method="shap-superpixel", output="margin", top_k=2, cache=None, hide_color=hide,
                   segmenter_params={"n_segments": 6, "compactness": 10.0, "sigma": 1.0})
    seg = e.extras["segments"]
    m = int(seg.max()) + 1
    assert e.info["exact"] and 3 <= m <= 8 and e.extras["weights"].shape == (2, m)
    fudged = hidden_image(x, seg, hide)
    cls = e.class_indices
    cache = {}

    def v(mask):  # the model on one coalition, built independently of the explainer's batching
        if mask not in cache:
            on = np.isin(seg, [i for i in range(m) if mask >> i & 1])[..., None]
            img = np.where(on, x, fudged).astype(np.float64)
            cache[mask] = lm.output_fn("margin")(img[None])[0][cls]
        return cache[mask]

    np.testing.assert_allclose(e.extras["weights"], _brute_force_shapley(v, m), rtol=0, atol=1e-6)
    # efficiency: the values sum to f(x) - f(all hidden), and the map carries them
    np.testing.assert_allclose(e.extras["weights"].sum(1), v((1 << m) - 1) - v(0), atol=1e-6)
    np.testing.assert_allclose(e.base_values, v(0), atol=1e-6)
    np.testing.assert_allclose(e.values.reshape(2, -1).sum(1), e.extras["weights"].sum(1), atol=1e-4)


def test_superpixel_shapley_above_the_exact_limit_uses_kernel_shap_and_stays_efficient():
    lm = tiny_loaded("dense-softmax")
    e = xc.explain(lm, _image(), method="shap-superpixel", output="margin", top_k=1, cache=None, max_exact=3,
                   samples=64, segmenter_params={"n_segments": 6, "compactness": 10.0, "sigma": 1.0})
    assert not e.info["exact"] and e.info["features"] > 3
    assert e.relative_residuals.max() < 1e-4


def test_rise_is_deterministic_per_seed_and_changes_with_it():
    lm = tiny_loaded("dense-softmax")
    x = _image()
    a, b, c = (xc.explain(lm, x, method="rise", output="probability", top_k=1, cache=None, masks=64, cell_size=4,
                          seed=s) for s in (3, 3, 4))
    np.testing.assert_array_equal(a.values, b.values)
    assert not np.allclose(a.values, c.values)


def test_rise_masks_keep_each_cell_with_probability_p():
    from xai_core.explainers.rise import rise_masks

    rng = np.random.default_rng(0)
    grids = rng.random((400, 5, 5)) < 0.3
    m = rise_masks(grids, rng.integers(0, 8, (400, 2)), 32, 32, 8)
    assert m.shape == (400, 32, 32) and m.min() >= 0 and m.max() <= 1
    assert abs(m.mean() - 0.3) < 0.02


def test_occlusion_at_stride_one_equals_pair_occlusion():
    from saliency.core import Occlusion
    from saliency.core.base import OUTPUT_LAYER_VALUES

    lm = tiny_loaded("dense-softmax", input_shape=(10, 10, 1))
    x = _image((10, 10, 1), seed=2)
    e = xc.explain(lm, x, method="occlusion", output="margin", classes=[1], cache=None, window=3, stride=1,
                   fill="0")

    def call(batch, call_model_args=None, expected_keys=None):
        return {OUTPUT_LAYER_VALUES: lm.output_fn("margin")(np.asarray(batch))[:, 1]}

    ref = Occlusion().GetMask(x.astype(np.float64), call, size=3, value=0)[..., 0]
    count = np.zeros((10, 10))
    for r in range(8):
        for c in range(8):
            count[r:r + 3, c:c + 3] += 1
    np.testing.assert_allclose(e.map(0), ref / count, rtol=1e-5, atol=1e-6)
