"""How far a map computed with bf16 forward passes is from the fp32 map of the same scan.

bf16 (``models.openvino_backend``, "fast, approximate") keeps about three significant digits per value,
so outputs drift and single map pixels can move while the map's order mostly stays (measured on the brain
CNN: rank correlation at least 0.993, single pixels up to 42% of the map's maximum). The trust card
shows both numbers for the map in front of the user, computed on request: the fp32 map is an ordinary
explanation with the same method, parameters, classes and output space, so it is cached like any other
and a second look costs nothing.
"""

from __future__ import annotations

import numpy as np

from .agreement import spearman
from .explanation import Explanation
from .models import as_model
from .models import openvino_backend as forward_backend


def warning_text(backend: str, maps: int = 1, tail: str = "") -> str:
    """The one sentence every page shows beside figures from bf16 forward passes (``backend``, as an
    ``Explanation.backend``): ``maps`` maps, and ``tail`` for what was computed from them."""
    from .explanation import backend_label

    return (f"Computed with {backend_label(backend)}: bf16 forward passes keep about three digits, so single "
            f"pixels can differ from the exact (fp32) {'map' if maps == 1 else 'maps'}{tail}.")


def is_approximate(backend: str) -> bool:
    """Whether figures from ``backend`` (an ``Explanation.backend``, a result's "backend") are approximate."""
    return forward_backend.is_approximate(backend)


def fp32_twin(model, explanation: Explanation, cached_only: bool = False, progress=None, cache=None):
    """The fp32 map matching ``explanation`` (same scan, method, parameters, classes, output space), or
    None with ``cached_only`` when it has not been computed yet."""
    from .api import explain
    from .cache import DEFAULT_CACHE

    lm = as_model(model)
    with forward_backend.using("openvino"):  # fp32: OpenVINO's where it converts, else TensorFlow's
        return explain(lm, explanation.image, method=explanation.method, output=explanation.output_space,
                       classes=explanation.class_indices.tolist(), progress=progress,
                       cache=DEFAULT_CACHE if cache is None else cache, cached_only=cached_only,
                       **explanation.params)


def compare(approximate: Explanation, exact: Explanation) -> list[dict]:
    """Per explained class: Spearman rank correlation of the two maps and the largest change of one pixel
    as a share of the exact map's largest |value|."""
    rows = []
    for k, name in enumerate(approximate.class_names):
        a, b = approximate.map(k), exact.map(k)
        scale = float(np.abs(b).max())
        change = float(np.abs(a - b).max()) / scale if scale > 0 else float("nan")
        rows.append({"class": name, "rank correlation": spearman(a, b), "largest pixel change": change})
    return rows


def agreement(model, explanation: Explanation, compute: bool = True, progress=None, cache=None) -> list[dict] | None:
    """``compare`` of ``explanation`` with its fp32 twin (computed if needed and ``compute``; else None
    until it is); an fp32 explanation agrees with itself."""
    twin = fp32_twin(model, explanation, cached_only=not compute, progress=progress, cache=cache)
    return None if twin is None else compare(explanation, twin)
