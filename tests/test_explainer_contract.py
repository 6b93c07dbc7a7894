"""Every registered explainer, one contract (Xplique's tests/attributions/test_common.py, in our terms):
shapes, finite values, the explained classes, declared metadata and parameters, additivity where promised,
determinism per seed, npz round trip and a cache hit on repeat, on tiny grey and RGB models in both output
spaces. Registry-driven: a new method is tested with no edit. (The one explainer contract: the registry
contract, tests/test_registry_contract.py, covers the other kinds of plug-in.)"""

import numpy as np
import pytest

import xai_core as xc
from tests.conftest import tiny_loaded
from xai_core.cache import DiskCache
from xai_core.explainers import FAMILIES

# Smaller budgets for the tiny models (a method not listed runs at its defaults).
QUICK = {"shap-partition": {"max_evals": 100}, "lime": {"num_samples": 60}, "rise": {"masks": 60},
         "smoothgrad": {"samples": 4}, "integrated-gradients": {"steps": 8}, "blur-ig": {"steps": 8},
         "guided-ig": {"steps": 8}, "xrai": {"steps": 4}, "shap-gradient": {"samples": 16},
         "occlusion": {"window": 4, "stride": 4}, "shap-superpixel": {"segmenter_params": {"n_segments": 6}}}


@pytest.mark.parametrize("method", xc.EXPLAINERS.names())
def test_metadata_is_declared(method):
    cls = xc.EXPLAINERS.get(method)
    assert cls.family in FAMILIES
    assert cls.unit_label("margin") and "{" not in cls.unit_label("probability")
    assert isinstance(cls.additive, bool) and cls.completeness
    d = cls.describe()
    assert d["name"] == method and [p["name"] for p in d["param_info"]] == [p.name for p in cls.params]
    cls.validate({})  # the defaults are valid


@pytest.mark.parametrize("method", xc.EXPLAINERS.names())
def test_parameters_refuse_unknown_names_and_values_out_of_range(method):
    cls = xc.EXPLAINERS.get(method)
    with pytest.raises(xc.InputError, match="no parameter"):
        cls.validate({"not_a_param": 1})
    for p in cls.params:
        if p.min is not None:
            with pytest.raises(xc.InputError, match=p.name):
                cls.validate({p.name: p.min - 1})


@pytest.mark.parametrize("method", xc.EXPLAINERS.names())
@pytest.mark.parametrize("shape,output", [((16, 16, 1), "margin"), ((16, 16, 1), "probability"),
                                          ((16, 16, 3), "margin"), ((16, 16, 3), "probability")],
                         ids=["grey-margin", "grey-probability", "rgb-margin", "rgb-probability"])
def test_contract(method, shape, output, tmp_path):
    cls = xc.EXPLAINERS.get(method)
    model = tiny_loaded(input_shape=shape, classes=3)
    image = np.random.default_rng(0).uniform(0, 255, shape).astype(np.float32)
    params = QUICK.get(method, {})
    if cls.trained_per_model:  # a method trained per model (an amortised explainer): a quick training first
        from xai_core.training.amortise import train_for

        scans = np.random.default_rng(1).uniform(0, 255, (24, *shape)).astype(np.float32)
        train_for(method, model, scans, output=output, epochs=1, samples=4, fit_passes=1, val_images=4)
    cache = DiskCache(tmp_path / "cache")
    e = xc.explain(model, image, method=method, output=output, top_k=2, cache=cache, **params)
    assert isinstance(e, xc.Explanation) and e.output_space == output and e.method == method
    assert e.values.shape == (2, *shape) and np.isfinite(e.values).all()
    assert e.output_values.shape == e.base_values.shape == (2,)
    # the top two classes, named, with the model's own outputs for them
    assert list(e.class_indices) == list(np.argsort(-model.predict_proba(image[None])[0])[:2])
    assert e.class_names == [model.class_names[i] for i in e.class_indices]
    np.testing.assert_allclose(e.output_values, model.output_fn(output)(image[None])[0][e.class_indices],
                               rtol=1e-6, atol=1e-6)
    assert set(e.params) == {p.name for p in cls.params}  # every setting recorded, defaults included
    if cls.additive:
        assert np.isfinite(e.base_values).all() and np.isfinite(e.residuals).all()
        if cls.residual_tolerance is not None:
            assert e.relative_residuals.max() < cls.residual_tolerance
    # determinism: the same seed and parameters give the same map, computed afresh
    again = xc.explain(model, image, method=method, output=output, top_k=2, cache=None, **params)
    np.testing.assert_allclose(again.values, e.values, rtol=1e-6, atol=1e-9)
    # cache hit on repeat, with the same arrays
    hit = xc.explain(model, image, method=method, output=output, top_k=2, cache=cache, **params)
    assert hit.cached and cache.hits == 1
    np.testing.assert_array_equal(hit.values, e.values)
    # npz round trip keeps every array and the extras
    back = xc.Explanation.load(e.save(tmp_path / "e.npz"))
    np.testing.assert_array_equal(back.values, e.values)
    np.testing.assert_array_equal(back.base_values, e.base_values)
    assert back.method == method and back.output_space == output and back.params == e.params
    assert set(back.extras) == set(e.extras)
