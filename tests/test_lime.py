"""LIME: the same weights as the lime package, deterministic per seed, honest about stability."""

import numpy as np
import pytest

import xai_core as xc
from tests.conftest import tiny_loaded
from xai_core.explanation import Explanation
from xai_core.metrics import METRICS
from xai_core.metrics.stability import jaccard, superpixel_stability, verdict


def _lime_reference(model, image, expl, hide_color, num_samples, seed, grey):
    """lime_image.LimeImageExplainer().explain_instance with the same segments, samples and random state."""
    from lime import lime_image

    seg = expl.extras["segments"]
    x = np.repeat(image, 3, -1) if grey else image  # lime works on RGB; the model sees the grey channel
    fn = (lambda b: model.predict_proba(np.asarray(b, np.float32)[..., :1])) if grey else \
        (lambda b: model.predict_proba(np.asarray(b, np.float32)))
    return lime_image.LimeImageExplainer(random_state=seed).explain_instance(
        x.astype(np.float64), fn, labels=tuple(int(c) for c in expl.class_indices), top_labels=None,
        hide_color=hide_color, num_samples=num_samples, batch_size=100, segmentation_fn=lambda _: seg,
        random_seed=0)


def _assert_same_as_lime(expl, ref):
    seg = expl.extras["segments"]
    for k, c in enumerate(expl.class_indices):
        w = np.zeros(seg.max() + 1)
        for feature, value in ref.local_exp[int(c)]:
            w[feature] = value
        np.testing.assert_allclose(expl.extras["weights"][k], w, rtol=1e-9, atol=1e-12)
        assert expl.extras["intercept"][k] == pytest.approx(ref.intercept[int(c)], rel=1e-9, abs=1e-12)
    # lime keeps only the last label's score and local prediction
    assert expl.extras["score"][-1] == pytest.approx(ref.score, rel=1e-9)
    assert expl.extras["local_pred"][-1] == pytest.approx(float(np.ravel(ref.local_pred)[0]), rel=1e-9)


@pytest.mark.parametrize("segmenter", ["slic", "quickshift", "watershed-sobel"])
def test_same_weights_as_lime_on_the_shipped_cnn(brain, brain_model, segmenter):
    image = brain_model.prepare(brain.image("test", 11))
    e = xc.explain(brain_model, image, method="lime", output="probability", top_k=2, cache=None,
                   segmenter=segmenter, num_samples=300, seed=7)
    _assert_same_as_lime(e, _lime_reference(brain_model, image, e, None, 300, 7, grey=True))


def test_same_weights_as_lime_with_a_constant_hide_colour_on_rgb():
    model = tiny_loaded(input_shape=(24, 24, 3), classes=3)
    image = np.random.default_rng(3).uniform(0, 255, (24, 24, 3)).astype(np.float32)
    e = xc.explain(model, image, method="lime", output="probability", top_k=3, cache=None,
                   segmenter="felzenszwalb", segmenter_params={"scale": 20, "min_size": 5}, hide_color="0",
                   num_samples=200, seed=3)
    assert e.extras["weights"].shape[1] >= 5
    _assert_same_as_lime(e, _lime_reference(model, image, e, 0, 200, 3, grey=False))


def test_result_carries_segments_weights_fit_and_local_prediction(brain, brain_model):
    e = xc.explain(brain_model, brain.image("test", 2), method="lime", output="probability", top_k=2, cache=None,
                   num_samples=400)
    seg, w = e.extras["segments"], e.extras["weights"]
    assert w.shape == (2, seg.max() + 1)
    assert e.extras["intercept"].shape == e.extras["score"].shape == e.extras["local_pred"].shape == (2,)
    assert np.all((e.extras["score"] > 0) & (e.extras["score"] <= 1))
    # the map paints each superpixel's weight on its pixels
    np.testing.assert_allclose(e.map(0), w[0][seg], atol=1e-12)
    # the top class's local fit predicts the model's own probability on the image reasonably well
    assert abs(e.extras["local_pred"][0] - e.output_values[0]) < 0.25


def test_deterministic_for_a_seed_and_different_across_seeds(brain, brain_model):
    image = brain.image("test", 5)
    a, b, c = (xc.explain(brain_model, image, method="lime", top_k=1, cache=None, num_samples=300, seed=s)
               for s in (1, 1, 2))
    assert np.array_equal(a.extras["weights"], b.extras["weights"])
    assert not np.array_equal(a.extras["weights"], c.extras["weights"])
    assert np.array_equal(a.extras["segments"], c.extras["segments"])  # only the perturbations change


def test_hide_colours_and_margin_space(brain, brain_model):
    image = brain.image("test", 5)
    outs = {h: xc.explain(brain_model, image, method="lime", output="margin", top_k=1, cache=None,
                          num_samples=200, hide_color=h) for h in ("mean", "blur", "0")}
    assert outs["mean"].output_space == "margin"
    assert not np.allclose(outs["mean"].extras["weights"], outs["blur"].extras["weights"])
    with pytest.raises(xc.InputError, match="hide_color"):
        xc.explain(brain_model, image, method="lime", cache=None, hide_color="grey")
    with pytest.raises(xc.InputError, match="n_segments"):
        xc.explain(brain_model, image, method="lime", cache=None, segmenter_params={"n_segments": 0})


