"""The shared machinery of deletion and insertion (Petsiuk, Das & Saenko 2018, "RISE", BMVC).

Pixels are hidden (deletion) or revealed (insertion) in the order a map
ranks them, ``steps`` chunks at a time, and the model's score for the
explained class is recorded after each chunk. Tied map values share their
chunk fairly (``_ties``): a partly taken tie group is changed by the same
fraction in each of its pixels. The area under that curve is compared with
the curves of random orderings of the same pixels, so that 0 means "this map
orders pixels no better than chance", and divided by the span of scores the
curves visit, so that the value lies in [-1, 1].

The random orderings also give the evidence (``_evidence``): their spread
``s`` over ``R`` orderings gives the value a 95% interval (the random mean is
estimated: ``t * s / sqrt(R)``) and a chance band (a random map's value falls
below ``t * s * sqrt(1 + 1/R)`` with 97.5% probability, the prediction
interval of one more random ordering). While the verdict is inconclusive the
orderings are doubled up to ``max_random_orders``.

Deletion and insertion share their random orderings (``shared_random``): at
cut ``i`` deletion along an ordering ``o`` shows the same image as insertion
at cut ``steps - i`` along ``o`` reversed (the pixels after the first ``cut``
are the original ones), and a reversed uniform ordering is as uniform. So the
random curves are scored once per model, scan, reference image, class, steps
and seed, and insertion reads deletion's backwards; on the default card this
halves the images sent through the model (the random curves are about 90% of
them).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict

import numpy as np

from ..data.images import image_hash
from . import class_map, scorer
from ._baseline import baseline_image
from ._evidence import Z95, adaptive, judge, samples_to_decide, t95
from ._ties import changed_fractions

BATCH_IMAGES = 128  # perturbed images per model call


def _cuts(n: int, steps: int) -> np.ndarray:
    """Pixels changed after each step: round(i * n / steps), made symmetric (cut[s - i] = n - cut[i]) so that
    deletion's random curves read backwards are insertion's (it differs from plain rounding only where
    i * n / steps ends in exactly .5 and n is odd)."""
    i = np.arange(steps + 1)
    half = np.round(i * n / steps).astype(np.int64)
    mirrored = n - np.round((steps - i) * n / steps).astype(np.int64)
    return np.where(2 * i <= steps, half, mirrored)


def blend(image: np.ndarray, baseline: np.ndarray, changed: np.ndarray, insertion: bool) -> np.ndarray:
    """(S, H, W, C) images with each pixel changed by ``changed`` (S, H*W) in [0, 1]: exact where 0 or 1."""
    s = changed.shape[0]
    c = changed.reshape(s, *image.shape[:2], 1).astype(np.float32)
    start, end = (baseline, image) if insertion else (image, baseline)
    mixed = start[None] + c * (end - start)[None]
    return np.where(c == 1, end[None], np.where(c == 0, start[None], mixed))


def _score_all(score, images_fn, count: int) -> np.ndarray:
    return np.concatenate([score(images_fn(i, min(i + BATCH_IMAGES, count))) for i in range(0, count, BATCH_IMAGES)])


def map_curve(score, image, baseline, values, steps: int, insertion: bool) -> np.ndarray:
    """Scores after changing the map's top ``round(i * n / steps)`` pixels (ties shared), i = 0..steps."""
    fr = changed_fractions(values, _cuts(int(np.prod(image.shape[:2])), steps))
    return score(blend(image, baseline, fr, insertion))


def random_curves(score, image, baseline, orders: list[np.ndarray], steps: int, insertion: bool) -> np.ndarray:
    """(len(orders), steps + 1) curves of random orderings, scored in large batches."""
    n = int(np.prod(image.shape[:2]))
    cuts = _cuts(n, steps)
    rank = np.empty((len(orders), n), np.int64)
    for j, o in enumerate(orders):
        rank[j, o] = np.arange(n)
    changed = (rank[:, None, :] < cuts[None, :, None]).reshape(-1, n)  # (R * (S+1), n)

    def images(a, b):
        return blend(image, baseline, changed[a:b], insertion)

    return _score_all(score, images, len(changed)).reshape(len(orders), steps + 1)


_SHARED: "OrderedDict[tuple, dict]" = OrderedDict()
_SHARED_LOCK = threading.Lock()
_SHARED_KEEP = 8  # (model, scan, reference, class, steps, seed) sets of random curves kept


