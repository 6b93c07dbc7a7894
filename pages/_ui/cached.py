"""Streamlit caches on top of xai_core's disk cache.

Models and datasets are shared read-only resources (``st.cache_resource``,
never mutated). Arrays are keyed by explicit content hashes: Streamlit
hashes large arrays from a sample only, so an image is passed as
``_image`` next to its SHA-256 ``image_key``, which is what is hashed.
"""

from __future__ import annotations

import json

import numpy as np
import streamlit as st

import xai_core as xc
from pages._ui.render import progress_bar
from xai_core.data.images import image_hash


@st.cache_resource(show_spinner="Loading the model…", max_entries=8)
def _model(name: str, owner: str | None) -> xc.LoadedModel:
    return xc.load_model(name, owner=owner)


def model(name: str) -> xc.LoadedModel:
    """A shipped or shared model, or one of this session's private ones (never another session's)."""
    from pages._ui.session import owner_of

    return _model(name, owner_of(name))


model.clear = _model.clear  # the pages clear the cache after a model changes


@st.cache_data(show_spinner="Timing one batch of the model…", max_entries=32)
def forward_seconds(model_name: str, model_hash: str) -> float:
    """Seconds per image of this model's forward pass, timed here once (a batch of 32): what every
    estimate on the pages multiplies (``xai_core.estimate``)."""
    from xai_core.models.timing import forward_seconds as timed

    return timed(model(model_name), batch_size=32)


@st.cache_resource(show_spinner="Preparing the dataset (first run only)…", max_entries=8)
def dataset(name: str) -> xc.Dataset:
    with progress_bar("Reading the dataset (first use only)…", "Reading: ") as progress:
        return xc.load_dataset(name, progress=progress)


def backend(model_name: str) -> str:
    """What runs this model's forward passes in this session ("openvino-bf16" is approximate): part of the key
    of every result below that comes from forward passes, so sessions on different backends never share one."""
    return model(model_name).backend()


def predictions(model_name: str, model_hash: str, dataset_name: str, split: str) -> np.ndarray:
    return _predictions(model_name, model_hash, dataset_name, split, backend(model_name))


@st.cache_data(show_spinner=False, max_entries=32)
def _predictions(model_name: str, model_hash: str, dataset_name: str, split: str, backend: str) -> np.ndarray:
    with progress_bar("Running the model over the dataset…", "Predicting: ") as progress:
        return xc.predict_split(model(model_name), dataset_name, split, progress=progress)


@st.cache_data(show_spinner=False, max_entries=16)
def _explain_jobs(model_name: str, model_hash: str, image_key: str, _image: np.ndarray, jobs_json: str,
                  label: str, keep_going: bool, backend: str = "") -> list:
    """The one loop behind ``explain_batch`` and ``explain_each``: jobs under one progress bar. With
    ``keep_going`` a job's one-sentence failure takes its place in the list; otherwise it is raised."""
    jobs = json.loads(jobs_json)
    lm = model(model_name)
    out = []
    with progress_bar(f"{label}…", f"{label}: ") as progress:
        for i, job in enumerate(jobs):
            job = dict(job)
            title = job.pop("title", job["method"])

            def step(f, msg, i=i, title=title):
                progress((i + f) / len(jobs), f"{title} ({i + 1} of {len(jobs)}): {msg}")

            try:
                out.append(xc.explain(lm, _image, progress=step, **job))
            except xc.XAIError as exc:  # one method's problem must not cost the others
                if not keep_going:
                    raise
                out.append(f"{title}: {exc}")
        return out


def explain_batch(model_name: str, image: np.ndarray, jobs: list[dict], label: str = "Explaining") -> list[xc.Explanation]:
    """Several explanations of one image under one progress bar; each job is ``explain``'s keyword
    arguments (``method``, ``output``, ``top_k``/``classes``, parameters) plus an optional ``title``."""
    lm = model(model_name)
    return _explain_jobs(model_name, lm.file_hash, image_hash(np.asarray(image)), image,
                         json.dumps(jobs, sort_keys=True, default=str), label, False, backend(model_name))


def explain(model_name: str, image: np.ndarray, method: str, output: str, top_k: int | None = None,
            classes=None, label: str = "Explaining", **params) -> xc.Explanation:
    """Explain through Streamlit's cache and the disk cache, with a progress bar while computing."""
    job = dict(method=method, output=output, top_k=top_k, classes=list(classes) if classes else None,
               title=method, **params)
    return explain_batch(model_name, image, [job], label=label)[0]


@st.cache_resource(show_spinner=False, max_entries=8)
def detector(model_name: str, model_hash: str):
    """The model's out-of-domain detector (fitted once on its training dataset), or the reason there is none."""
    from xai_core.domain import ood_detector

    with progress_bar("Learning what this model's training images look like (first use only)…",
                      "Out-of-domain check, first use only: ") as progress:
        try:
            return ood_detector(model(model_name), progress=progress)
        except xc.InputError as exc:
            return str(exc)


def domain_scores(model_name: str, model_hash: str, dataset_name: str, split: str):
    """Out-of-domain scores and flags of every image of a split, or None when the model has no detector."""
    return _domain_scores(model_name, model_hash, dataset_name, split, backend(model_name))


