"""Metrics over explanations: one module per metric, each registering one ``Metric``.

A metric is a plain function plus a description; ``kind`` says what it takes:
``"repeats"`` metrics take several explanations of the same image (seeds),
``"mask"`` metrics take one explanation and a ground-truth mask.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ..registry import Registry


@dataclass(frozen=True)
class Metric:
    name: str
    display_name: str
    description: str
    kind: str  # "repeats" or "mask"
    fn: Callable


VERDICTS = ("pass", "warn", "fail", "n/a")


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

    def __post_init__(self):
        if self.better not in ("higher", "lower"):
            raise ValueError(f"better must be 'higher' or 'lower', not {self.better!r}")
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, not {self.verdict!r}")

    def summary(self) -> dict:
        """The four numbers the CLI and exports print: value, better, verdict, threshold."""
        return {"value": self.value, "better": self.better, "verdict": self.verdict, "threshold": self.threshold}


METRICS: Registry[Metric] = Registry("metric", __name__)

__all__ = ["METRICS", "Metric", "MetricResult", "VERDICTS"]
