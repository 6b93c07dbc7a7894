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
"""

from __future__ import annotations

import numpy as np

from ..agreement import spearman
from ..params import Param
from . import Metric, class_map, graded, register
from ._randomised import cascade
from ._rerun import rerun

PASS, WARN = 0.5, 0.75


def _unit(m: np.ndarray) -> np.ndarray:
    """Min-max scaled to [0, 1]: a constant offset (RISE's mean mask, E[f] * p) carries no structure."""
    lo, hi = float(m.min()), float(m.max())
    return (m - lo) / (hi - lo) if hi > lo else np.zeros_like(m)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    a, b = _unit(np.abs(a)), _unit(np.abs(b))
    win = min(7, *a.shape) // 2 * 2 + 1 if min(a.shape) >= 3 else 1
    return float(structural_similarity(a, b, data_range=1.0, win_size=win))


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
    version = 2
    rule = (f"pass: SSIM with the original map <= {PASS} after the top half of the layers are randomised; warn "
            f"<= {WARN}; fail: above")
    why = ("A map that stays similar once the learnt weights are gone explains the image, not the model "
           "(Adebayo et al. 2018); SSIM, not Spearman, because shared zeros on a black background keep ranks alike.")
    params = (
        Param("top_layers", 0, "The verdict reads the map after this many top layers are randomised "
              "(0 = the top half).", int, min=0, max=100),
        Param("steps", 0, "Layers randomised in the cascade, top down (0 = every layer with weights).", int,
              min=0, max=100),
        Param("seed", 0, "Seed of the random weights.", int, min=0),
    )

    def applies(self, explanation):
        from ..explainers import EXPLAINERS

        cls = EXPLAINERS.get(explanation.method) if explanation.method in EXPLAINERS else None
        if cls is not None and cls.trained_per_model:  # an amortised explainer learnt the original model only
            return f"{cls.display_name} is trained for one model, and a randomised model has no trained explainer"
        return None

    def evaluate(self, model, image, explanation, mask, progress=None, *, top_layers, steps, seed):
        original = np.abs(class_map(explanation))
        models = cascade(model, seed, steps or None)
        if not models:
            return self.not_applicable("the model has no layers with weights")
        layers, rhos, ssims = [], [], []
        for j, (layer, lm) in enumerate(models):
            def step(f, msg, j=j):
                if progress is not None:
                    progress((j + f) / len(models), f"randomised up to layer {j + 1} of {len(models)}: {msg}")

            m = np.abs(rerun(lm, image, explanation, progress=step))
            layers.append(layer)
            rhos.append(spearman(original, m))
            ssims.append(ssim(original, m))
        at = min(top_layers or (len(models) + 1) // 2, len(models)) - 1
        value = ssims[at]
        verdict, threshold = graded(value, "lower", PASS, WARN)
        meaning = (f"With the top {at + 1} layer(s) randomised the map "
                   + ("changes: it depends on what the model learnt." if verdict == "pass" else
                      "changes only partly." if verdict == "warn" else
                      "stays similar: it shows the image more than the model."))
        return self.result(value, verdict, f"{threshold} (SSIM after {at + 1} top layer(s))", meaning,
                           {"layers": layers, "spearman": rhos, "ssim": ssims, "verdict_step": at + 1},
                           chance=0.0)
