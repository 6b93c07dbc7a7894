"""SHAP Partition: additivity, exactness against brute force, determinism, cache behaviour."""

import numpy as np
import pytest

import xai_core as xc
from tests.conftest import tiny_loaded
from xai_core.cache import DiskCache


@pytest.mark.parametrize("output", ["margin", "probability"])
def test_additivity_on_shipped_model(brain_model, brain, output):
    e = xc.explain(brain_model, brain.image("test", 0), output=output, top_k=4, max_evals=500, cache=None)
    assert e.values.shape == (4, 128, 128, 1)
    assert e.relative_residuals.max() < 1e-4, e.additivity_rows()
    # and the output really is the model's output in that space
    margin, prob = brain_model.forward(brain_model.prepare(brain.image("test", 0))[None])
    ref = (margin if output == "margin" else prob)[0, e.class_indices]
    np.testing.assert_allclose(e.output_values, ref, rtol=1e-6, atol=1e-7)


def test_margin_and_probability_explain_the_same_classes(brain_model, brain):
    img = brain.image("test", 1)
    m = xc.explain(brain_model, img, output="margin", top_k=3, max_evals=300, cache=None)
    p = xc.explain(brain_model, img, output="probability", top_k=3, max_evals=300, cache=None)
    assert list(m.class_indices) == list(p.class_indices)
    from xai_core.models.heads import squash

    # the squash links the two spaces at the explained image and at the fully masked image
    full = brain_model.forward(brain_model.prepare(img)[None])
    np.testing.assert_allclose(squash(full[0], "softmax")[0, p.class_indices], p.output_values, atol=1e-6)


def test_exact_on_a_linear_model_with_full_budget():
    """For a linear model, Owen values equal w * (x - masked background) once the budget covers the tree."""
    import keras
    import shap

    from xai_core.models import LoadedModel, ModelMetadata

    shape = (6, 6, 1)
    keras.utils.set_random_seed(0)
    km = keras.Sequential([keras.Input(shape), keras.layers.Flatten(), keras.layers.Dense(2)])
    meta = ModelMetadata(["a", "b"], shape[:2], 1, "0-255")
    lm = LoadedModel(km, meta, "linear", file_hash="linear")
    x = np.random.default_rng(0).uniform(0, 255, shape).astype(np.float32)
    e = xc.explain(lm, x, output="margin", classes=[0, 1], max_evals=20000, masker="blur(3,3)", cache=None)
    background = shap.maskers.Image("blur(3,3)", shape)(np.zeros(36, bool), x.astype(np.float64))[0][0]
    w = km.layers[-1].get_weights()[0]  # (36, 2)
    expected = (w * (x - background).reshape(-1, 1)).T.reshape(2, *shape)
    np.testing.assert_allclose(e.values, expected, rtol=1e-4, atol=1e-4)


def test_same_seed_same_values_and_seed_is_recorded(brain_model, brain):
    img = brain.image("test", 2)
    a = xc.explain(brain_model, img, max_evals=300, seed=7, cache=None)
    b = xc.explain(brain_model, img, max_evals=300, seed=7, cache=None)
    np.testing.assert_array_equal(a.values, b.values)
    assert a.params["seed"] == 7


def test_budget_is_respected_and_progress_reaches_one(brain_model, brain):
    seen = []
    e = xc.explain(brain_model, brain.image("test", 3), max_evals=400, cache=None,
                   progress=lambda f, msg: seen.append(f))
    assert e.info["evaluations"] <= 400
    assert seen == sorted(seen) and seen[-1] == pytest.approx(e.info["evaluations"] / 400)


def test_classes_by_name(brain_model, brain):
    e = xc.explain(brain_model, brain.image("test", 0), classes=["pituitary", "glioma"], max_evals=200, cache=None)
    assert e.class_names == ["pituitary", "glioma"]
    with pytest.raises(xc.InputError, match="Unknown class"):
        xc.explain(brain_model, brain.image("test", 0), classes=["cat"], max_evals=200, cache=None)


