"""The public entry points: ``explain`` and ``predict_split``.

Both go through the content-addressed disk cache (``cache.py``); the app
adds Streamlit's caches on top.
"""

from __future__ import annotations

import numpy as np

from . import cancel, config, gates
from .cache import DEFAULT_CACHE, DiskCache, library_versions, make_key
from .data.images import image_hash
from .errors import InputError
from .explainers import EXPLAINERS
from .params import Progress
from .explanation import Explanation
from .models import OUTPUT_SPACES, LoadedModel, as_model
from .models import openvino_backend as forward_backend
from .models.openvino_backend import backend_request

DEFAULT_TOP_K = 4


def resolve_classes(model: LoadedModel, probabilities: np.ndarray, top_k: int | None = None,
                    classes=None) -> np.ndarray:
    """Class indices to explain: the given ones (names or indices), else the top-k by probability."""
    n = model.num_classes
    if classes is not None and len(classes) > 0:
        out = []
        for c in classes:
            if isinstance(c, str) and not c.lstrip("-").isdigit():
                if c not in model.class_names:
                    raise InputError(f"Unknown class {c!r}; the model's classes are {', '.join(model.class_names)}.")
                out.append(model.class_names.index(c))
            else:
                i = int(c)
                if not 0 <= i < n:
                    raise InputError(f"Class index {i} is outside 0..{n - 1}.")
                out.append(i)
        return np.array(list(dict.fromkeys(out)), np.int64)
    k = min(DEFAULT_TOP_K, n) if top_k is None else int(top_k)
    if not 1 <= k <= n:
        raise InputError(f"top_k must be between 1 and {n} for this model; got {k}.")
    return np.argsort(-probabilities, kind="stable")[:k].astype(np.int64)


def explain(model, image: np.ndarray, method: str = "shap-partition", output: str = "margin",
            top_k: int | None = None, classes=None, progress: Progress | None = None,
            cache: DiskCache | None = DEFAULT_CACHE, cached_only: bool = False, **params) -> Explanation | None:
    """Explain one image for its top-k classes (or the given ``classes``) in one output space.

    ``model`` is a ``LoadedModel`` or a model name/path; ``image`` is (H, W[, C]) in 0..255 and is
    fitted to the model's input (resize, grey/RGB) first. Method parameters (``max_evals``,
    ``masker``, ``batch_size``, ``seed`` for SHAP) are validated against the explainer's schema.
    With ``cached_only`` nothing is computed: the cached explanation, or None.
    """
    lm = as_model(model)
    if output not in OUTPUT_SPACES:
        raise InputError(f"output must be 'margin' or 'probability'; got {output!r}.")
    explainer_cls = EXPLAINERS.get(method)
    p = explainer_cls.validate(params)
    # Gradient methods differentiate the TensorFlow graph: all their passes stay there. The others run on
    # the requested forward backend; the label says which, and bf16 maps get cache keys of their own.
    with forward_backend.using("tensorflow" if explainer_cls.uses_gradients else None):
        backend = lm.backend()
        x = lm.prepare(image)
        probs = lm.forward_image(x)[1]
    idx = resolve_classes(lm, probs, top_k, classes)

    def compute() -> Explanation:
        # The time limit (XAI_TIME_LIMIT_S, or an outer cancel.limit such as the CLI's --timeout) and
        # any stop flag are checked between batches: in the progress calls and in the forward pass.
        with cancel.limit(config.time_limit_s()), forward_backend.using(backend_request(backend)):
            e = explainer_cls().explain(lm, x, idx, output, progress=cancel.guard(progress), **p)
        e.backend = backend
        e.info.setdefault("unit", explainer_cls.unit_label(output))  # plots label colour bars with it
        e.info.setdefault("family", explainer_cls.family)
        gates.stamp(lm, e)  # does the model's output move at all? (plots and cards read it)
        return e

    if cache is None:
        return None if cached_only else compute()
    state = explainer_cls.state(lm, p, output)  # a trained explainer's network: retraining it changes the key
    key = make_key(kind="explanation", model=lm.file_hash, image=image_hash(x), method=method,
                   output=output, classes=idx.tolist(), params=p, versions=library_versions(explainer_cls.libraries),
                   **forward_backend.cache_key_part(backend), **({"state": state} if state is not None else {}))
    if cached_only:
        expl = cache.lookup(key, "explanations", Explanation.load)
        if expl is not None:
            expl.cached = True
            gates.stamp(lm, expl)
        return expl
    expl, hit = cache.get_or_compute(key, "explanations", compute, Explanation.load,
                                     lambda e, path: e.save(path))
    if hit:
        expl.cached = True
        gates.stamp(lm, expl)  # maps cached before the stamp existed
        if progress is not None:
            progress(1.0, "served from cache")
    return expl


def explain_repeats(model, image: np.ndarray, repeats: int, seed: int = 0, method: str = "lime",
                    progress: Progress | None = None, **kwargs) -> list[Explanation]:
    """``repeats`` explanations of one image with seeds ``seed, seed+1, ...`` (for stability checks).

    Everything else (method, output, classes, parameters, cache) is passed to ``explain``.
    """
    if not 1 <= int(repeats) <= 100:
        raise InputError(f"repeats must be between 1 and 100; got {repeats}.")
    out = []
    for r in range(int(repeats)):
        def step(f, msg, r=r):
            if progress is not None:
                progress((r + f) / repeats, f"seed {seed + r} ({r + 1} of {repeats}): {msg}")
        out.append(explain(model, image, method=method, progress=step, seed=seed + r, **kwargs))
    return out


def predict_split(model, dataset: str, split: str = "test", cache: DiskCache | None = DEFAULT_CACHE,
                  progress: Progress | None = None) -> np.ndarray:
    """Probabilities (N, K) of ``model`` on every image of a dataset split, cached on disk.

    The same cached pass as ``domain.split_outputs`` (which also keeps margins and the features the
    out-of-domain check needs), so the gallery's predictions and its domain flags cost one pass.
    """
    from .domain import split_outputs

    return split_outputs(as_model(model), dataset, split, cache=cache, progress=progress)["probability"]
