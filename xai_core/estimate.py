"""How long will it take? Model evaluations counted per method and metric, times a forward pass timed here.

A fixed promise ("about a minute") is wrong for every model but the one it was measured on: MobileNetV2
at 224 px costs tens of times more per image than the small brain CNN. Like the superpixel Shapley
estimate (``explainers.shap_superpixel.estimate_seconds``), these estimates multiply a forward pass timed
on the spot by how many images each step sends through the model (``basis`` says so in the
same words on every page). The counts come from each method's
and metric's default parameters; gradient methods count 3 passes per image (forward plus backward).
The result is an order of magnitude, stated as such on the pages.
"""

from __future__ import annotations

import numpy as np

GRADIENT_PASS = 3  # a forward and backward pass costs about three forward passes


def _default(cls, name: str, fallback: int) -> int:
    p = next((p for p in getattr(cls, "params", ()) if p.name == name), None)
    return int(p.default) if p is not None and isinstance(p.default, (int, float)) else fallback


def method_passes(method: str, input_size: tuple[int, int] = (128, 128), share: float = 1.0) -> int:
    """Images one explanation sends through the model, at the method's default settings (a method with a
    budget, such as SHAP's evaluations, at ``share`` of its default, as the pages' cheaper runs use it)."""
    from .explainers import EXPLAINERS
    from .progressive import budget_param

    cls = EXPLAINERS.get(method)
    p = budget_param(method)
    if p is not None:
        return max(1, int(round(p.default * share)))
    if method == "shap-superpixel":
        return 2 ** _default(cls, "max_exact", 12)
    if method == "occlusion":
        window, stride = _default(cls, "window", 16), max(1, _default(cls, "stride", 8))
        return int(np.prod([max(1, (s - window) // stride + 1) for s in input_size]))
    if getattr(cls, "trained_per_model", False):
        return 3  # an amortised map: the model's passes on the scan and on its fill, and the explainer's one
    if getattr(cls, "family", "") in ("gradient", "SHAP"):
        return GRADIENT_PASS * max(1, _default(cls, "steps", 0), _default(cls, "samples", 0))
    return GRADIENT_PASS  # one gradient (CAM, saliency)


def metric_passes(metric: str, explanation_passes: int) -> int:
    """Images one metric of one map sends through the model (costly metrics re-run the explanation)."""
    from .metrics import METRICS

    m = METRICS.get(metric)
    if metric in ("deletion", "insertion"):
        return _default(m, "steps", 20) * (1 + _default(m, "random_orders", 3))
    if metric == "faithfulness-correlation":
        return _default(m, "subsets", 64)
    if metric == "max-sensitivity":
        return _default(m, "samples", 4) * explanation_passes
    if metric == "superpixel-stability":
        return _default(m, "repeats", 3) * explanation_passes
    if metric == "convergence":
        return sum(2 ** k for k in range(1, _default(m, "doublings", 3) + 1)) * explanation_passes
    if metric == "randomisation":
        # re-explains the cascade's randomised copies (about 4 for the shipped CNNs) and the verdict's further
        # independent draws of the random weights
        return (4 + _default(m, "draws", 3) - 1) * explanation_passes
    return 0  # computed from the map alone


def trust_seconds(forward_seconds: float, methods: list[str], metrics: list[str], n_scans: int,
                  input_size: tuple[int, int] = (128, 128)) -> float:
    """Seconds to explain ``n_scans`` scans with every method and score every map with every metric."""
    per_scan = 0
    for method in methods:
        e = method_passes(method, input_size)
        per_scan += e + sum(metric_passes(m, e) for m in metrics)
    return float(forward_seconds) * per_scan * int(n_scans)


FEATURE_PASS = 1  # the penultimate features an out-of-domain check also reads: about one more pass


def domain_check_seconds(forward_seconds: float, images_to_fit: int, has_features: bool = True) -> float:
    """Seconds one model's out-of-domain check of one scan takes: the scan, plus on the model's first check
    the ``images_to_fit`` training-dataset images (``domain.images_to_fit``), each through the model once
    for margin and probability and once more for its features."""
    passes = 1 + (FEATURE_PASS if has_features else 0)
    return float(forward_seconds) * (int(images_to_fit) + 1) * passes


def basis(forward_seconds: float) -> str:
    """What every estimate on the pages rests on, said the same way everywhere."""
    return f"one image through the model takes {forward_seconds * 1000:.1f} ms here"


def words(seconds: float) -> str:
    """'about 40 s', 'about 3 min', 'about 1.5 h': an order of magnitude, not a promise."""
    if seconds < 90:
        return f"about {max(1, round(seconds, -1) if seconds >= 20 else round(seconds)):.0f} s"
    if seconds < 90 * 60:
        return f"about {seconds / 60:.0f} min"
    return f"about {seconds / 3600:.1f} h"
