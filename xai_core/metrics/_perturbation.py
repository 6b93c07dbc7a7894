"""The shared machinery of deletion and insertion (Petsiuk, Das & Saenko 2018, "RISE", BMVC).

Pixels are hidden (deletion) or revealed (insertion) in the order a map
ranks them, ``steps`` chunks at a time, and the model's score for the
explained class is recorded after each chunk. The area under that curve
is compared with the same curve for random orderings of the same pixels,
so that 0 means "this map orders pixels no better than chance", and divided
by the span of scores the curves visit, so that the value lies in [-1, 1]. All the
perturbed images of one curve go through the model as one batch.
"""

from __future__ import annotations

import numpy as np

from . import class_map, scorer
from ._baseline import baseline_image


def curve(score, image: np.ndarray, baseline: np.ndarray, order: np.ndarray, steps: int,
          insertion: bool) -> np.ndarray:
    """Scores after hiding (or revealing) the first ``round(i * n / steps)`` pixels of ``order``, i = 0..steps."""
    h, w = image.shape[:2]
    n = h * w
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    cuts = np.round(np.arange(steps + 1) * n / steps).astype(np.int64)
    changed = (rank[None, :] < cuts[:, None]).reshape(steps + 1, h, w, 1)  # (S+1, H, W, 1)
    start, end = (baseline, image) if insertion else (image, baseline)
    return score(np.where(changed, end[None], start[None]))


def auc(values: np.ndarray) -> float:
    """Area under a curve sampled at evenly spaced fractions 0..1 (trapezoid rule)."""
    v = np.asarray(values, np.float64)
    return float(((v[1:] + v[:-1]) / 2).mean())


def petsiuk(model, image, explanation, steps: int, random_orders: int, seed: int, insertion: bool) -> dict:
    """Map and random-order curves, their AUCs, and the normalised gain over random (0 = random)."""
    x = np.asarray(image, np.float32)
    base, base_name = baseline_image(explanation, x)
    score = scorer(model, explanation)
    m = class_map(explanation).ravel()
    order = np.argsort(-m, kind="stable")
    ends = score(np.stack([x, base]))
    fractions = np.linspace(0, 1, steps + 1)
    c_map = curve(score, x, base, order, steps, insertion)
    rng = np.random.default_rng(seed)
    c_rand = np.mean([curve(score, x, base, rng.permutation(m.size), steps, insertion)
                      for _ in range(random_orders)], axis=0)
    a_map, a_rand = auc(c_map), auc(c_rand)
    gain = (a_map - a_rand) if insertion else (a_rand - a_map)
    # Scores can overshoot f(baseline) half-way (hiding half a scan can cost more than blurring all of
    # it), so the scale is the span of scores the two curves visit: the value stays within [-1, 1].
    span = float(max(c_map.max(), c_rand.max()) - min(c_map.min(), c_rand.min()))
    value = gain / span if span > 1e-9 else float("nan")
    return {"value": value, "fractions": fractions, "curve": c_map, "random_curve": c_rand, "auc": a_map,
            "random_auc": a_rand, "score_image": float(ends[0]), "score_baseline": float(ends[1]),
            "baseline": base_name, "output_space": explanation.output_space,
            "class": explanation.class_names[0]}
