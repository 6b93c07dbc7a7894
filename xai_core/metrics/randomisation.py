"""``randomisation``: the model-randomisation sanity check (Adebayo et al. 2018, "Sanity Checks for
Saliency Maps", NeurIPS).

The model's weights are randomised in a cascade from the top (logit) layer
down, and the method explains the same image for the same class at each
step. A map that explains the model must change once the model's learnt
weights are gone; one that stays similar explains the image (an edge
detector), not the model. Per step: the Spearman rank correlation of
|attribution| with the original map and the SSIM (Wang et al. 2004;
``skimage.metrics.structural_similarity``) of the two |maps| min-max scaled
to [0, 1] (a constant offset, like RISE's mean mask, is no structure). The value is the SSIM after the top ``top_layers`` layers (default:
the top half) are randomised; lower is better. SSIM, not Spearman, carries the
verdict: on scans with a black background, gradient x input is zero there
for any model, and those shared zeros keep the rank correlation at 0.6-0.7
even with every layer random, while the structure a reader sees is gone
(SSIM about 0.2; measured on brain-basic-cnn). Both are reported per step. The randomised models live in
memory only (``_randomised.py``).

**Calibrated verdict** (issue 22). Two references on this scan: the
similarity of the map with *the same model's* map again (1 for a
deterministic method; for a seeded one, the map at the next seed: its own
noise floor) and with an *unrelated* map (the map's own blocks shuffled,
``_spatial.chance``). The bar lies halfway between them. The random weights
are the metric's random component: one draw of them can leave a RISE map on
mnist-cnn anywhere between SSIM -0.06 and 0.97, so the verdict reads the mean
SSIM over ``draws`` independent weight draws (the first is the cascade's),
with a Student-t 95% interval over the draws, doubled up to ``max_draws``
while inconclusive; "the map changed" needs that interval below the same
model's similarity, and "it did not" a mean within one standard error of it
(in between: inconclusive, as deletion reads its chance band).
pass: changed, and the interval lies wholly at or below the bar (closer to an
unrelated map than to the same model's); warn: changed, wholly above the bar;
fail: within one standard error of the same model's, above the bar;
inconclusive: the interval straddles the bar, or the change is neither shown
nor ruled out.
"""

from __future__ import annotations

import math

import numpy as np

from ..agreement import spearman
from ..params import Param
from . import Metric, class_map, register
from ._evidence import adaptive, judge_lower, samples_to_decide, t95
from ._randomised import cascade, randomised_top
from ._rerun import rerun
from ._spatial import chance

SHARE = 0.5  # the bar: this far from the same model's similarity towards an unrelated map's


def _unit(m: np.ndarray) -> np.ndarray:
    """Min-max scaled to [0, 1]: a constant offset (RISE's mean mask, E[f] * p) carries no structure."""
    lo, hi = float(m.min()), float(m.max())
    return (m - lo) / (hi - lo) if hi > lo else np.zeros_like(m)


def ssim_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The local SSIM of |a| and |b| (each min-max scaled), over the pixels scikit-image averages."""
    from skimage.metrics import structural_similarity

    a, b = _unit(np.abs(a)), _unit(np.abs(b))
    win = min(7, *a.shape) // 2 * 2 + 1 if min(a.shape) >= 3 else 1
    _, full = structural_similarity(a, b, data_range=1.0, win_size=win, full=True)
    pad = (win - 1) // 2
    return full[pad:full.shape[0] - pad, pad:full.shape[1] - pad] if pad else full


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM (Wang et al. 2004) of |a| and |b|, min-max scaled: scikit-image's mean over ``ssim_map``."""
    return float(ssim_map(a, b).mean())


DRAW_SEED = 100_003  # weight draw d of seed s uses seed s + d * DRAW_SEED (draw 0 is the cascade's own)


def calibrated(original: np.ndarray, randomised: list[np.ndarray], again: np.ndarray, seed: int = 0) -> dict:
    """The mean SSIM over weight draws, its interval, the two references, the bar and the verdict."""
    ssims = np.array([ssim(original, m) for m in randomised])
    n, value = len(ssims), float(ssims.mean())
    half = t95(n - 1) * float(ssims.std(ddof=1)) / math.sqrt(n) if n > 1 else float("inf")
    low, high = value - half, value + half
    same = ssim(original, again)
    unrelated = float(chance(original, original, ssim, seed).mean())
    bar = unrelated + SHARE * (same - unrelated)
    changed = high < same
    # between 1 and 1.96 standard errors below the same model's similarity "unchanged" is not shown either:
    # read inconclusive and draw more weights (as deletion does against its chance band)
    se = half / t95(n - 1) if n > 1 else float("inf")
    below = (same - value) / se if se > 0 else (float("inf") if same > value else 0.0)
    verdict = judge_lower(value, low, high, changed, bar, chance_z=below)
    to_decide = None
    if verdict == "inconclusive":
        gap = abs(value - bar) if low <= bar <= high else same - value
        to_decide = samples_to_decide(n, half, gap)
    return {"value": value, "low": low, "high": high, "draws": ssims.tolist(), "same_model": same,
            "unrelated": unrelated, "bar": bar, "changed": changed, "verdict": verdict, "to_decide": to_decide}


