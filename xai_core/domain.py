"""Model outputs over dataset splits, and the out-of-domain check built on them.

``split_outputs`` runs a model over a dataset split once (margin,
probability, penultimate features) and caches the arrays on disk.
``ood_detector`` fits an out-of-domain score on the model's own training
dataset (``metadata.dataset``), thresholds it at the 95th percentile of the
validation split, and caches that too. ``domain_check`` scores new images.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from .cache import DEFAULT_CACHE, DiskCache, library_versions, make_key
from .models.openvino_backend import exact_request
from .data import DATASETS, load_dataset
from .data.images import image_hash
from .errors import InputError
from .params import Progress
from .models import LoadedModel, as_model
from .ood import DEFAULT_SCORE, OOD_SCORES, PERCENTILE, Detector

_KEYS = ("margin", "probability", "features", "feature_slices", "labels")


def image_outputs(model: LoadedModel, images: np.ndarray, progress: Progress | None = None,
                  features: bool = True, step: int = 256) -> dict:
    """Margin, probability and (if reachable) features for a stack of raw images, fitted to the model."""
    ms, ps, fs = [], [], []
    for i in range(0, len(images), step):
        batch = np.stack([model.prepare(im) for im in images[i:i + step]])
        m, p = model.forward(batch, backend=exact_request())  # fp32 even in a bf16 session: evidence
        ms.append(m)
        ps.append(p)
        if features and model.has_features:
            fs.append(model.features(batch))
        if progress is not None:
            done = min(i + step, len(images))
            progress(done / max(1, len(images)), f"{done:,} / {len(images):,} images")
    k = model.num_classes
    out = {"margin": np.concatenate(ms) if ms else np.zeros((0, k)),
           "probability": np.concatenate(ps) if ps else np.zeros((0, k))}
    if fs:
        out["features"] = np.concatenate(fs)
        out["feature_slices"] = np.array([(a, b) for _, a, b in model.feature_slices], np.int64)
    return out


def split_outputs(model, dataset: str, split: str = "test", cache: DiskCache | None = DEFAULT_CACHE,
                  progress: Progress | None = None) -> dict:
    """``image_outputs`` over a whole dataset split plus its ``labels``, cached on disk."""
    lm = as_model(model)
    ds = load_dataset(dataset)
    s = ds.split(split)

    def compute():
        return {**image_outputs(lm, s.images, progress), "labels": s.labels}

    if cache is None:
        return compute()
    key = _split_key(lm, dataset, ds, split)

    def load(path):
        with np.load(path) as z:
            return {k: z[k] for k in _KEYS if k in z.files}

    out, hit = cache.get_or_compute(key, "outputs", compute, load, lambda v, p: np.savez(p, **v))
    if hit and progress is not None:
        progress(1.0, "served from cache")
    return out


def _split_key(lm: LoadedModel, dataset: str, ds, split: str) -> str:
    s = ds.split(split)
    return make_key(kind="split-outputs", model=lm.file_hash, features=lm.feature_slices if lm.has_features else None,
                    dataset=dataset, seed=ds.seed, split=split,
                    data=image_hash(s.images[:: max(1, len(s) // 64)]), n=len(s),
                    versions=library_versions())  # always fp32 (image_outputs): shared by every backend


def images_to_fit(model, method: str = DEFAULT_SCORE, cache: DiskCache | None = DEFAULT_CACHE) -> int:
    """Training-dataset images that ``model``'s first out-of-domain check still has to send through the model:
    0 once its detector is fitted (or its owner stored a reference), else the images of the splits whose
    outputs are not in the disk cache. What a time estimate multiplies by the timed forward pass."""
    from .ood._reference import load_reference

    lm = as_model(model)
    dataset = lm.metadata.dataset
    ref = load_reference(lm)
    with _lock:
        fitted = (lm.file_hash, method) in _detectors
    if fitted or (ref is not None and ref.method == method) or not dataset or dataset not in DATASETS:
        return 0
    ds = load_dataset(dataset)
    return sum(len(ds.split(s)) for s in ("train", "val", "test")
               if cache is None or not cache.path(_split_key(lm, dataset, ds, s), "outputs").is_file())


_detectors: dict[tuple, Detector] = {}
_lock = threading.Lock()
_fit_lock = threading.Lock()  # one fit at a time: a page asking while the warm-up fits waits for that fit


def ood_detector(model, method: str = DEFAULT_SCORE, cache: DiskCache | None = DEFAULT_CACHE,
                 progress: Progress | None = None) -> Detector:
    """The out-of-domain detector of ``model``, fitted on its training dataset (train / val / test), or the
    reference its owner stored with it (``domain_reference``: users' own models)."""
    from .ood._reference import load_reference, missing_message

    lm = as_model(model)
    spec = OOD_SCORES.get(method)
    dataset = lm.metadata.dataset
    ref = load_reference(lm)
    if ref is not None and ref.method == method:
        return ref
    if not dataset or dataset not in DATASETS:
        raise InputError(missing_message(lm))
    if spec.needs_features and not lm.has_features:
        raise InputError(f"{spec.display_name} needs the model's penultimate features, which cannot be reached.")
    key = (lm.file_hash, method)
    with _lock:
        if key in _detectors:
            return _detectors[key]
    with _fit_lock:
        with _lock:
            if key in _detectors:
                return _detectors[key]
        return _fit_detector(lm, spec, method, dataset, key, cache, progress)


def forget_detectors(file_hash: str) -> None:
    """Drop the detectors held in memory for a model file (its reference was refitted)."""
    with _lock:
        for key in [k for k in _detectors if k[0] == file_hash]:
            del _detectors[key]


def _fit_detector(lm: LoadedModel, spec, method: str, dataset: str, key: tuple, cache, progress) -> Detector:
    def part(i, name):
        def step(f, msg):
            if progress is not None:
                progress((i + f) / 3, f"{name} split: {msg}")
        return step

    outs = {s: split_outputs(lm, dataset, s, cache=cache, progress=part(i, s))
            for i, s in enumerate(("train", "val", "test"))}
    state = spec.fit(outs["train"])
    val, test = (np.asarray(spec.score(state, outs[s]), np.float64) for s in ("val", "test"))
    det = Detector(method=method, model_name=lm.name, dataset=dataset, state=state,
                   threshold=float(np.percentile(val, PERCENTILE)), val_scores=val, test_scores=test,
                   info={"train_size": int(len(outs["train"]["labels"]))})
    with _lock:
        _detectors[key] = det
    return det


@dataclass
class DomainCheck:
    scores: np.ndarray  # (N,)
    flags: np.ndarray  # (N,) bool: above the threshold
    detector: Detector

    def percentile(self, i: int = 0) -> float:
        """Share (0..100) of the model's own held-out validation scans that look MORE like the training
        data than image ``i`` (a lower score). 99.9 means only 1 in 1,000 of them is as unusual."""
        return percentile_of(self.detector, float(self.scores[i]))

    def message(self, i: int = 0) -> str:
        """One plain sentence for image ``i``, or '' when it looks in domain."""
        if not self.flags[i]:
            return ""
        d = self.detector
        return (f"This scan looks outside this model's training domain: {plain_rank(d, self.percentile(i))} "
                f"The answer of {d.model_name} and its maps cannot be trusted here.")

    def technical(self, i: int = 0) -> str:
        """The same fact in technical form (for a tooltip)."""
        d = self.detector
        return (f"{d.spec.display_name}: score {self.scores[i]:.3g} against a threshold of {d.threshold:.3g} "
                f"(the {d.percentile:g}th percentile of {len(d.val_scores):,} validation scores of {d.dataset}); "
                f"percentile of this scan among them: {self.percentile(i):.1f}.")


def percentile_of(detector: Detector, score: float) -> float:
    """Percent of the detector's validation scores strictly below ``score``."""
    val = np.asarray(detector.val_scores, np.float64)
    return float(100.0 * np.mean(val < score)) if len(val) else float("nan")


def plain_rank(detector: Detector, pct: float) -> str:
    """'it is less like the training scans than 99.9% of them' in words, honest about the sample size."""
    n = len(detector.val_scores)
    ref = f"the {detector.dataset} scans"
    if pct >= 100.0:
        return f"it is less like {ref} than every one of the {n:,} held-out scans the check was calibrated on."
    return f"it is less like {ref} than {pct:.1f}% of them (judged on {n:,} held-out scans)."


def check_images(detector: Detector, model: LoadedModel, images) -> DomainCheck:
    """Score raw images (each (H, W[, C]) in 0..255) with an already fitted detector."""
    scores = detector.scores(image_outputs(model, images, features=detector.spec.needs_features))
    return DomainCheck(scores=scores, flags=detector.flags(scores), detector=detector)


def domain_check(model, images, method: str = DEFAULT_SCORE,
                 cache: DiskCache | None = DEFAULT_CACHE) -> DomainCheck:
    """Out-of-domain scores and flags for a stack (or list) of raw images, each (H, W[, C]) in 0..255."""
    lm = as_model(model)
    return check_images(ood_detector(lm, method, cache=cache), lm, images)


def accepting_models(image, models, method: str = DEFAULT_SCORE, cache: DiskCache | None = DEFAULT_CACHE) -> list[dict]:
    """Which of ``models`` (names, paths or LoadedModels) take ``image`` as in domain: a next step for a
    flagged scan. Models whose check cannot be built (no registered training dataset, no features)
    are skipped. Rows ``{"name", "dataset", "percentile"}``, most typical first."""
    rows = []
    for m in models:
        try:
            lm = as_model(m)
            check = domain_check(lm, [image], method, cache=cache)
        except InputError:
            continue
        if not check.flags[0]:
            rows.append({"name": lm.name, "dataset": check.detector.dataset, "percentile": check.percentile(0)})
    return sorted(rows, key=lambda r: r["percentile"])
