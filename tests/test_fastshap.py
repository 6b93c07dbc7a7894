"""The amortised Shapley explainer (``fastshap``) against values known in closed form, and its promises:
exact additivity, the same maps for the same seed, a missing or stale explainer refused in one sentence,
resumable training, the CLI, and the trust card's gates on its maps."""

import re

import numpy as np
import pytest
import scipy.ndimage as ndi
from scipy.stats import spearmanr

import xai_core as xc
from xai_core.explainers._amortised import hidden, patch_segments
from xai_core.models import LoadedModel, ModelMetadata

# The stated tolerance: on held-out scans of an additive model, the trained explainer's values correlate
# with the exact ones at Spearman >= 0.85 on average and are within 45% relative (L2) error; maps add up to
# the model's output to 1e-9.
MIN_SPEARMAN, MAX_REL_ERROR = 0.85, 0.45


def _linear_model(name="tiny-linear", seed=0, file_hash=None):
    """An additive model: logits = W . (x / 255) + b. With hidden patches showing the blur fill, patch i's
    exact Shapley value for class k is sum over its pixels of W[p, k] (x_p - fill_p) / 255."""
    import keras

    keras.utils.set_random_seed(seed)
    inp = keras.Input((16, 16, 1))
    out = keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(inp))
    meta = ModelMetadata(class_names=["a", "b", "c"], input_size=(16, 16), input_channels=1, input_scale="0-1")
    return LoadedModel(keras.Model(inp, out), meta, name, file_hash=file_hash or f"{name}-{seed}")


def _scans(n, seed=0):
    """Smooth scans from six random blurred patterns: a low-dimensional domain, as real scans are."""
    rng = np.random.default_rng(seed)
    basis = np.stack([ndi.gaussian_filter(b, (1.5, 1.5, 0)) for b in rng.normal(0, 1, (6, 16, 16, 1))])
    basis /= basis.std(axis=(1, 2, 3), keepdims=True)
    return np.clip(128 + 40 * np.einsum("nj,jhwc->nhwc", rng.normal(0, 1, (n, 6)), basis), 0, 255).astype(np.float32)


def _closed_form(model, x):
    w = model.keras_model.layers[-1].get_weights()[0]  # (256, 3)
    diff = ((x - hidden(x)) / 255).reshape(-1)
    seg = patch_segments(x.shape, "4x4").ravel()
    return np.stack([np.bincount(seg, diff * w[:, k], minlength=16) for k in range(3)])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from xai_core.training.amortise import amortise

    model = _linear_model()
    scans = _scans(270)
    info = amortise(model, scans[:250], players="4x4", epochs=3, samples=16, fit_passes=6, learning_rate=3e-3, seed=0)
    return model, scans[250:], info


def test_recovers_closed_form_shapley_values_of_an_additive_model(trained):
    model, held_out, info = trained
    rhos, rels = [], []
    for x in held_out:
        e = xc.explain(model, x, method="fastshap", classes=[0, 1, 2], cache=None, players="4x4")
        truth, est = _closed_form(model, x), e.extras["weights"]
        rels.append(np.linalg.norm(est - truth) / np.linalg.norm(truth))
        rhos += [spearmanr(est[k], truth[k]).statistic for k in range(3)]
    assert np.mean(rhos) >= MIN_SPEARMAN and np.mean(rels) <= MAX_REL_ERROR, (np.mean(rhos), np.mean(rels))
    assert info["history"][-1]["val_loss"] < info["history"][0]["val_loss"]  # the validation curve falls


def test_the_closed_form_is_the_exact_superpixel_shapley_value(trained):
    """The game the explainer learns is the one the exact 2^16-coalition path scores (the closed form above
    is not a second, different game)."""
    from xai_core.explainers.shap_superpixel import all_coalitions, coalition_values, exact_shapley

    model, held_out, _ = trained
    x = held_out[0]
    v = coalition_values(model.output_fn("margin", 4096), x, hidden(x), patch_segments(x.shape, "4x4"),
                         all_coalitions(16), 4096)
    np.testing.assert_allclose(exact_shapley(v, 16), _closed_form(model, x), atol=1e-5)