@register
class Randomisation(Metric):
    name = "randomisation"
    display_name = "Model randomisation (sanity check)"
    description = "Does the map change when the model's learnt weights are replaced by random ones? " \
                  "(structural similarity with the original map; low = it depends on the model.)"
    better = "lower"
    cost = "costly"
    category = "randomisation"
    figure = "randomisation"
    version = 3
    rule = ("SSIM with the original map after the top half of the layers are randomised, against two references "
            "on this scan: the same model's map again (1, or the next seed's for a seeded method) and an unrelated "
            "map (its blocks shuffled); bar halfway between. Mean over 3 weight draws (up to 8 while undecided). "
            "pass: the 95% interval over draws all <= the bar, so below the same model's; warn: below the same "
            "model's, above the bar; fail: within one standard error of the same model's, above the bar; inconclusive: the interval "
            "straddles the bar, or the SSIM is 1 to 1.96 standard errors below the same model's, after the cost cap")
    why = ("A map that stays similar once the learnt weights are gone explains the image, not the model "
           "(Adebayo et al. 2018); how similar is similar depends on the map: shared zeros on a black background "
           "keep an unrelated map's SSIM up, and a seeded method's own noise keeps the same model's down.")
    params = (
        Param("top_layers", 0, "The verdict reads the map after this many top layers are randomised "
              "(0 = the top half).", int, min=0, max=100),
        Param("steps", 0, "Layers randomised in the cascade, top down (0 = every layer with weights).", int,
              min=0, max=100),
        Param("draws", 3, "Independent draws of the random weights the verdict averages over (the first is the "
              "cascade's).", int, min=2, max=50),
        Param("max_draws", 8, "Cost cap: draws made at most while the verdict is inconclusive (doubling from "
              "draws).", int, min=2, max=100),
        Param("seed", 0, "Seed of the random weights.", int, min=0),
    )

    def applies(self, explanation):
        from ..explainers import EXPLAINERS

        cls = EXPLAINERS.get(explanation.method) if explanation.method in EXPLAINERS else None
        if cls is not None and cls.trained_per_model:  # an amortised explainer learnt the original model only
            return f"{cls.display_name} is trained for one model, and a randomised model has no trained explainer"
        return None

    def evaluate(self, model, image, explanation, mask, progress=None, *, top_layers, steps, draws, max_draws,
                 seed):
        original = np.abs(class_map(explanation))
        models = cascade(model, seed, steps or None)
        if not models:
            return self.not_applicable("the model has no layers with weights")
        seeded = "seed" in explanation.params
        runs = len(models) + seeded
        layers, rhos, ssims, maps = [], [], [], []
        for j, (layer, lm) in enumerate(models):
            def step(f, msg, j=j):
                if progress is not None:
                    progress((j + f) / runs, f"randomised up to layer {j + 1} of {len(models)}: {msg}")

            m = np.abs(rerun(lm, image, explanation, progress=step))
            layers.append(layer)
            maps.append(m)
            rhos.append(spearman(original, m))
            ssims.append(ssim(original, m))
        at = min(top_layers or (len(models) + 1) // 2, len(models)) - 1
        again = original  # a deterministic method gives the same map again
        if seeded:  # a seeded method's own noise floor: its map at the next seed, model untouched
            def last(f, msg):
                if progress is not None:
                    progress((len(models) + f) / runs, f"the same model at the next seed: {msg}")

            again = np.abs(rerun(model, image, explanation, progress=last,
                                 seed=int(explanation.params["seed"]) + 1))
        randomised = [maps[at]]

        def evaluate(n: int) -> dict:
            for k in range(len(randomised), n):
                if progress is not None:
                    progress(1.0, f"weight draw {k + 1} of {n} for the verdict")
                lm = randomised_top(model, seed + k * DRAW_SEED, at + 1)
                randomised.append(np.abs(rerun(lm, image, explanation)))
            return calibrated(original, randomised, again, seed)

        d = adaptive(evaluate, draws, max(draws, max_draws))
        verdict = d["verdict"]
        value, bar = d["value"], d["bar"]
        meaning = (f"With the top {at + 1} layer(s) randomised the map "
                   + {"pass": "changes: it depends on what the model learnt.",
                      "warn": "changes only partly.",
                      "fail": "stays similar: it shows the image more than the model.",
                      "inconclusive": "changes, but whether clearly is not yet decided."}[verdict]
                   + f" (SSIM {value:.2f}, 95% interval {d['low']:.2f} to {d['high']:.2f}; the same model's map "
                   f"again scores {d['same_model']:.2f}, an unrelated map {d['unrelated']:.2f}.)")
        if verdict == "inconclusive":
            need = d["to_decide"]
            meaning += (f" Undecided after {d['budget']} weight draws; about {need:,} would decide it." if need else
                        " The value sits on the line; no budget decides it.")
        threshold = (f"pass: 95% interval all <= {bar:.3g} (halfway from an unrelated map, {d['unrelated']:.3g}, to "
                     f"the same model's, {d['same_model']:.3g}) and below the same model's; warn: below it, above "
                     f"{bar:.3g}; fail: not below it (SSIM after {at + 1} top layer(s))")
        return self.result(value, verdict, threshold, meaning,
                           {"layers": layers, "spearman": rhos, "ssim": ssims, "verdict_step": at + 1,
                            **{k: d[k] for k in ("same_model", "unrelated", "bar", "changed", "draws", "budgets",
                                                   "to_decide")}},
                           chance=d["unrelated"], low=d["low"], high=d["high"])
