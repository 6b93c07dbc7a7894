"""Start-up work: ``warm`` fills the caches the first page reads, so a later request finds them ready."""

from xai_core import domain, warmup
from xai_core.models import load_model


def test_warm_loads_fits_and_compiles_what_the_first_page_needs():
    timings = warmup.warm(models=("brain-basic-cnn",))
    assert {"load brain-basic-cnn", "dataset synthetic-brain-mri", "predictions brain-basic-cnn",
            "out-of-domain fit brain-basic-cnn", "shap compile"} <= set(timings)
    lm = load_model("brain-basic-cnn")
    # the page's calls are now cache hits: the same objects, no second fit
    assert load_model("brain-basic-cnn") is lm
    assert (lm.file_hash, "mahalanobis") in domain._detectors
    assert domain.ood_detector(lm) is domain._detectors[(lm.file_hash, "mahalanobis")]


def test_warm_skips_what_cannot_be_warmed_and_says_so():
    said = []
    timings = warmup.warm(models=("no-such-model",), log=said.append)
    assert "load no-such-model" in timings and "shap compile" not in timings
    assert any("skipped" in s and "no-such-model" in s for s in said)


def test_by_default_the_default_model_comes_first_then_the_models_beside_it(monkeypatch):
    from xai_core import config
    from xai_core.models import list_models

    monkeypatch.delenv("XAI_WARM_MODELS", raising=False)
    names = warmup.default_models()
    rows = {r["name"]: r for r in list_models()}
    assert names[0] == config.DEFAULT_MODEL and len(set(names)) == len(names) >= 2
    assert {rows[n]["dataset"] for n in names} == {rows[config.DEFAULT_MODEL]["dataset"]}  # one model picker's worth
    monkeypatch.setenv("XAI_WARM_MODELS", "lung-basic-cnn, mnist-cnn")
    assert warmup.default_models() == ("lung-basic-cnn", "mnist-cnn")
