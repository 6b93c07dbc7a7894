"""Metrics over explanations: one module per metric, each registering one ``Metric`` instance.

Every metric answers the same call, shaped like Quantus's ``evaluate_instance``::

    METRICS.get("deletion")(model, image, explanation, mask=None, **params) -> MetricResult

and declares what a UI or the CLI needs to list it without a second table: its
``params`` (``xai_core.params.Param``), display name, ``cost`` ("cheap" runs by
default on every trust card, "costly" runs on one click and is then cached),
whether it ``needs_mask`` (a ground-truth lesion mask) and which direction is
``better``, its ``category`` (Quantus's families), whether and where it sits on
the default trust card (``card``), which ``region`` its mask must show (the
finding, or a suspected artefact such as a site marker) and, for the README
table, its verdict ``rule`` and ``why``. Each module's docstring cites the
paper the metric comes from.
A metric scores the explanation's first class (``explanation.class_indices[0]``),
the class a page shows first.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..explanation import jsonable
from ..params import Param, Progress, validate
from ..registry import Registry

# "n/a" is "not applicable" (with its reason in ``meaning``); "inconclusive": the 95% interval straddles the
# metric's bar and a larger budget (named in ``meaning`` and ``details["to_decide"]``) would decide it.
VERDICTS = ("pass", "warn", "fail", "inconclusive", "n/a")
VERDICT_WORDS = {"pass": "passes", "warn": "borderline", "fail": "fails", "inconclusive": "inconclusive",
                 "n/a": "not applicable"}


def verdict_word(verdict: str) -> str:
    """The words a person reads for a verdict token (cards, CLI tables, reports); JSON and CSV keep the token."""
    return VERDICT_WORDS[verdict]


CATEGORIES = ("faithfulness", "localisation", "axiomatic", "randomisation", "robustness", "convergence",
              "artefact")
REGIONS = ("finding", "artefact")  # what a metric's mask must outline: the lesion, or a suspected shortcut
COSTS = ("cheap", "costly")


@dataclass
class MetricResult:
    """What one metric says about one explanation (the shape of Quantus's ``evaluate_instance`` result).

    Every metric call, ``metric(model, image, explanation, mask=None, **params)``, returns one of these,
    so the trust card, the CLI, reports and audits read them without knowing the metric.
    """

    metric: str  # registry name
    value: float
    better: str  # "higher" or "lower"
    verdict: str  # one of VERDICTS
    threshold: str  # the rule behind the verdict, with its numbers (e.g. "pass >= 0.5, warn >= 0.2")
    meaning: str  # one plain line: what the number says
    details: dict[str, Any] = field(default_factory=dict)  # curves, per-step values, for plots
    chance: float | None = None  # what a map blind to the question would score, where that is defined
    seconds: float = 0.0
    low: float | None = None  # 95% interval of ``value`` (sampled metrics); None where the value is exact
    high: float | None = None

    def __post_init__(self):
        if self.better not in ("higher", "lower"):
            raise ValueError(f"better must be 'higher' or 'lower', not {self.better!r}")
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, not {self.verdict!r}")
        self.value = float(self.value)
        self.low = _finite_or_none(self.low)
        self.high = _finite_or_none(self.high)

    def summary(self) -> dict:
        """What the CLI and exports print: value, its 95% interval (None where exact), better, verdict, rule."""
        return {"value": _finite_or_none(self.value), "low": self.low, "high": self.high, "better": self.better,
                "verdict": self.verdict, "threshold": self.threshold}

    def to_json(self) -> str:
        return json.dumps({**self.__dict__, "value": _finite_or_none(self.value)}, default=jsonable,
                          sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "MetricResult":
        d = json.loads(text)
        d["value"] = float("nan") if d["value"] is None else d["value"]
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})

    def save(self, path) -> None:
        """As a one-array ``.npz`` (the disk cache's format; it makes the write atomic), no pickles."""
        np.savez(path, result=np.array(self.to_json()))

    @classmethod
    def load(cls, path) -> "MetricResult":
        with np.load(path, allow_pickle=False) as z:
            return cls.from_json(str(z["result"]))


def _finite_or_none(v):
    return float(v) if v is not None and np.isfinite(v) else None


def graded(value: float, better: str, pass_at: float, warn_at: float) -> tuple[str, str]:
    """(verdict, threshold text) for a value against two cut-offs; NaN is ``n/a``."""
    if value is None or not np.isfinite(value):
        verdict = "n/a"
    elif better == "higher":
        verdict = "pass" if value >= pass_at else "warn" if value >= warn_at else "fail"
    else:
        verdict = "pass" if value <= pass_at else "warn" if value <= warn_at else "fail"
    op = ">=" if better == "higher" else "<="
    return verdict, f"pass {op} {pass_at:.3g}, warn {op} {warn_at:.3g}"


class Metric:
    """One registered metric. Subclasses set the class attributes and implement ``evaluate``."""

    name: ClassVar[str]
    display_name: ClassVar[str]
    description: ClassVar[str]
    better: ClassVar[str] = "higher"
    cost: ClassVar[str] = "cheap"
    needs_mask: ClassVar[bool] = False
    region: ClassVar[str | None] = None  # one of REGIONS where ``needs_mask``: the mask must outline that
    category: ClassVar[str] = "faithfulness"  # one of CATEGORIES
    card: ClassVar[int | None] = None  # place on the default trust card (lower first); None = not by default
    figure: ClassVar[str | None] = None  # the figure kind (xai_core.plots.trust.FIGURES) that draws its details
    rule: ClassVar[str] = ""  # the verdict rule in words (the README table is generated from these)
    why: ClassVar[str] = ""  # why that rule
    params: ClassVar[tuple[Param, ...]] = ()
    version: ClassVar[int] = 1  # part of the cache key: raise it when the computation or the verdict rule changes

    def validate(self, params: dict) -> dict:
        return validate(self.params, params, f"Metric {self.name}")

    def applies(self, explanation) -> str | None:
        """None when the metric applies to ``explanation``; otherwise the reason it does not (one line)."""
        return None

    def __call__(self, model, image, explanation, mask=None, progress: Progress | None = None,
                 **params) -> MetricResult:
        from ..models import as_model

        p = self.validate(params)
        if self.needs_mask and (mask is None or not np.asarray(mask).any()):
            return self.not_applicable("no ground-truth mask is known for this image" if self.region != "artefact"
                                       else "no suspected artefact (such as a site marker) is outlined on this image")
        reason = self.applies(explanation)
        if reason:
            return self.not_applicable(reason)
        lm = as_model(model)
        x = np.asarray(image if explanation.image is None else explanation.image, np.float32)
        if mask is not None:
            mask = fit_mask(mask, x.shape[:2])
        t0 = time.perf_counter()
        result = self.evaluate(lm, x, explanation, mask, progress=progress, **p)
        result.seconds = time.perf_counter() - t0
        return result

    def evaluate(self, model, image, explanation, mask, progress=None, **params) -> MetricResult:
        raise NotImplementedError

    def result(self, value, verdict, threshold, meaning, details=None, chance=None, low=None,
               high=None) -> MetricResult:
        return MetricResult(self.name, value, self.better, verdict, threshold, meaning, details or {}, chance,
                            low=low, high=high)

    def not_applicable(self, why: str) -> MetricResult:
        return self.result(float("nan"), "n/a", "", f"Not applicable: {why}.")


def fit_mask(mask, shape) -> np.ndarray:
    """A boolean mask in the map's (H, W), resized nearest-neighbour if the scan was resized."""
    m = np.asarray(mask).astype(bool)
    if m.ndim == 3:
        m = m.any(-1)
    if m.shape != tuple(shape):
        from PIL import Image

        m = np.asarray(Image.fromarray(m.astype(np.uint8) * 255).resize(shape[::-1], Image.NEAREST)) > 127
    return m


def class_map(explanation) -> np.ndarray:
    """The (H, W) map of the explanation's first class, channels summed."""
    return explanation.map(0)


def scorer(model, explanation):
    """images -> the model's score for the explanation's first class, in the explanation's output space."""
    f = model.output_fn(explanation.output_space)
    c = int(explanation.class_indices[0])
    return lambda images: f(np.asarray(images, np.float32))[:, c]


METRICS: Registry[Metric] = Registry("metric", __name__)


def register(cls: type[Metric]) -> type[Metric]:
    """Class decorator: register one instance of ``cls`` under ``cls.name``."""
    METRICS.register(cls.name, cls())
    return cls

__all__ = ["CATEGORIES", "COSTS", "METRICS", "Metric", "MetricResult", "REGIONS", "VERDICTS", "VERDICT_WORDS",
           "class_map", "fit_mask", "graded", "register", "scorer", "verdict_word"]
