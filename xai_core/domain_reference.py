"""An out-of-domain reference for a model that names no registered training dataset (users' own models).

``domain.ood_detector`` fits the check on the model's training dataset, which only shipped models name. A
user's model gets its reference here, once, from what its owner picks:

* a **registered dataset** (its train split fits the score, its validation split sets the threshold), or
* a **folder or zip of typical training scans**, at least ``MIN_SCANS`` (50), unlabelled. With so few scans
  a separate validation split would leave a threshold from ten numbers, so the threshold comes from
  ``FOLDS``-fold cross-fitting: each scan is scored by a check fitted without it, and the 95th percentile
  of those held-out scores is the threshold (the same rule as for shipped models, on every scan). The
  final check is fitted on all of them.

The fitted reference is stored beside the model (``ood_reference.npz``, arrays only, no pickle) with the
model file's hash, so it is used by every page and the CLI and is dropped if the model file changes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import InputError
from .ood import DEFAULT_SCORE, OOD_SCORES, PERCENTILE, Detector
from .params import Progress

from .ood._reference import (HOW_TO_ADD, MIN_SCANS, REFERENCE_FILE, load_reference,  # noqa: F401 (re-exported)
                            missing_message, reference_path, write_reference)

MAX_SCANS = 2000  # more adds little to a 95th percentile and costs a forward pass each
FOLDS = 5


def save_reference(model, detector: Detector) -> Path:
    """Store ``detector`` beside the model file (atomically) and drop any in-memory copy of the old one."""
    from .domain import forget_detectors

    p = write_reference(model, detector)
    forget_detectors(model.file_hash)
    return p


def _method(model) -> str:
    return DEFAULT_SCORE if model.has_features else "energy"  # energy needs only the logits


def fit_from_dataset(model, dataset: str, progress: Progress | None = None) -> Detector:
    """The check fitted on a registered dataset's train split, thresholded on its validation split."""
    from .data import DATASETS
    from .domain import split_outputs

    if dataset not in DATASETS:
        raise InputError(f"{dataset!r} is not a registered dataset; pick one of {', '.join(DATASETS.names())}.")
    method = _method(model)
    spec = OOD_SCORES.get(method)
    outs = {}
    for i, s in enumerate(("train", "val", "test")):
        def step(f, msg, i=i, s=s):
            if progress is not None:
                progress((i + f) / 3, f"{s} split: {msg}")
        outs[s] = split_outputs(model, dataset, s, progress=step)
    state = spec.fit(outs["train"])
    val, test = (np.asarray(spec.score(state, outs[s]), np.float64) for s in ("val", "test"))
    return Detector(method=method, model_name=model.name, dataset=dataset, state=state,
                    threshold=float(np.percentile(val, PERCENTILE)), val_scores=val, test_scores=test,
                    info={"source": f"registered dataset {dataset}", "train_size": int(len(outs["train"]["labels"]))})


def fit_from_images(model, images, label: str, progress: Progress | None = None) -> Detector:
    """The check fitted on unlabelled typical scans (each (H, W[, C]) 0..255), thresholded by cross-fitting."""
    from .domain import image_outputs

    n = len(images)
    if n < MIN_SCANS:
        raise InputError(f"{n} readable scan(s) found; the reference needs at least {MIN_SCANS} typical training "
                         "scans to say what 'usual' looks like.")
    method = _method(model)
    spec = OOD_SCORES.get(method)
    out = image_outputs(model, images, progress, features=spec.needs_features)
    out["labels"] = np.zeros(n, np.int64)  # unlabelled: one cloud of typical scans
    folds = np.random.default_rng(0).permutation(n) % FOLDS
    held = np.zeros(n)
    for f in range(FOLDS):
        fit_part = {k: (v[folds != f] if k != "feature_slices" else v) for k, v in out.items()}
        test_part = {k: (v[folds == f] if k != "feature_slices" else v) for k, v in out.items()}
        held[folds == f] = spec.score(spec.fit(fit_part), test_part)
    state = spec.fit(out)
    return Detector(method=method, model_name=model.name, dataset=label, state=state,
                    threshold=float(np.percentile(held, PERCENTILE)), val_scores=held, test_scores=held,
                    info={"source": f"{n} scans from {label}", "train_size": int(n), "cross_fitted_folds": FOLDS})


def read_scans(folder: str | Path, limit: int = MAX_SCANS) -> tuple[list[np.ndarray], int]:
    """(images, files skipped) of every image or DICOM file under ``folder`` (inside the data folders)."""
    from .data.folder import _images_under, safe_path
    from .data.images import read_scan

    root = safe_path(folder)
    if not root.is_dir():
        raise InputError(f"{folder} is not a folder.")
    images, skipped = [], 0
    for f in _images_under(root, root)[:limit]:
        try:
            images.append(read_scan(f)[0])
        except Exception:  # one unreadable file is skipped and counted, not fatal
            skipped += 1
    return images, skipped


def fit_reference(model, source: str, progress: Progress | None = None) -> Detector:
    """Fit ``model``'s reference from a registered dataset name or a folder of scans, and store it."""
    from .data import DATASETS
    from .models import as_model

    lm = as_model(model)
    if source in DATASETS:
        det = fit_from_dataset(lm, source, progress)
    else:
        images, _ = read_scans(source)
        det = fit_from_images(lm, images, Path(str(source)).name or str(source), progress)
    save_reference(lm, det)
    return det


def describe(model) -> str:
    """One plain line: which reference the model's out-of-domain check uses."""
    ref = load_reference(model)
    if ref is not None:
        return (f"Out-of-domain reference: {ref.info.get('source', ref.dataset)}; scans beyond the "
                f"{ref.percentile:g}th percentile of its held-out scores are flagged.")
    from .data import DATASETS

    if getattr(model.metadata, "dataset", None) in DATASETS:
        return f"Out-of-domain reference: its training dataset, {model.metadata.dataset}."
    return f"No out-of-domain reference yet: {HOW_TO_ADD}"
