"""``blur-ig``: Blur Integrated Gradients (Xu, Venugopalan & Sundararajan, CVPR 2020).

Integrates gradients along a path of ever stronger Gaussian blurs, from the
fully blurred image (sigma ``max_sigma``) to the image: no black baseline to
choose. PAIR's ``BlurIG``. Its values sum to about f(image) - f(blurred image);
that difference is the base value, so the residual is shown.
"""

from __future__ import annotations

from . import EXPLAINERS
from ._pair import PairExplainer
from .base import Param


@EXPLAINERS.register("blur-ig")
class BlurIG(PairExplainer):
    name = "blur-ig"
    display_name = "Blur IG"
    description = "Integrated gradients along a path from a heavily blurred copy of the scan to the scan."
    unit = "Blur IG attribution ({space})"
    additive = True
    residual_tolerance = None  # a path integral or a sample mean: shown, not promised
    completeness = "base value = f(fully blurred image); base + sum = f(image) up to the path discretisation"
    params = (
        Param("max_sigma", 50.0, "Blur (pixels) at the start of the path.", float, min=1.0, max=200.0),
        Param("steps", 64, "Blur levels on the path.", int, min=2, max=2048),
        Param("batch_size", 32, "Path points per model call.", int, min=1, max=1024),
    )

    def expected_calls(self, steps=64, **_):
        return steps

    def attribute(self, x, call, args, model, output, cls, *, max_sigma, steps, batch_size):
        from saliency.core import BlurIG as Pair
        from saliency.core.blur_ig import gaussian_blur

        mask = Pair().GetMask(x, call, args, max_sigma=max_sigma, steps=steps, batch_size=batch_size)
        base = float(model.output_fn(output)(gaussian_blur(x, max_sigma)[None])[0, cls])
        return mask, base, {}
