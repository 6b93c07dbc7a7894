"""Metrics over explanations: one module per metric, each registering one ``Metric``.

A metric is a plain function plus a description; ``kind`` says what it takes:
``"repeats"`` metrics take several explanations of the same image (seeds),
``"mask"`` metrics take one explanation and a ground-truth mask.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..registry import Registry


@dataclass(frozen=True)
class Metric:
    name: str
    display_name: str
    description: str
    kind: str  # "repeats" or "mask"
    fn: Callable


METRICS: Registry[Metric] = Registry("metric", __name__)

__all__ = ["METRICS", "Metric"]