def shared_random(model, explanation, score, image, baseline, steps: int, seed: int, r: int,
                  insertion: bool) -> np.ndarray:
    """(r, steps + 1) random-ordering curves, drawn from ``default_rng(seed)`` and scored once for deletion
    and insertion together (see the module docstring): deletion's along the orders, insertion's along the
    reversed orders, which are deletion's curves read backwards."""
    key = (id(model), getattr(model, "file_hash", ""), explanation.output_space, int(explanation.class_indices[0]),
           image_hash(image), image_hash(baseline), int(steps), int(seed))
    with _SHARED_LOCK:
        entry = _SHARED.get(key)
        if entry is None:
            entry = _SHARED[key] = {"rng": np.random.default_rng(seed), "curves": np.zeros((0, steps + 1)),
                                    "lock": threading.Lock(), "model": model}
        _SHARED.move_to_end(key)
        while len(_SHARED) > _SHARED_KEEP:
            _SHARED.popitem(last=False)
    with entry["lock"]:
        have = len(entry["curves"])
        if have < r:
            n = int(np.prod(image.shape[:2]))
            new = [entry["rng"].permutation(n) for _ in range(r - have)]
            entry["curves"] = np.concatenate([entry["curves"],
                                              random_curves(score, image, baseline, new, steps, insertion=False)])
        curves = entry["curves"][:r]
    return curves[:, ::-1] if insertion else curves


def auc(values: np.ndarray) -> np.ndarray | float:
    """Area under curves sampled at evenly spaced fractions 0..1 (trapezoid rule), over the last axis."""
    v = np.asarray(values, np.float64)
    a = ((v[..., 1:] + v[..., :-1]) / 2).mean(-1)
    return float(a) if np.ndim(a) == 0 else a


def petsiuk(model, image, explanation, steps: int, random_orders: int, max_random_orders: int, seed: int,
            insertion: bool, bar: float) -> dict:
    """Map and random-order curves, the normalised gain over random (0 = random), its interval and verdict."""
    x = np.asarray(image, np.float32)
    base, base_name = baseline_image(explanation, x)
    score = scorer(model, explanation)
    m = class_map(explanation).ravel()
    fr = changed_fractions(m, _cuts(m.size, steps))
    first = score(np.concatenate([np.stack([x, base]), blend(x, base, fr, insertion)]))  # one model call
    ends, c_map = first[:2], first[2:]
    a_map = auc(c_map)
    curves = np.zeros((0, steps + 1))

    def evaluate(r: int) -> dict:
        nonlocal curves
        curves = shared_random(model, explanation, score, x, base, steps, seed, r, insertion)
        a_rand = auc(curves)
        c_rand = curves.mean(0)
        sign = 1.0 if insertion else -1.0
        # Scores can overshoot f(baseline) half-way (hiding half a scan can cost more than blurring all of
        # it), so the scale is the span of scores the two curves visit: the value stays within [-1, 1].
        span = float(max(c_map.max(), c_rand.max()) - min(c_map.min(), c_rand.min()))
        if span <= 1e-9:
            return {"verdict": "n/a", "value": float("nan"), "low": float("nan"), "high": float("nan"),
                    "chance_band": float("nan"), "random_curve": c_rand, "random_auc": float(a_rand.mean())}
        value = sign * (a_map - float(a_rand.mean())) / span
        s = float(a_rand.std(ddof=1)) / span if r > 1 else float("inf")
        t = t95(r - 1)
        half, band = t * s / math.sqrt(r), t * s * math.sqrt(1 + 1 / r)
        low, high = value - half, value + half
        verdict = judge(value, low, high, value >= band, bar, chance_z=value / (s * math.sqrt(1 + 1 / r)))
        return {"verdict": verdict, "value": value, "low": low, "high": high, "chance_band": band,
                "random_sd": s, "random_curve": c_rand, "random_auc": float(a_rand.mean()), "span": span,
                "half_width": half}

    d = adaptive(evaluate, random_orders, max(random_orders, max_random_orders))
    if d["verdict"] == "inconclusive":
        if d["high"] >= bar:  # the interval straddles the bar
            d["to_decide"] = samples_to_decide(d["budget"], d["half_width"], abs(d["value"] - bar))
        else:  # above chance by 1 to 1.96 standard errors: the band shrinks towards 1.96 sd with more orderings
            ratio = d["value"] / (Z95 * d["random_sd"]) if d["random_sd"] > 0 else 0.0
            d["to_decide"] = int(math.ceil(1 / (ratio ** 2 - 1))) if ratio > 1 else None
    d.update(fractions=np.linspace(0, 1, steps + 1), curve=c_map, auc=a_map, insertion=insertion,
             score_image=float(ends[0]),
             score_baseline=float(ends[1]), baseline=base_name, output_space=explanation.output_space,
             **{"class": explanation.class_names[0]})
    return d