def test_maps_add_up_exactly_and_pass_the_explanation_contract(trained):
    model, held_out, _ = trained
    e = xc.explain(model, held_out[1], method="fastshap", top_k=2, cache=None, players="4x4")
    assert e.values.shape == (2, 16, 16, 1) and e.relative_residuals.max() < 1e-9
    base = model.output_fn("margin")(hidden(held_out[1])[None])[0][e.class_indices]
    np.testing.assert_allclose(e.base_values, base, rtol=1e-6)
    ref, name = xc.EXPLAINERS.get("fastshap").reference_image(e, held_out[1])
    assert ref.shape == held_out[1].shape and "blur(20,20)" in name


def test_trust_card_scores_its_maps_and_withholds_verdicts_outside_the_domain(trained):
    from xai_core import trust
    from xai_core.gates import OUT_OF_DOMAIN

    model, held_out, _ = trained
    e = xc.explain(model, held_out[2], method="fastshap", top_k=1, cache=None, players="4x4")
    card = trust.card(model, held_out[2], e, cache=None)
    assert card and all(r.metric == name for name, r in card.items())
    randomised = trust.card(model, held_out[2], e, metrics=["randomisation"], cache=None)["randomisation"]
    assert randomised.verdict == "n/a" and "trained for one model" in randomised.meaning
    gated = trust.card(model, held_out[2], e, cache=None, out_of_domain=True)
    assert set(gated) == set(card) and all(OUT_OF_DOMAIN in r.verdict + r.meaning for r in gated.values())


def _one_sentence(text: str) -> bool:
    return "\n" not in text and text.endswith(".") and len(re.findall(r"[.!?]\s+[A-Z]", text)) == 0


def test_a_missing_or_stale_explainer_is_refused_in_one_sentence(trained, monkeypatch, tmp_path):
    from xai_core import config

    model, held_out, _ = trained
    with pytest.raises(xc.InputError) as missing:
        xc.explain(_linear_model("never-trained"), held_out[0], method="fastshap", cache=None, players="4x4")
    assert _one_sentence(str(missing.value)) and "python -m xai_core amortise" in str(missing.value)
    assert "Train the fast explainer" in str(missing.value) and "No fast explainer" in str(missing.value)
    # the same model name with another model file (retrained in place): its explainer is stale
    changed = _linear_model(seed=1, file_hash="tiny-linear-changed")
    with pytest.raises(xc.InputError) as stale:
        xc.explain(changed, held_out[0], method="fastshap", cache=None, players="4x4")
    assert _one_sentence(str(stale.value)) and "another version of this model file" in str(stale.value)
    # a shipped explainer (under assets/) whose recorded hash differs is refused the same way
    import shutil

    from xai_core.explainers._amortised import shipped_dir, user_dir

    monkeypatch.setattr(config, "ASSETS_DIR", tmp_path)
    shipped = _linear_model("shipped-linear", file_hash="shipped-v2")
    shutil.copytree(user_dir(model, "4x4", "margin"), shipped_dir("shipped-linear", "4x4", "margin"))
    with pytest.raises(xc.InputError, match="another version of this model file"):
        xc.explain(shipped, held_out[0], method="fastshap", cache=None, players="4x4")


