"""Stability of superpixel weights across random seeds (LIME's known weak spot, lime issue 477).

Given R explanations of one image that differ only in the seed of the
perturbations (same segments), report per class:

* the standard deviation of each superpixel's weight across seeds;
* the mean pairwise Jaccard overlap of the top-``top`` superpixels (by weight);
* a one-line verdict.

As a registered metric (``superpixel-stability``), the explanation is re-run
with the next seeds and the value is the Jaccard overlap for its first class.
The verdict rule lives in ``grade`` alone; ``verdict`` only words it.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from ..errors import InputError
from ..params import Param
from . import Metric, register

STABLE_JACCARD = 0.8  # top-5 sets agree on at least 4 of 5 superpixels on average (4/6 = 0.67 is one swap)
SHAKY_JACCARD = 0.5


@dataclass
class Stability:
    class_names: list[str]
    std: np.ndarray  # (K, n): std of each superpixel's weight across repeats
    mean: np.ndarray  # (K, n): mean weight
    jaccard: np.ndarray  # (K,): mean pairwise Jaccard of the top superpixels
    relative_std: np.ndarray  # (K,): median std / max |mean weight|
    repeats: int
    top: int

    def verdict(self, k: int = 0) -> str:
        return verdict(float(self.jaccard[k]))


def grade(jaccard: float) -> str:
    """The one stability rule: "pass", "warn" or "fail" for a mean top-superpixel Jaccard overlap."""
    if jaccard >= STABLE_JACCARD:
        return "pass"
    if jaccard >= SHAKY_JACCARD:
        return "warn"
    return "fail"


GRADE_THRESHOLD = f"pass >= {STABLE_JACCARD:g}, warn >= {SHAKY_JACCARD:g} (mean Jaccard of the top superpixels)"
_WORDS = {"pass": "stable", "warn": "somewhat unstable: raise num_samples", "fail": "unstable: raise num_samples"}


def verdict(jaccard: float) -> str:
    return _WORDS[grade(jaccard)]


def jaccard(a, b) -> float:
    a, b = set(map(int, a)), set(map(int, b))
    return len(a & b) / len(a | b) if a | b else 1.0


def top_superpixels(weights: np.ndarray, top: int) -> np.ndarray:
    """Indices of the ``top`` largest weights (ties broken by index)."""
    return np.argsort(-np.asarray(weights), kind="stable")[:top]


def superpixel_stability(explanations, top: int = 5) -> Stability:
    """Stability of ``weights`` across explanations that share segments and classes."""
    expls = list(explanations)
    if len(expls) < 2:
        raise InputError("Stability needs at least 2 repeats.")
    first = expls[0]
    for e in expls[1:]:
        if not np.array_equal(e.extras["segments"], first.extras["segments"]):
            raise InputError("Stability compares repeats with the same segments; these differ.")
        if not np.array_equal(e.class_indices, first.class_indices):
            raise InputError("Stability compares repeats for the same classes; these differ.")
    w = np.stack([np.asarray(e.extras["weights"], np.float64) for e in expls])  # (R, K, n)
    std, mean = w.std(0), w.mean(0)
    top = min(top, w.shape[-1])
    jac = np.array([np.mean([jaccard(top_superpixels(a, top), top_superpixels(b, top))
                             for a, b in combinations(w[:, k], 2)]) for k in range(w.shape[1])])
    scale = np.maximum(np.abs(mean).max(-1), 1e-12)
    return Stability(class_names=list(first.class_names), std=std, mean=mean, jaccard=jac,
                     relative_std=np.median(std, -1) / scale, repeats=len(expls), top=top)


@register
class SuperpixelStability(Metric):
    name = "superpixel-stability"
    display_name = "Stability across seeds"
    description = ("Mean Jaccard overlap of the top superpixels across repeats with different seeds "
                   "(1 = the same superpixels every time).")
    better = "higher"
    cost = "costly"
    params = (
        Param("repeats", 3, "Runs with seeds seed, seed+1, ... compared.", int, min=2, max=20),
        Param("top", 5, "How many top superpixels are compared.", int, min=1, max=100),
    )

    def evaluate(self, model, image, explanation, mask, progress=None, *, repeats, top):
        from .. import api
        from ._rerun import method_params

        if not {"weights", "segments"} <= set(explanation.extras) or "seed" not in explanation.params:
            return self.not_applicable(f"{explanation.method} has no seeded superpixel weights")
        params = method_params(explanation)
        seed = int(params.pop("seed"))
        runs = api.explain_repeats(model, image, repeats, seed=seed, method=explanation.method,
                                   output=explanation.output_space, progress=progress,
                                   classes=[int(explanation.class_indices[0])], **params)
        s = superpixel_stability(runs, top)
        value = float(s.jaccard[0])
        return self.result(value, grade(value), GRADE_THRESHOLD,
                           f"Across {repeats} seeds the top {s.top} superpixels overlap {value:.0%}: "
                           f"{verdict(value)}.",
                           {"std": s.std[0], "mean": s.mean[0], "relative_std": float(s.relative_std[0])})
