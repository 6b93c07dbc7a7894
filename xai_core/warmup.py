"""Start-up work, done once and off the request path.

The first request of a fresh server used to pay for everything at once:
importing TensorFlow and shap, loading the model, the out-of-domain fit (three
passes over the training dataset, then a Mahalanobis fit), the gallery's
predictions, numba's compilation of shap's Owen traversal (about 9 s on
2 cores; shap's ``@njit`` functions are not cached on disk) and the OpenVINO
conversion and probe of the requested forward backend. ``warm`` does all
of it for the default models in the order a first visitor needs it, filling
the same in-process and disk caches the pages read, so a page that asks later
finds it ready. ``pages/_ui/serve.py`` runs it in a background thread while
the server starts.
"""

from __future__ import annotations

import time
from typing import Callable

from . import config
from .errors import XAIError

Log = Callable[[str], None]


def _timed(timings: dict, what: str, fn, log: Log | None):
    t0 = time.perf_counter()
    try:
        return fn()
    except XAIError as exc:  # a model without a detector, a missing dataset: nothing to warm
        if log:
            log(f"warm-up: {what} skipped ({exc})")
        return None
    finally:
        timings[what] = time.perf_counter() - t0
        if log:
            log(f"warm-up: {what} {timings[what]:.1f} s")


def default_models() -> tuple[str, ...]:
    """``XAI_WARM_MODELS`` (comma-separated), or the default model and then the other shipped models trained on
    its dataset (the ones the model picker offers beside it), so that a first switch finds them ready."""
    import os

    if os.environ.get("XAI_WARM_MODELS"):
        return tuple(m.strip() for m in os.environ["XAI_WARM_MODELS"].split(",") if m.strip())
    from .models import list_models

    rows = list_models()
    dataset = next((r.get("dataset") for r in rows if r["name"] == config.DEFAULT_MODEL), None)
    return (config.DEFAULT_MODEL,) + tuple(r["name"] for r in rows if r["source"] == "shipped" and r.get("dataset")
                                           and r.get("dataset") == dataset and r["name"] != config.DEFAULT_MODEL)


def warm(models: tuple[str, ...] | None = None, log: Log | None = None) -> dict[str, float]:
    """Load, fit and compile what the first pages need; returns seconds per stage.

    ``models`` defaults to ``default_models()``. The first model is warmed completely before the others
    (shap's compilation included): it is the one a first visitor sees.
    """
    from .api import explain, predict_split
    from .data import load_dataset
    from .domain import ood_detector
    from .models import load_model

    names = models or default_models()
    timings: dict[str, float] = {}
    start = time.perf_counter()
    first = None
    for name in names:
        lm = _timed(timings, f"load {name}", lambda name=name: load_model(name), log)
        if lm is None:
            continue
        # OpenVINO conversion, compile and auto's timed probe (models/openvino_backend.py), before any page
        _timed(timings, f"forward backend {name}", lambda lm=lm: lm.backend(), log)
        ds_name = lm.metadata.dataset or config.DEFAULT_DATASET
        _timed(timings, f"dataset {ds_name}", lambda ds_name=ds_name: load_dataset(ds_name), log)
        _timed(timings, f"predictions {name}", lambda lm=lm, d=ds_name: predict_split(lm, d, "test"), log)
        _timed(timings, f"out-of-domain fit {name}", lambda lm=lm: ood_detector(lm), log)
        if first is None:
            first = lm
            image = load_dataset(ds_name).image("test", 0)
            # numba compiles shap's Owen traversal on first use; a tiny uncached run pays for it here
            _timed(timings, "shap compile", lambda: explain(lm, image, "shap-partition", top_k=1, max_evals=64,
                                                             cache=None), log)
    if log:
        log(f"warm-up: done in {time.perf_counter() - start:.1f} s")
    return timings
