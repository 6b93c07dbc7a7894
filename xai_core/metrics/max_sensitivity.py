"""``max-sensitivity`` (Yeh, Hsieh, Suggala, Inouye & Ravikumar 2019, "On the (In)fidelity and Sensitivity
of Explanations", NeurIPS).

The largest relative change of the map, ``||map(x + d) - map(x)|| / ||map(x)||``,
over a few small uniform perturbations ``d`` of the pixels (``radius`` times
the 0..255 range). A map that jumps under noise a person cannot see is not
evidence. Lower is better. With the same noise draws the value is Quantus's
``MaxSensitivity`` (``tests/test_quantus_reference.py``).

**Calibrated verdict** (issue 22). How much change is a lot depends on the
map, so the line is drawn on this scan between two references:

* the method's own noise floor: the relative change between its map and its
  map at the next seed, noise-free (0 for a deterministic method);
* an unrelated map: the change to the map's own blocks shuffled
  (``_spatial.chance``), about sqrt(2) for a map centred on 0.

The bar is ``SHARE`` (15%) of the way from the floor to the unrelated level
(0.21 for a deterministic map centred on 0, the old fixed cut-off). The
noise draws are the random component: the log changes are fitted by a normal
law, and the 95% interval is the posterior predictive interval of the largest
of ``samples`` changes (Student-t/chi-square uncertainty of the fit included),
so it covers what another set of draws would show. pass: the interval all at
or below the bar and below the unrelated level's 2.5th percentile; warn:
below that percentile, above the bar; fail: not below it, the largest change
within one spread of the draws (log scale) of that percentile (the map under
invisible noise is as different as an unrelated map); inconclusive: the
interval straddles the bar, or the change is further from the unrelated
level but not below it with 95%; the draws are doubled up to ``max_samples``.
"""

from __future__ import annotations

import math

import numpy as np

from ..params import Param
from . import Metric, class_map, register
from ._evidence import adaptive, judge_lower
from ._rerun import rerun
from ._spatial import chance

SHARE = 0.15
SIMULATIONS = 4000


def relative_change(a: np.ndarray, b: np.ndarray) -> float:
    """||b - a|| / ||a|| (Frobenius norms), Quantus's default numerator and denominator."""
    return float(np.linalg.norm(np.asarray(b, np.float64) - a) / np.linalg.norm(a))


def max_interval(changes, n: int, seed: int = 0) -> tuple[float, float]:
    """95% posterior predictive interval of the largest of ``n`` changes, from a log-normal fit to ``changes``."""
    c = np.asarray(changes, np.float64)
    if c.size < 2 or c.max() <= 0:
        return (float(c.max()), float(c.max())) if c.size and c.max() <= 0 else (float("nan"), float("nan"))
    logs = np.log(np.maximum(c, c[c > 0].min() if (c > 0).any() else 1e-12))
    k, m, s = logs.size, float(logs.mean()), float(logs.std(ddof=1))
    rng = np.random.default_rng([int(seed), 23])
    s_star = s * np.sqrt((k - 1) / rng.chisquare(k - 1, SIMULATIONS))  # the spread's uncertainty (Jeffreys prior)
    m_star = m + s_star / math.sqrt(k) * rng.standard_normal(SIMULATIONS)
    largest = np.exp(m_star + s_star * rng.standard_normal((SIMULATIONS, n)).max(1))
    return float(np.percentile(largest, 2.5)), float(np.percentile(largest, 97.5))


