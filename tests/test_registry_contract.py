"""Every registered plug-in goes through the same contract (Xplique's test_common idea)."""

import numpy as np
import pytest

import xai_core as xc
from tests.conftest import tiny_loaded


@pytest.mark.parametrize("method", xc.EXPLAINERS.names())
@pytest.mark.parametrize("shape", [(16, 16, 1), (16, 16, 3)], ids=["grey", "rgb"])
@pytest.mark.parametrize("output", ["margin", "probability"])
def test_explainer_contract(method, shape, output):
    model = tiny_loaded(input_shape=shape, classes=3)
    image = np.random.default_rng(0).uniform(0, 255, shape).astype(np.float32)
    cls = xc.EXPLAINERS.get(method)
    e = xc.explain(model, image, method=method, output=output, top_k=2, cache=None,
                   **{p.name: p.default for p in cls.params if p.name != "max_evals"},
                   **({"max_evals": 200} if any(p.name == "max_evals" for p in cls.params) else {}))
    assert isinstance(e, xc.Explanation)
    assert e.values.shape == (2, *shape)
    assert e.base_values.shape == e.output_values.shape == (2,)
    assert e.output_space == output and e.method == method
    assert e.class_names == [model.class_names[i] for i in e.class_indices]
    probs = model.predict_proba(image[None])[0]
    assert list(e.class_indices) == list(np.argsort(-probs)[:2])
    assert set(e.params) == {p.name for p in cls.params}
    if cls.additive and cls.residual_tolerance is not None:
        assert e.relative_residuals.max() < cls.residual_tolerance


@pytest.mark.parametrize("method", xc.EXPLAINERS.names())
def test_explainer_refuses_unknown_and_out_of_range_params(method):
    cls = xc.EXPLAINERS.get(method)
    with pytest.raises(xc.InputError, match="no parameter"):
        cls.validate({"not_a_param": 1})
    for p in cls.params:
        if p.min is not None:
            with pytest.raises(xc.InputError, match=p.name):
                cls.validate({p.name: p.min - 1})


@pytest.mark.parametrize("name", xc.DATASETS.names())
def test_dataset_contract(name):
    ds = xc.load_dataset(name)
    assert ds.name == name
    sizes = {s: len(ds.split(s)) for s in ("train", "val", "test")}
    total = sum(sizes.values())
    assert abs(sizes["train"] / total - 0.7) < 0.01 and abs(sizes["val"] / total - 0.2) < 0.01
    for split in sizes:
        s = ds.split(split)
        assert s.images.dtype == np.uint8 and s.images.shape[1:] == ds.image_shape
        assert s.labels.min() >= 0 and s.labels.max() < len(ds.class_names)
        if s.masks is not None:
            assert s.masks.shape == s.images.shape[:3]
    with pytest.raises(xc.InputError):
        ds.image("test", sizes["test"])


# Every architecture builds, trains one step and loads back safely: tests/test_architectures.py,
# parametrised over the same registry.


def test_registry_suggests_close_names():
    with pytest.raises(xc.InputError, match="Did you mean 'shap-partition'"):
        xc.EXPLAINERS.get("shap-partitoin")


@pytest.mark.parametrize("name", xc.METRICS.names())
def test_metric_contract(name):
    from xai_core.metrics import COSTS, Metric

    m = xc.METRICS.get(name)
    assert isinstance(m, Metric) and m.name == name and m.display_name and m.description
    assert m.cost in COSTS and m.better in ("higher", "lower") and isinstance(m.needs_mask, bool)
    assert type(m).__doc__ or __import__(type(m).__module__).__doc__
    for p in m.params:
        assert p.check(p.default) == p.default
    assert m.validate({}) == {p.name: p.default for p in m.params}


def test_every_segmenter_is_offered_by_lime():
    lime = xc.EXPLAINERS.get("lime")
    segmenter = next(p for p in lime.params if p.name == "segmenter")
    assert set(segmenter.options) == set(xc.SEGMENTERS.names()) and len(segmenter.options) == len(xc.SEGMENTERS)
