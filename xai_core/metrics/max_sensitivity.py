"""``max-sensitivity`` (Yeh, Hsieh, Suggala, Inouye & Ravikumar 2019, "On the (In)fidelity and Sensitivity
of Explanations", NeurIPS).

The largest relative change of the map, ``||map(x + d) - map(x)|| / ||map(x)||``,
over a few small uniform perturbations ``d`` of the pixels (``radius`` times
the 0..255 range). A map that jumps under noise a person cannot see is not
evidence. Lower is better.
"""

from __future__ import annotations

import numpy as np

from ..params import Param
from . import Metric, class_map, graded, register
from ._rerun import rerun

PASS, WARN = 0.2, 0.5


@register
class MaxSensitivity(Metric):
    name = "max-sensitivity"
    display_name = "Input stability (max-sensitivity)"
    description = "Largest relative change of the map under small, invisible noise on the scan (lower = stabler)."
    better = "lower"
    cost = "costly"
    category = "robustness"
    rule = f"pass: the largest relative change of the map under the noise <= {PASS}; warn <= {WARN}; fail: above"
    why = "A map that jumps under noise a person cannot see is not evidence (Yeh et al. 2019)."
    params = (
        Param("samples", 4, "Noisy copies of the scan explained.", int, min=1, max=100),
        Param("radius", 0.02, "Noise amplitude as a share of the 0..255 range.", float, min=0.0, max=0.5),
        Param("seed", 0, "Seed of the noise.", int, min=0),
    )

    def evaluate(self, model, image, explanation, mask, progress=None, *, samples, radius, seed):
        m0 = class_map(explanation)
        norm = float(np.linalg.norm(m0))
        if norm == 0:
            return self.not_applicable("the map is zero everywhere")
        rng = np.random.default_rng(seed)
        changes = []
        for s in range(samples):
            noisy = np.clip(image + rng.uniform(-radius, radius, image.shape) * 255.0, 0, 255).astype(np.float32)

            def step(f, msg, s=s):
                if progress is not None:
                    progress((s + f) / samples, f"noisy copy {s + 1} of {samples}: {msg}")

            changes.append(float(np.linalg.norm(rerun(model, noisy, explanation, progress=step) - m0) / norm))
        value = max(changes)
        verdict, threshold = graded(value, "lower", PASS, WARN)
        meaning = f"Invisible noise (±{radius * 255:.0f} grey levels) changes the map by up to {value:.0%}."
        return self.result(value, verdict, threshold, meaning, {"changes": changes, "radius": radius})
