"""The one batch function every engine maps over the image ids: ``audit_batch(ids, spec) -> rows``.

An ``Auditor`` loads the model, the dataset access, the out-of-domain
detector and the explainers once (per process, per Ray actor), then for each
image id: reads the image, predicts, scores its out-of-domain-ness, explains
it with every method for the chosen classes, and scores each explanation with
every metric. One row per image x method x class. Nothing here depends on
which other images share the batch (explainers are seeded per image), so
every engine and every batching gives the same rows.

An image that cannot be read, or a method that fails on it, becomes a row
with its ``error`` filled in; the audit goes on.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

import numpy as np

from ..errors import XAIError
from .maps import MAP_COLUMN, reduce_map, to_cell
from .spec import AuditSpec, _folder_files

# Columns every row has, in this order; metric values follow (one column per metric, and
# ``<metric>.verdict`` for metrics that give verdicts), then ``seconds``, ``backend``, ``error`` and the reduced ``map``.
BASE_COLUMNS = ("image_id", "index", "true_class", "predicted_class", "probability", "correct",
                "ood_score", "ood_flag", "method", "class", "class_index", "class_probability", "withheld")
# ``backend``: what ran the method's forward passes (Explanation.backend); "openvino-bf16" rows are approximate.
TAIL_COLUMNS = ("seconds", "backend", "error", MAP_COLUMN)
# Folder datasets add where each row's image comes from: its case (the file, or the study of a slice), the
# slice (from 1; -1 for a single image), the study's slice count, plane, modality, kind and spacing, and the
# slice's suspicion score (``xai_core.slices``: 1 - p(normal class), else the top probability).
STUDY_COLUMNS = ("case", "slice", "slices", "plane", "modality", "study", "spacing", "suspicion")


def columns(spec: AuditSpec) -> list[str]:
    from ..data.folder import PREFIX

    out = list(BASE_COLUMNS) + (list(STUDY_COLUMNS) if spec.dataset.startswith(PREFIX) else [])
    for name in spec.metrics:
        out += [name, f"{name}.verdict"]
    return out + list(TAIL_COLUMNS)


class ImageSource:
    """Reads one image of the audited split by id: (image 0..255 (H, W, C), true label or -1, mask or None)."""

    def __init__(self, spec: AuditSpec):
        from ..data import load_dataset
        from ..data.folder import PREFIX

        self.folder = spec.dataset.startswith(PREFIX)
        if self.folder:
            self.root, self.class_names, files = _folder_files(spec.dataset, spec.split)
            self.labels = dict(files)
        else:
            ds = load_dataset(spec.dataset)
            self.dataset, self.split_name = ds, spec.split
            self.class_names = ds.class_names
            self.split = ds.split(spec.split)
            self.prefix = f"{spec.dataset}:{spec.split}:"

    def index(self, image_id: str) -> int:
        return int(image_id[len(self.prefix):]) if not self.folder else -1

    def load(self, image_id: str):
        if self.folder:
            from ..data.folder import DEFAULT_SIZE
            from ..data.folder_studies import dataset_image, is_case, parse_slice_id
            from ..data.images import read_scan

            case, index = (image_id, None) if image_id in self.labels else parse_slice_id(image_id)
            path = (self.root / case).resolve()
            if not path.is_relative_to(self.root) or case not in self.labels:
                raise XAIError(f"{image_id} is not a file of this dataset.")
            if index is None and is_case(path):
                self._study(case)  # raises the reason it could not be read when the ids were listed
                raise XAIError(f"{case} is a study; its slices are audited one by one.")
            if index is not None:  # the same window and size as load_folder gives the slices
                vol = self._study(case)
                if not 0 <= index < len(vol):
                    raise XAIError(f"{case} has {len(vol)} slices; slice {index + 1} does not exist.")
                return dataset_image(vol.slice(index).render(), DEFAULT_SIZE, 1), self.labels[case], None
            img, _ = read_scan(path)  # the same decoding and size as load_folder
            return dataset_image(img, DEFAULT_SIZE, 1), self.labels[image_id], None
        i = self.index(image_id)
        if not (image_id.startswith(self.prefix) and 0 <= i < len(self.split)):
            raise XAIError(f"{image_id} is not an image of this split.")
        mask = self.split.masks[i] if self.split.masks is not None else None
        return self.split.images[i], int(self.split.labels[i]), mask

    def position(self, image_id: str, split) -> int | None:
        """Where an audited image sits in the decoded split (a ``data.Split``), so the explanation pages can
        open it as DATASET:SPLIT:INDEX: a registered dataset's index, or, for a folder, the image with the
        same pixels and label (``load_folder`` decodes it exactly as ``load`` does). None when it is not
        there (an unreadable file is in the audit as an error row, not in the decoded split)."""
        if not self.folder:
            i = self.index(image_id)
            return i if 0 <= i < len(split) else None
        try:
            img, label, _ = self.load(image_id)
        except XAIError:
            return None
        images = np.asarray(split.images)
        if images.shape[1:] != img.shape:
            return None
        hits = np.flatnonzero((images.reshape(len(images), -1) == img.reshape(1, -1)).all(1)
                              & (np.asarray(split.labels) == label))
        return int(hits[0]) if len(hits) else None

    def _study(self, case: str):
        """The case's volume; the last one is kept, since a batch holds neighbouring slices of one case."""
        from ..data.folder_studies import read_case

        if getattr(self, "_held", (None,))[0] != case:
            self._held = (case, read_case(self.root / case))
        return self._held[1]

    def study_columns(self, image_id: str) -> dict:
        """The ``STUDY_COLUMNS`` that say where a folder image comes from (slice and series facts)."""
        from ..data.folder_studies import case_info, parse_slice_id

        case, index = (image_id, None) if image_id in self.labels else parse_slice_id(image_id)
        if index is None:
            return {"case": case, "slice": -1, "slices": 1}
        try:
            info = case_info(self._study(case))
        except XAIError:
            info = {}
        return {"case": case, "slice": index + 1, **info}

    def regions(self, image_id: str) -> dict:
        """{region: mask or None} of one image (``xai_core.regions``); folders know no region."""
        from ..regions import ARTEFACT, FINDING, dataset_regions

        if self.folder:
            return {FINDING: None, ARTEFACT: None}
        return dataset_regions(self.dataset, self.split_name, self.index(image_id))