def test_cache_serves_a_repeat_and_defaults_spelled_out_hit_the_same_entry(brain, brain_model, tmp_path):
    from xai_core.cache import DiskCache

    cache = DiskCache(tmp_path)
    image = brain.image("test", 9)
    first = xc.explain(brain_model, image, method="lime", top_k=1, cache=cache, num_samples=200)
    again = xc.explain(brain_model, image, method="lime", top_k=1, cache=cache, num_samples=200,
                       segmenter="slic", segmenter_params={"n_segments": 50})
    assert again.cached and not first.cached
    np.testing.assert_array_equal(first.extras["weights"], again.extras["weights"])


def _fake(weights, segments=None, classes=(0,)):
    weights = np.asarray(weights, np.float64)
    seg = np.arange(weights.shape[-1]).reshape(1, -1) if segments is None else segments
    k = len(classes)
    return Explanation(values=np.zeros((k, *seg.shape, 1)), base_values=np.zeros(k), output_values=np.zeros(k),
                       class_indices=np.array(classes), class_names=[f"c{c}" for c in classes],
                       output_space="probability", method="lime", params={},
                       extras={"segments": seg, "weights": weights.reshape(k, -1)})


def test_stability_on_hand_made_weights():
    w1 = [9, 8, 7, 6, 5, 0, 0, 0]
    w2 = [9, 8, 7, 6, 0, 5, 0, 0]  # one of the top five swapped: Jaccard 4/6
    s = superpixel_stability([_fake(w1), _fake(w1)])
    assert s.jaccard[0] == 1.0 and s.verdict() == "stable" and np.all(s.std == 0)
    s = superpixel_stability([_fake(w1), _fake(w2)])
    assert s.jaccard[0] == pytest.approx(4 / 6)
    assert s.std[0, 4] == pytest.approx(2.5) and s.std[0, 0] == 0
    # RMS std sqrt(2 * 2.5^2 / 8) = 1.25 over the top-5 mean |weight| (9+8+7+6+2.5)/5 = 6.5
    assert s.relative_std[0] == pytest.approx(1.25 / 6.5)
    assert s.verdict() == "somewhat unstable" and '"Samples"' in s.advice()
    s = superpixel_stability([_fake(w1), _fake(w2), _fake(w1)])
    assert s.jaccard[0] == pytest.approx((4 / 6 + 1 + 4 / 6) / 3)
    assert verdict(0.31) == "unstable" and verdict(0.29) == "somewhat unstable" and verdict(0.1) == "stable"


def _noisy_runs(weights, spread, repeats=4, seed=0):
    """Repeats whose weights scatter with a chosen RMS std of ``spread`` x the top-5 mean |weight|."""
    w = np.asarray(weights, np.float64)
    scale = np.sort(np.abs(w))[::-1][:5].mean()
    noise = np.random.default_rng(seed).normal(size=(repeats, len(w)))
    noise -= noise.mean(0)
    noise /= np.sqrt((noise.std(0) ** 2).mean())  # RMS std across repeats exactly 1
    return [_fake(w + spread * scale * n) for n in noise]


@pytest.mark.parametrize("spread, word", [(0.09, "stable"), (0.11, "somewhat unstable"),
                                          (0.29, "somewhat unstable"), (0.31, "unstable")])
def test_the_verdict_follows_the_relative_spread_on_both_sides_of_each_threshold(spread, word):
    for weights in ([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],  # many equal weights: the top-5 set reshuffles
                    [50, 40, -30, 2, 1, 0]):  # few big weights: the top-5 set never changes
        s = superpixel_stability(_noisy_runs(weights, spread))
        assert s.relative_std[0] == pytest.approx(spread)
        assert s.verdict() == word


def test_the_verdict_is_scale_aware_and_agrees_with_the_spread():
    """Issue 11: small spread must not read worse than ten times the spread on the same weights."""
    calm = superpixel_stability(_noisy_runs([1] * 12, 0.05))  # near-equal weights: Jaccard low, spread small
    wild = superpixel_stability(_noisy_runs([10, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1], 0.5))
    assert calm.jaccard[0] < wild.jaccard[0]  # the old rule would call calm the less stable one
    assert calm.verdict() == "stable" and wild.verdict() == "unstable"
    scaled = superpixel_stability([_fake(np.asarray(e.extras["weights"]) * 1000)
                                   for e in _noisy_runs([1] * 12, 0.05)])
    assert scaled.relative_std[0] == pytest.approx(calm.relative_std[0]) and scaled.verdict() == "stable"


def test_stability_refuses_what_it_cannot_compare():
    w1 = [9, 8, 7, 6, 5, 0, 0, 0]
    assert jaccard([1, 2], [3, 4]) == 0.0
    with pytest.raises(xc.InputError):
        superpixel_stability([_fake(w1)])
    with pytest.raises(xc.InputError, match="segments"):
        superpixel_stability([_fake(w1), _fake(w1, segments=np.zeros((1, 8), int))])
    assert METRICS.get("superpixel-stability").cost == "costly"


def test_more_samples_make_lime_more_stable(brain, brain_model):
    image = brain.image("test", 20)

    def overlap(n):
        runs = xc.api.explain_repeats(brain_model, image, repeats=4, method="lime", top_k=1, cache=None,
                                      segmenter="slic", num_samples=n, output="margin")
        s = superpixel_stability(runs)
        return s.jaccard[0], float(np.median(s.std[0]))

    (j_small, sd_small), (j_large, sd_large) = overlap(100), overlap(2000)
    assert sd_large < sd_small / 2  # weight spread falls roughly as 1/sqrt(samples)
    assert j_large >= j_small
