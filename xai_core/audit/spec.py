"""What an audit computes: the model, the images, the methods, the metrics, the classes.

An ``AuditSpec`` is plain data (JSON round-trip), so it travels unchanged to
worker processes and Ray actors, and is written next to the results: a rerun
into the same folder must ask for the same thing, or it is refused. The
engine, the worker count and ``limit`` are not part of the identity: a rerun
may use another engine, more workers, or a larger limit, and only computes
the images not yet done.

Image ids are strings. For a registered dataset an id is the image reference
the rest of the project already reads (``DATASET:SPLIT:INDEX``, usable with
``python -m xai_core explain --image``); for a ``folder:`` dataset it is the
file's path inside the dataset folder, so a corrupt file keeps its own id and
becomes a row with its error instead of being skipped. A study in a folder (a
NIfTI volume, a DICOM series folder or zip, a multi-frame file:
``data.folder_studies``) is audited slice by slice, one id per slice,
``<case path>:<slice from 1>``; a study that cannot be read keeps its bare
path as its one id and becomes an error row.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError

CLASS_MODES = ("predicted", "true", "all")
DEFAULT_METHODS = ("shap-partition", "lime")
IDENTITY_IGNORES = ("limit",)


@dataclass
class AuditSpec:
    model: str
    dataset: str
    split: str = "test"
    methods: tuple[str, ...] = DEFAULT_METHODS
    metrics: tuple[str, ...] = ()  # empty: every cheap metric in the registry
    classes: str = "predicted"
    limit: int | None = None
    output: str = "margin"
    method_params: dict = field(default_factory=dict)  # {method: {param: value}}
    metric_params: dict = field(default_factory=dict)  # {metric: {param: value}}

    def __post_init__(self):
        self.methods = tuple(self.methods)
        self.metrics = tuple(self.metrics)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "AuditSpec":
        return cls(**json.loads(text))

    def identity(self) -> dict:
        """What must match for a rerun to continue an audit (everything but the limit)."""
        d = json.loads(self.to_json())
        for k in IDENTITY_IGNORES:
            d.pop(k, None)
        return d


def default_metrics() -> tuple[str, ...]:
    """Registered metrics that can score one explanation cheaply (no repeated explanations, no costly runs)."""
    from ..metrics import METRICS

    return tuple(name for name, m in METRICS.items() if usable_metric(m) and getattr(m, "cost", "cheap") == "cheap")


def usable_metric(m) -> bool:
    """A metric an audit can run on one explanation: the registry's call shape, or a mask metric."""
    return getattr(m, "kind", None) != "repeats"


def validate(spec: AuditSpec) -> AuditSpec:
    """Check every name and parameter before any work starts; fills in the default metrics."""
    from ..explainers import EXPLAINERS
    from ..metrics import METRICS
    from ..models import OUTPUT_SPACES

    if spec.classes not in CLASS_MODES:
        raise InputError(f"--classes must be one of {', '.join(CLASS_MODES)}; got {spec.classes!r}.")
    if spec.output not in OUTPUT_SPACES:
        raise InputError(f"output must be 'margin' or 'probability'; got {spec.output!r}.")
    if spec.limit is not None and int(spec.limit) < 1:
        raise InputError(f"--limit must be at least 1; got {spec.limit}.")
    if not spec.methods:
        raise InputError("Name at least one method.")
    for m in spec.methods:
        cls = EXPLAINERS.get(m)
        spec.method_params[m] = cls.validate(dict(spec.method_params.get(m, {})))
    stray = sorted(set(spec.method_params) - set(spec.methods))
    if stray:
        raise InputError(f"Parameters were given for {', '.join(stray)}, which this audit does not run.")
    if not spec.metrics:
        spec.metrics = default_metrics()
    for name in spec.metrics:
        m = METRICS.get(name)
        if not usable_metric(m):
            raise InputError(f"The metric {name!r} needs repeated explanations of each image; an audit scores "
                             "one explanation per image and method.")
        if hasattr(m, "validate"):
            spec.metric_params[name] = m.validate(dict(spec.metric_params.get(name, {})))
    stray = sorted(set(spec.metric_params) - set(spec.metrics))
    if stray:
        raise InputError(f"Parameters were given for {', '.join(stray)}, which this audit does not compute.")
    return spec


def _folder_files(dataset: str, split: str) -> tuple[Path, tuple[str, ...], list[tuple[str, int]]]:
    """(root, class names, [(relative path, label)]) of one split of a folder dataset, no image decoded.

    The split follows ``load_folder``: split folders as they are, or a seeded 70:20:10 split per class
    of the file list (for that layout an unreadable file can shift the split against the decoded dataset).
    """
    from ..data.base import FRACTIONS, SPLITS
    from ..data.folder import PREFIX, own_area, _stratified, resolve_name, scan_folder

    index = scan_folder(resolve_name(dataset), own=own_area(dataset[len(PREFIX):]))
    if index.layout == "classes":
        items = index.files["all"]
        parts = dict(zip(SPLITS, _stratified(np.array([lab for _, lab in items], np.int64), FRACTIONS, 0)))
        if split not in parts:
            raise InputError(f"Dataset {dataset!r} has no split {split!r}; it has {', '.join(SPLITS)}.")
        chosen = [items[i] for i in parts[split]]
    else:
        if split not in index.files:
            raise InputError(f"Dataset {dataset!r} has no split folder for {split!r}; it has "
                             f"{', '.join(index.files)}.")
        chosen = index.files[split]
    return index.root, index.class_names, [(f.relative_to(index.root).as_posix(), lab) for f, lab in chosen]


def image_ids(spec: AuditSpec) -> list[str]:
    """Every image id of the audit, in a fixed order (the first ``limit`` of the split)."""
    from ..data import load_dataset
    from ..data.folder import PREFIX

    if spec.dataset.startswith(PREFIX):
        root, _, files = _folder_files(spec.dataset, spec.split)
        ids = [i for rel, _ in files for i in _entry_ids(root, rel)]
    else:
        n = len(load_dataset(spec.dataset).split(spec.split))
        ids = [f"{spec.dataset}:{spec.split}:{i}" for i in range(n)]
    if not ids:
        raise InputError(f"{spec.dataset}:{spec.split} holds no images.")
    return ids[: int(spec.limit)] if spec.limit else ids


def _entry_ids(root: Path, rel: str) -> list[str]:
    """The ids of one listed entry: the file itself, or one per slice of a study (read once, here)."""
    from ..data.folder_studies import is_case, read_case, slice_id
    from ..errors import XAIError

    path = root / rel
    if not is_case(path):
        return [rel]
    try:
        n = len(read_case(path))
    except XAIError:  # unreadable: one id, which becomes a row with the reason
        return [rel]
    return [slice_id(rel, i) for i in range(n)]