def one_class(expl, k: int):
    """The explanation restricted to its ``k``-th class (registry metrics score the first class)."""
    K = len(expl.class_indices)
    extras = {n: (v[k:k + 1] if np.ndim(v) and len(v) == K else v) for n, v in expl.extras.items()}
    return dataclasses.replace(
        expl, values=expl.values[k:k + 1], base_values=expl.base_values[k:k + 1],
        output_values=expl.output_values[k:k + 1], class_indices=expl.class_indices[k:k + 1],
        class_names=[expl.class_names[k]], extras=extras)


def score(metric, model, image, expl, k: int, masks, params: dict, withhold: str = "") -> tuple[float, str]:
    """(value, verdict) of one metric on class ``k`` of an explanation; NaN and "n/a" where undefined.

    ``masks`` is {region: mask} (``xai_core.regions``; a bare array is the finding's mask): the metric
    reads its own region's only. ``withhold`` (a ``xai_core.gates`` reason) gives NaN and "n/a" too: no
    value of a map that says nothing, or of a scan outside the training domain, enters the leaderboard."""
    from ..regions import FINDING, mask_for, missing

    masks = masks if isinstance(masks, dict) else {FINDING: masks}
    if missing(metric, masks) or withhold:
        return float("nan"), "n/a"
    mask = mask_for(metric, masks)
    if hasattr(metric, "fn"):  # a plain mask metric: fn(attribution map, mask)
        return float(metric.fn(expl.values[k], mask)), ""
    r = metric(model, image, one_class(expl, k), mask=mask, **params)
    return float(r.value), str(r.verdict)