def test_disk_cache_serves_repeats_without_the_model(tmp_path):
    model = tiny_loaded()
    cache = DiskCache(tmp_path)
    x = np.random.default_rng(0).uniform(0, 255, (16, 16, 1)).astype(np.float32)
    first = xc.explain(model, x, max_evals=200, cache=cache)
    calls = model.calls
    second = xc.explain(model, x, max_evals=200, cache=cache)
    assert not first.cached and second.cached
    assert model.calls - calls <= 1  # at most the forward pass that picks the top-k classes
    np.testing.assert_array_equal(first.values, second.values)
    third = xc.explain(model, x, max_evals=300, cache=cache)  # other params: another entry
    assert not third.cached and cache.hits == 1 and cache.misses == 2


def test_corrupt_cache_entry_is_recomputed(tmp_path):
    model = tiny_loaded()
    cache = DiskCache(tmp_path)
    x = np.random.default_rng(1).uniform(0, 255, (16, 16, 1)).astype(np.float32)
    first = xc.explain(model, x, max_evals=200, cache=cache)
    (entry,) = list(tmp_path.rglob("*.npz"))
    entry.write_bytes(b"not an npz")
    again = xc.explain(model, x, max_evals=200, cache=cache)
    assert not again.cached and cache.errors == 1
    np.testing.assert_array_equal(first.values, again.values)


def test_cache_size_is_bounded(tmp_path):
    model = tiny_loaded()
    cache = DiskCache(tmp_path, max_bytes=12_000)
    rng = np.random.default_rng(2)
    for _ in range(6):
        xc.explain(model, rng.uniform(0, 255, (16, 16, 1)).astype(np.float32), max_evals=100, cache=cache)
    total = sum(f.stat().st_size for f in tmp_path.rglob("*.npz"))
    assert 0 < total <= 12_000


def test_explanation_roundtrips_through_npz(tmp_path, brain_model, brain):
    e = xc.explain(brain_model, brain.image("test", 0), max_evals=200, cache=None)
    back = xc.Explanation.load(e.save(tmp_path / "e.npz"))
    np.testing.assert_array_equal(back.values, e.values)
    assert back.class_names == e.class_names and back.params == e.params
    assert back.output_space == e.output_space and back.method == e.method


@pytest.mark.parametrize("masker", ["inpaint_telea", "inpaint_ns"])
def test_inpaint_maskers_work_in_pixel_space(brain_model, brain, masker):
    e = xc.explain(brain_model, brain.image("test", 0), max_evals=200, masker=masker, cache=None)
    # inpainting casts to uint8: on 0..1 images it would wipe the picture and the base would be flat
    assert e.relative_residuals.max() < 1e-4
    assert np.abs(e.values).sum() > 0


def test_packed_owen_queue_keeps_maps_bit_for_bit_and_masks_eight_times_smaller(brain_model, brain, monkeypatch):
    import contextlib

    from xai_core.explainers import shap_partition as sp

    q = sp._PackedMaskQueue()
    mask = np.random.default_rng(0).random(8003) < 0.5
    q.put((-1.0, 0.5, (mask, "f00", "f11", 7, 0.25)))
    assert q._q.queue[0][2][0].nbytes == 1001  # 8,003 bools held as 1,001 bytes
    prio, tie, (back, *rest) = q.get()
    assert (prio, tie, rest) == (-1.0, 0.5, ["f00", "f11", 7, 0.25]) and back.dtype == bool
    np.testing.assert_array_equal(back, mask)
    assert q.empty()
    img = brain.image("test", 5)
    packed = xc.explain(brain_model, img, "shap-partition", top_k=2, cache=None, max_evals=700)
    monkeypatch.setattr(sp, "packed_owen_queue", contextlib.nullcontext)  # shap's own queue
    plain = xc.explain(brain_model, img, "shap-partition", top_k=2, cache=None, max_evals=700)
    np.testing.assert_array_equal(packed.values, plain.values)
    np.testing.assert_array_equal(packed.base_values, plain.base_values)