@st.cache_data(show_spinner=False, max_entries=32)
def _domain_scores(model_name: str, model_hash: str, dataset_name: str, split: str, backend: str):
    """Out-of-domain scores and flags of every image of a split, or None when the model has no detector."""
    from xai_core.domain import split_outputs

    det = detector(model_name, model_hash)
    if isinstance(det, str):
        return None
    out = split_outputs(model(model_name), dataset_name, split)
    scores = det.scores(out)
    return scores, det.flags(scores)


@st.cache_data(show_spinner=False, max_entries=16)
def _cross_domain(model_name: str, model_hash: str, dataset_name: str, split: str, groups: str, backend: str = ""):
    from xai_core.cross_domain import cross_domain as run

    with progress_bar("Running the model over the dataset…") as progress:
        detector(model_name, model_hash)
        return run(model(model_name), dataset_name, split, groups=groups, progress=progress)


def cross_domain(model_name: str, dataset_name: str, split: str, groups: str):
    return _cross_domain(model_name, model(model_name).file_hash, dataset_name, split, groups, backend(model_name))


@st.cache_data(show_spinner=False, max_entries=16)
def _compare(model_names: tuple, model_hashes: tuple, dataset_name: str, indices: tuple, target: str, output: str,
             method: str, params_json: str, backends: tuple = ()):
    from xai_core.compare import compare as run

    ds = dataset(dataset_name)
    test = ds.split("test")
    with progress_bar(f"Explaining {', '.join(model_names)} on every image…", f"{method}: ") as progress:
        return run([model(n) for n in model_names], [test.images[i] for i in indices],
                   [f"test #{i}" for i in indices], [ds.class_names[test.labels[i]] for i in indices],
                   [test.masks[i] if test.masks is not None else None for i in indices],
                   target=target, output=output, method=method, params=json.loads(params_json), progress=progress)


def compare(model_names: list[str], dataset_name: str, indices: list[int], target: str, output: str, method: str,
            params: dict | None = None):
    """Maps of test images ``indices`` under every model, with the same method and settings (see
    ``xai_core.compare``)."""
    names = tuple(model_names)
    return _compare(names, tuple(model(n).file_hash for n in names), dataset_name, tuple(int(i) for i in indices),
                    target, output, method, json.dumps(params or {}, sort_keys=True, default=str),
                    tuple(backend(n) for n in names))


def evaluation(model_name: str, model_hash: str, dataset_name: str, split: str) -> dict:
    return _evaluation(model_name, model_hash, dataset_name, split, backend(model_name))


@st.cache_data(show_spinner=False, max_entries=32)
def _evaluation(model_name: str, model_hash: str, dataset_name: str, split: str, backend: str) -> dict:
    from xai_core.evaluation import evaluate

    with progress_bar("Scoring the model on the dataset…", "Predicting: ") as progress:
        return evaluate(model(model_name), dataset_name, split, progress=progress)


@st.cache_data(show_spinner="Reading the scan…", max_entries=16)
def read_scan(data: bytes, filename: str):
    """(image, DicomSlice or None) of an uploaded file; raises ImageError with one sentence."""
    from xai_core.data.images import read_scan as read

    return read(data, filename)


@st.cache_data(show_spinner=False, ttl=15)
def _dataset_names(owner: str) -> list[str]:
    return xc.data.dataset_names(owner=owner)


def dataset_names() -> list[str]:
    """Registered datasets, dataset folders under the data roots and this session's own uploads
    (rescanned every 15 s at most)."""
    from pages._ui.session import owner

    return _dataset_names(owner())


dataset_names.clear = _dataset_names.clear


@st.cache_data(show_spinner="Opening the model in safe mode…", max_entries=4)
def inspect_upload(data: bytes, filename: str):
    """``xai_core.models.importing.inspect_upload``, once per uploaded file."""
    from xai_core.models.importing import inspect_upload as run

    return run(data, filename)


def explain_each(model_name: str, image: np.ndarray, jobs: list[dict], label: str = "Explaining") -> list:
    """Like ``explain_batch`` (one progress bar over the set), but a job that fails returns its one-sentence
    reason (a str) in its place instead of failing the whole set."""
    lm = model(model_name)
    return _explain_jobs(model_name, lm.file_hash, image_hash(np.asarray(image)), image,
                         json.dumps(jobs, sort_keys=True, default=str), label, True, backend(model_name))


@st.cache_data(show_spinner="Reading the audit…", max_entries=8)
def audit_results(folder: str, stamp: float):
    """(rows DataFrame, summary dict, spec) of a finished audit folder; ``stamp`` (its summary's mtime) keys reruns."""
    from xai_core.audit import AuditStore

    store = AuditStore(folder)
    import pandas as pd

    return pd.read_parquet(store.file("rows.parquet")), store.summary(), store.spec()


@st.cache_data(show_spinner=False, max_entries=256)
def audit_image(spec_json: str, image_id: str):
    """One audited scan by id (for the worst-cases gallery), or None when it cannot be read."""
    from xai_core.audit import AuditSpec
    from xai_core.audit.batch import ImageSource

    try:
        return ImageSource(AuditSpec.from_json(spec_json)).load(image_id)[0]
    except Exception:
        return None