class Auditor:
    """Holds what one worker needs; ``auditor(ids)`` returns the rows of those images."""

    def __init__(self, spec: AuditSpec, model_path: str | None = None):
        from ..domain import ood_detector
        from ..explainers import EXPLAINERS
        from ..metrics import METRICS
        from ..models import load_model

        self.spec = spec
        self.model = load_model(model_path or spec.model)
        self.source = ImageSource(spec)
        self.explainers = {m: EXPLAINERS.get(m) for m in spec.methods}
        self.metrics = {m: METRICS.get(m) for m in spec.metrics}
        self.columns = columns(spec)
        try:  # a model without a registered training dataset has no reference for "in domain"
            self.detector = ood_detector(self.model)
        except XAIError:
            self.detector = None

    def __call__(self, ids) -> list[dict]:
        rows = []
        for image_id in ids:
            rows += self.audit_image(str(image_id))
        return rows

    def _row(self, **values) -> dict:
        row = {c: None for c in self.columns}
        row.update(values)
        return row

    def audit_image(self, image_id: str) -> list[dict]:
        from .. import gates
        from ..api import explain
        from ..domain import check_images

        spec, lm = self.spec, self.model
        names = list(self.source.class_names)
        t0 = time.perf_counter()
        head = dict(image_id=image_id, index=self.source.index(image_id))
        if self.source.folder:
            head.update(self.source.study_columns(image_id))
        try:
            image, label, _ = self.source.load(image_id)
            masks = self.source.regions(image_id)
            x = lm.prepare(image)
            probs = lm.forward_image(x)[1]
        except Exception as exc:  # unreadable, corrupt, or not an image this model can take
            msg = _message(exc)
            return [self._row(**head, method=m, seconds=time.perf_counter() - t0, error=msg)
                    for m in spec.methods]
        pred = int(np.argmax(probs))
        if self.source.folder:
            from ..slices import normal_class

            k = normal_class(lm.class_names)
            head["suspicion"] = float(1 - probs[k]) if k is not None else float(probs[pred])
        head.update(true_class=names[label] if 0 <= label < len(names) else None,
                    predicted_class=lm.class_names[pred], probability=float(probs[pred]),
                    correct=bool(lm.class_names[pred] == names[label]) if 0 <= label < len(names) else None)
        if self.detector is not None:
            dc = check_images(self.detector, lm, [image])
            head.update(ood_score=float(dc.scores[0]), ood_flag=bool(dc.flags[0]))
        out_of_domain = bool(head.get("ood_flag"))
        if spec.classes == "all":
            idx = list(range(lm.num_classes))
        elif spec.classes == "true" and 0 <= label < len(names) and names[label] in lm.class_names:
            idx = [lm.class_names.index(names[label])]
        else:  # "predicted", or a true class the model does not know
            idx = [pred]
        rows = []
        pre = time.perf_counter() - t0
        for method in spec.methods:
            t1 = time.perf_counter()
            try:
                expl = explain(lm, image, method=method, output=spec.output, classes=idx, cache=None,
                               **spec.method_params.get(method, {}))
            except Exception as exc:
                rows.append(self._row(**head, method=method, seconds=time.perf_counter() - t1 + pre,
                                      error=f"{method}: {_message(exc)}"))
                continue
            share = (time.perf_counter() - t1 + pre) / len(idx)
            for k, c in enumerate(expl.class_indices):
                t2 = time.perf_counter()
                why = gates.reason(expl, out_of_domain, k)
                row = self._row(**head, method=method, **{"class": lm.class_names[int(c)]},
                                class_index=int(c), class_probability=float(probs[int(c)]), error="",
                                backend=expl.backend,
                                withheld=why, **{MAP_COLUMN: to_cell(reduce_map(expl.values[k]))})
                problems = []
                for name, metric in self.metrics.items():
                    try:
                        row[name], row[f"{name}.verdict"] = score(metric, lm, x, expl, k, masks,
                                                                  spec.metric_params.get(name, {}), why)
                    except Exception as exc:
                        row[name], row[f"{name}.verdict"] = float("nan"), "error"
                        problems.append(f"{name}: {_message(exc)}")
                row["error"] = "; ".join(problems)
                row["seconds"] = share + time.perf_counter() - t2
                rows.append(row)
        return rows


def _message(exc: Exception) -> str:
    return str(exc) if isinstance(exc, XAIError) else f"{type(exc).__name__}: {exc}"


_auditors: dict[tuple, Auditor] = {}
_lock = threading.Lock()


def auditor_for(spec: AuditSpec, model_path: str | None = None) -> Auditor:
    """The process's ``Auditor`` for this spec: the model is loaded once per worker, not per batch."""
    key = (spec.to_json(), model_path)
    with _lock:
        if key not in _auditors:
            _auditors.clear()  # one audit at a time per worker: do not pile up models
            _auditors[key] = Auditor(spec, model_path)
        return _auditors[key]


def audit_batch(ids, spec: AuditSpec, model_path: str | None = None) -> list[dict]:
    """Rows (one per image x method x class) for the image ids, with this process's ``Auditor``."""
    return auditor_for(spec, model_path)(ids)


def model_files(spec: AuditSpec) -> dict[str, bytes]:
    """The model's file and metadata as bytes, for workers that cannot see the driver's disk (Ray)."""
    from ..models import META_FILE, MODEL_FILE, resolve_model

    name, model_file, meta_file = resolve_model(spec.model)
    files = {"name": name.encode(), MODEL_FILE: Path(model_file).read_bytes()}
    if meta_file is not None:
        files[META_FILE] = Path(meta_file).read_bytes()
    return files


def unpack_model(files: dict[str, bytes], where: Path) -> str:
    """Write ``model_files`` output under ``where`` as a model folder; returns its path."""
    d = Path(where) / files["name"].decode()
    d.mkdir(parents=True, exist_ok=True)
    for k, v in files.items():
        if k != "name":
            (d / k).write_bytes(v)
    return str(d)
