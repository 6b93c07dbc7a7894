"""Run a model on another domain: the source paper's Tables 1 and 2, with an out-of-domain score.

``cross_domain(model, dataset)`` runs the model over a dataset split and
returns one row per image: the actual (target) class, every source-class
probability ``p_<class>``, the combined probability of each user-defined
class group ``p_group_<name>``, the arg-max class and the out-of-domain
score and flag. The summary adds the AUROC of the out-of-domain score
(source test split vs these images), the arg-max counts and the mean group
probabilities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .cache import DEFAULT_CACHE, DiskCache
from .data import load_dataset
from .domain import ood_detector, split_outputs
from .models import as_model
from .errors import InputError
from .params import Progress
from .ood import DEFAULT_SCORE

_NAME = re.compile(r"^[\w.-]+$")


def parse_groups(text: str | None, class_names) -> dict[str, list[str]]:
    """``"tumor=glioma,meningioma,pituitary; other=no_tumor"`` -> {"tumor": [...], "other": [...]}."""
    groups: dict[str, list[str]] = {}
    for part in re.split(r"[;\n]", text or ""):
        if not part.strip():
            continue
        name, sep, members = part.partition("=")
        name = name.strip()
        if not sep or not _NAME.match(name):
            raise InputError(f"A group is written NAME=class,class,... (NAME of letters, digits, _ . -); got {part.strip()!r}.")
        items = [m.strip() for m in members.split(",") if m.strip()]
        if not items:
            raise InputError(f"Group {name!r} names no classes.")
        unknown = [m for m in items if m not in class_names]
        if unknown:
            raise InputError(f"Group {name!r}: {', '.join(map(repr, unknown))} is not a class of this model "
                             f"({', '.join(class_names)}).")
        if name in groups:
            raise InputError(f"Group {name!r} is defined twice.")
        groups[name] = list(dict.fromkeys(items))
    return groups


# Documented domain-shift pairs; any other model gets the first dataset that is not its own.
SUGGESTED_TARGETS = {"synthetic-brain-mri": "synthetic-lung-ct", "mnist": "sklearn-digits"}


def suggested_target(source: str, available) -> str:
    available = list(available)
    if SUGGESTED_TARGETS.get(source) in available:
        return SUGGESTED_TARGETS[source]
    return next((d for d in available if d != source), available[0])


def default_groups(class_names) -> str:
    """A sensible default: every class that is not a 'normal'/'no tumour' class is a finding."""
    normal = {"no_tumor", "notumor", "normal", "no tumour", "no_tumour", "healthy"}
    findings = [c for c in class_names if c.lower() not in normal]
    if len(findings) == len(class_names) or len(findings) < 2:
        return ""
    name = "tumor" if any("tumo" in c.lower() for c in class_names) else "abnormal"
    return f"{name}={','.join(findings)}"


@dataclass
class CrossDomain:
    table: pd.DataFrame
    model_name: str
    dataset: str
    split: str
    source_classes: list[str]
    target_classes: list[str]
    groups: dict[str, list[str]]
    summary: dict = field(default_factory=dict)
    source_probabilities: np.ndarray | None = None  # the model on its own test split, for comparison

    def confusion(self) -> pd.DataFrame:
        """Counts of target label (rows) by predicted source class (columns)."""
        m = pd.crosstab(pd.Categorical(self.table["actual"], self.target_classes),
                        pd.Categorical(self.table["argmax"], self.source_classes), dropna=False)
        m.index.name, m.columns.name = "actual (target)", "predicted (source class)"
        return m


def entropy(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, np.float64), 1e-12, 1)
    return -(p * np.log(p)).sum(-1)


def cross_domain(model, dataset: str, split: str = "test", groups: str | dict | None = None,
                 ood: str = DEFAULT_SCORE, cache: DiskCache | None = DEFAULT_CACHE,
                 progress: Progress | None = None) -> CrossDomain:
    """Run ``model`` over ``dataset``'s ``split`` and tabulate it like the paper's Tables 1 and 2."""
    lm = as_model(model)
    ds = load_dataset(dataset)
    groups = groups if isinstance(groups, dict) else parse_groups(groups, lm.class_names)

    def step(lo, hi, what):
        return None if progress is None else (lambda f, msg: progress(lo + (hi - lo) * f, f"{what}: {msg}"))

    out = split_outputs(lm, dataset, split, cache=cache, progress=step(0, 0.5, f"{dataset} {split}"))
    p = out["probability"]
    table = pd.DataFrame({"index": np.arange(len(p)),
                          "actual": [ds.class_names[i] for i in out["labels"]]})
    for j, c in enumerate(lm.class_names):
        table[f"p_{c}"] = p[:, j]
    for name, members in groups.items():
        table[f"p_group_{name}"] = p[:, [lm.class_names.index(m) for m in members]].sum(1)
    table["argmax"] = [lm.class_names[i] for i in p.argmax(1)]
    table["max_probability"] = p.max(1)
    table["entropy"] = entropy(p)
    summary = {"model": lm.name, "dataset": dataset, "split": split, "images": int(len(p)),
               "groups": groups, "argmax_counts": table["argmax"].value_counts().to_dict(),
               "mean_group_probability": {g: float(table[f"p_group_{g}"].mean()) for g in groups}}
    source_probs = None
    try:
        det = ood_detector(lm, ood, cache=cache, progress=step(0.5, 1.0, "fitting the out-of-domain score"))
    except InputError as exc:
        summary["ood"] = {"available": False, "reason": str(exc)}
    else:
        scores = det.scores(out)
        table["ood_score"] = scores
        table["outside_domain"] = det.flags(scores)
        same = dataset == det.dataset
        summary["ood"] = {
            "available": True, "method": ood, "reference_dataset": det.dataset, "threshold": det.threshold,
            "percentile": det.percentile, "flagged_fraction": float(table["outside_domain"].mean()),
            "auroc": None if same else det.auroc(scores),
            "source_test_flagged_fraction": float(det.flags(det.test_scores).mean())}
        source_probs = split_outputs(lm, det.dataset, "test", cache=cache)["probability"]
    if progress is not None:
        progress(1.0, "done")
    return CrossDomain(table=table, model_name=lm.name, dataset=dataset, split=split,
                       source_classes=list(lm.class_names), target_classes=list(ds.class_names), groups=groups,
                       summary=summary, source_probabilities=source_probs)