@register
class MaxSensitivity(Metric):
    name = "max-sensitivity"
    display_name = "Input stability (max-sensitivity)"
    description = "Largest relative change of the map under small, invisible noise on the scan (lower = stabler)."
    better = "lower"
    cost = "costly"
    category = "robustness"
    version = 2
    rule = (f"bar {SHARE:.0%} of the way from the method's own noise floor (next seed, no noise; 0 if deterministic) "
            "to an unrelated map (its blocks shuffled) on this scan. pass: the 95% predictive interval of the "
            "largest change all <= the bar and below an unrelated map's 2.5th percentile; warn: below that, above "
            "the bar; fail: not below it, within one spread of the draws; inconclusive: the interval straddles the "
            "bar, or the change is 1 spread or more under the unrelated level but not below it with 95%, after the "
            "cost cap")
    why = ("A map that jumps under noise a person cannot see is not evidence (Yeh et al. 2019); how much change "
           "is a jump depends on the map (a sampled method moves by its own noise anyway), and the largest of "
           "four changes moves with the noise draws.")
    params = (
        Param("samples", 4, "Noisy copies of the scan explained first.", int, min=2, max=100),
        Param("max_samples", 16, "Cost cap: noisy copies explained at most while the verdict is inconclusive "
              "(doubling from samples).", int, min=2, max=400),
        Param("radius", 0.02, "Noise amplitude as a share of the 0..255 range.", float, min=0.0, max=0.5),
        Param("seed", 0, "Seed of the noise.", int, min=0),
    )

    def evaluate(self, model, image, explanation, mask, progress=None, *, samples, max_samples, radius, seed):
        m0 = class_map(explanation)
        if float(np.linalg.norm(m0)) == 0:
            return self.not_applicable("the map is zero everywhere")
        cap = max(samples, max_samples)
        rng = np.random.default_rng(seed)
        changes: list[float] = []
        floor = 0.0
        if "seed" in explanation.params:  # the method's own noise floor: next seed, no noise
            floor = relative_change(m0, rerun(model, image, explanation, seed=int(explanation.params["seed"]) + 1))
        unrelated = chance(m0, m0, relative_change, seed)
        band = float(np.percentile(unrelated, 2.5))
        level = float(unrelated.mean())
        bar = floor + SHARE * (level - floor)

        def evaluate(n: int) -> dict:
            for s in range(len(changes), n):
                noisy = np.clip(image + rng.uniform(-radius, radius, image.shape) * 255.0, 0, 255).astype(np.float32)

                def step(f, msg, s=s, n=n):
                    if progress is not None:
                        progress(min(1.0, (s + f) / n), f"noisy copy {s + 1} of {n}: {msg}")

                changes.append(relative_change(m0, rerun(model, noisy, explanation, progress=step)))
            value = max(changes)
            low, high = max_interval(changes, n, seed)
            low, high = min(low, value), max(high, value)  # the observed largest change lies in its interval
            # "as different as an unrelated map" needs the largest change within one spread of the noise
            # draws (log scale) of that level; further off, but not below it with 95%, draw more copies
            spread = float(np.std(np.log(np.maximum(changes, 1e-12)), ddof=1))
            z = (math.log(band) - math.log(max(value, 1e-12))) / spread if spread > 0 else \
                (float("inf") if value < band else 0.0)
            return {"value": value, "low": low, "high": high,
                    "verdict": judge_lower(value, low, high, high < band, bar, chance_z=z)}

        d = adaptive(evaluate, samples, cap)
        value, verdict = d["value"], d["verdict"]
        meaning = (f"Invisible noise (±{radius * 255:.0f} grey levels) changes the map by up to {value:.0%} "
                   f"(95% interval {d['low']:.0%} to {d['high']:.0%} over {d['budget']} noisy copies; the method's "
                   f"own noise {floor:.0%}, an unrelated map {level:.0%}): "
                   + {"pass": "stable.", "warn": "it moves more than its own noise would make it.",
                      "fail": "as different as an unrelated map.",
                      "inconclusive": "near the line; more noisy copies would not settle it."}[verdict])
        threshold = (f"pass: 95% interval all <= {bar:.3g} ({SHARE:.0%} of the way from the method's own noise, "
                     f"{floor:.3g}, to an unrelated map, {level:.3g}); warn: below {band:.3g}; fail: above")
        return self.result(value, verdict, threshold, meaning,
                           {"changes": list(changes), "radius": radius, "noise_floor": floor, "unrelated": level,
                            "unrelated_band": band, "bar": bar, "samples": d["budget"], "budgets": d["budgets"]},
                           chance=level, low=d["low"], high=d["high"])