def test_same_seed_same_maps_resumable_and_retraining_is_not_served_from_the_cache(tmp_path):
    from xai_core.cache import DiskCache
    from xai_core.explainers._amortised import load_network
    from xai_core.training.amortise import amortise

    model, scans = _linear_model("tiny-seeded"), _scans(40, seed=1)
    kw = dict(players="4x4", samples=4, fit_passes=1, val_images=4)
    cache = DiskCache(tmp_path / "cache")
    first_info = amortise(model, scans, seed=3, epochs=1, resume=False, **kw)  # into the model's own store
    first = xc.explain(model, scans[0], method="fastshap", cache=cache, players="4x4")
    amortise(model, scans, tmp_path / "b", seed=3, epochs=1, resume=False, **kw)
    fills = np.stack([hidden(s) for s in scans[:2]])
    raw_b = np.asarray(load_network(tmp_path / "b", {})(scans[:2], fills))
    said = []
    resumed = amortise(model, scans, tmp_path / "b", seed=3, epochs=2, progress=lambda f, m: said.append(m), **kw)
    assert "resuming after epoch 1 of 2" in said and len(resumed["history"]) == 2
    assert resumed["history"][0] == first_info["history"][0]
    from xai_core.explainers._amortised import user_dir

    raw_a = np.asarray(load_network(user_dir(model, "4x4", "margin"), {})(scans[:2], fills))
    np.testing.assert_array_equal(raw_a, raw_b)  # the same seed trains the same network: the same maps
    # another seed trains another network; it changes the cache key, so its maps are not the old cached ones
    amortise(model, scans, seed=4, epochs=1, resume=False, **kw)
    again = xc.explain(model, scans[0], method="fastshap", cache=cache, players="4x4")
    assert not again.cached and not np.allclose(again.values, first.values)


def test_cli_trains_and_explain_gives_additive_maps(tmp_path, capsys):
    import keras

    from xai_core.cli import main

    keras.utils.set_random_seed(0)
    inp = keras.Input((28, 28, 1))
    km = keras.Model(inp, keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(
        keras.layers.AveragePooling2D(4)(inp))))
    folder = tmp_path / "digits-tiny"
    folder.mkdir()
    km.save(folder / "model.keras")
    ModelMetadata(class_names=[str(i) for i in range(10)], input_size=(28, 28), input_channels=1,
                  input_scale="0-1", dataset="sklearn-digits").write(folder / "metadata.json")
    assert main(["amortise", "--model", str(folder), "--dataset", "sklearn-digits", "--players", "4x4",
                 "--epochs", "1", "--samples", "4", "--fit-passes", "1", "--limit", "24", "--val-images", "4"]) == 0
    assert "wrote the fast explainer of digits-tiny" in capsys.readouterr().out
    out = tmp_path / "e.npz"
    assert main(["explain", "--model", str(folder), "--image", "sklearn-digits:test:0", "--method", "fastshap",
                 "--param", "players=4x4", "--top-k", "2", "--no-cache", "--out", str(out)]) == 0
    e = xc.Explanation.load(out)
    assert e.method == "fastshap" and e.relative_residuals.max() < 1e-9


def test_model_page_trains_the_fast_explainer_with_live_curves(tmp_path, monkeypatch):
    """The model page's section comes from the registry (``trained_per_model``): state, button, live curves."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("XAI_USER_MODELS_DIR", str(tmp_path))

    def page():
        from pages._ui import amortised
        from tests.test_fastshap import _linear_model

        amortised.section("tiny-page", _linear_model("tiny-page"), "sklearn-digits", 7)

    at = AppTest.from_function(page, default_timeout=120).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.subheader[0].value == "7. Explainers trained for this model"
    assert set(at.dataframe[0].value["state"]) == {"not trained"}
    key = "amort_fastshap_tiny-page"
    at.selectbox(key=f"{key}_opt").set_value("4x4")
    at.number_input(key=f"{key}_epochs").set_value(2)
    at.number_input(key=f"{key}_n").set_value(16)
    at.button(key=f"{key}_go").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.success and "2 epochs" in at.success[0].value
    assert len(at.get("plotly_chart")) == 1  # the live curves, redrawn each epoch
    states = at.dataframe[0].value
    assert list(states[states["state"] == "ready"]["setting"]) == ["4x4"]
