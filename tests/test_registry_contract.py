"""Every registered plug-in of each kind goes through one contract (Xplique's test_common idea): datasets,
metrics (declared and called), out-of-domain scores, segmenters, and the registry itself. Explainers have
theirs in tests/test_explainer_contract.py."""

import sys

import numpy as np
import pytest

import xai_core as xc
from tests.conftest import tiny_loaded
from xai_core.ood import OOD_SCORES
from xai_core.registry import Registry


def _documented(cls) -> bool:
    """A class says what it computes: its own docstring, or its module's (where a metric cites its paper)."""
    return bool(cls.__doc__ and cls.__doc__.strip()) or bool((sys.modules[cls.__module__].__doc__ or "").strip())


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
    assert _documented(type(m)), f"{name}: no docstring on the class or its module"
    for p in m.params:
        assert p.check(p.default) == p.default
    assert m.validate({}) == {p.name: p.default for p in m.params}


def test_every_segmenter_is_offered_by_lime():
    lime = xc.EXPLAINERS.get("lime")
    segmenter = next(p for p in lime.params if p.name == "segmenter")
    assert set(segmenter.options) == set(xc.SEGMENTERS.names()) and len(segmenter.options) == len(xc.SEGMENTERS)


def test_the_docstring_check_can_fail():
    """The check reads the metric's own module, not the package above it (which always has a docstring)."""
    import types

    bare = types.ModuleType("xai_core.metrics._undocumented")
    sys.modules[bare.__name__] = bare
    try:
        undocumented = type("Undocumented", (), {"__module__": bare.__name__, "__doc__": None})
        assert not _documented(undocumented)
        bare.__doc__ = "Cites a paper."
        assert _documented(undocumented)
    finally:
        del sys.modules[bare.__name__]


@pytest.fixture(scope="module")
def explained():
    """A tiny model, a scan, a lesion mask and a quick seeded map with a budget (RISE), so metrics that
    explain again (stability, convergence, randomisation, sensitivity) stay cheap."""
    model = tiny_loaded(input_shape=(16, 16, 1), classes=3)
    image = np.random.default_rng(3).uniform(0, 255, (16, 16, 1)).astype(np.float32)
    mask = np.zeros((16, 16), bool)
    mask[4:9, 5:11] = True
    e = xc.explain(model, image, method="rise", top_k=1, cache=None, masks=40, cell_size=4, batch_size=64)
    return model, image, mask, e


@pytest.mark.parametrize("name", xc.METRICS.names())
def test_every_metric_scores_a_map_of_a_tiny_model(name, explained):
    from xai_core.metrics import MetricResult

    model, image, mask, e = explained
    r = xc.METRICS.get(name)(model, image, e, mask=mask)
    assert isinstance(r, MetricResult) and r.metric == name and r.meaning
    assert r.better == xc.METRICS.get(name).better
    assert (r.verdict == "n/a") == (not np.isfinite(r.value)), (r.verdict, r.value)
    assert r.verdict == "n/a" or r.threshold
    again = xc.METRICS.get(name)(model, image, e, mask=mask)  # seeded: the same verdict on the same map
    assert again.verdict == r.verdict and (again.value == r.value or np.isnan(r.value) and np.isnan(again.value))


@pytest.mark.parametrize("name", OOD_SCORES.names())
def test_every_out_of_domain_score_fits_and_scores_each_image_on_its_own(name):
    from xai_core.domain import image_outputs

    spec = OOD_SCORES.get(name)
    model = tiny_loaded(input_shape=(16, 16, 1), classes=3)
    rng = np.random.default_rng(5)
    train = rng.uniform(0, 255, (30, 16, 16, 1)).astype(np.float32)
    outputs = dict(image_outputs(model, train, features=spec.needs_features), labels=np.arange(30) % 3)
    state = spec.fit(outputs)
    new = image_outputs(model, rng.uniform(0, 255, (6, 16, 16, 1)).astype(np.float32), features=spec.needs_features)
    scores = np.asarray(spec.score(state, new))
    assert scores.shape == (6,) and np.isfinite(scores).all()
    # a score belongs to one image: reversing the images reverses the scores
    flipped = {k: v[::-1] if k in ("margin", "probability", "features") else v for k, v in new.items()}
    np.testing.assert_allclose(np.asarray(spec.score(state, flipped)), scores[::-1], rtol=1e-9, atol=1e-9)
    assert spec.display_name and spec.description


def test_a_throw_away_plug_in_can_be_unregistered():
    reg: Registry[int] = Registry("thing")
    reg.register("a", 1)
    assert reg.unregister("a") == 1 and "a" not in reg and reg.unregister("a") is None
    reg.register("a", 2)  # the name is free again
    assert reg.get("a") == 2
