"""``guided-ig``: Guided Integrated Gradients (Kapishnikov et al., CVPR 2021).

An adaptive path from a black baseline: at each step only the features with
the smallest gradient move, which keeps the path away from regions where the
model is steep for reasons unrelated to the image. PAIR's ``GuidedIG`` (one
gradient call per step). Still a path method: values sum to about f(image) -
f(black).
"""

from __future__ import annotations

import numpy as np

from . import EXPLAINERS
from ._pair import PairExplainer
from .base import Param


class _Numpy2:
    """numpy as saliency 0.2.1's Guided IG expects it: ``quantile`` still taking ``interpolation=``."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def quantile(a, q, interpolation="linear", **kw):
        return np.quantile(a, q, method=kw.pop("method", interpolation), **kw)


_NUMPY2 = _Numpy2()


@EXPLAINERS.register("guided-ig")
class GuidedIG(PairExplainer):
    name = "guided-ig"
    display_name = "Guided IG"
    description = "Integrated gradients along an adaptive path that moves the least important pixels first."
    unit = "Guided IG attribution ({space})"
    additive = True
    residual_tolerance = None  # a path integral or a sample mean: shown, not promised
    completeness = "base value = f(black image); base + sum = f(image) up to the path discretisation"
    params = (
        Param("steps", 64, "Steps on the path (one model call each).", int, min=2, max=2048),
        Param("fraction", 0.25, "Share of the pixels moved at each step.", float, min=0.01, max=1.0),
        Param("max_dist", 0.02, "How far the path may stray from the straight line (0 = plain IG).", float,
              min=0.0, max=1.0),
    )

    def expected_calls(self, steps=64, **_):
        return steps

    def attribute(self, x, call, args, model, output, cls, *, steps, fraction, max_dist):
        from saliency.core import GuidedIG as Pair
        from saliency.core import guided_ig

        guided_ig.np = _NUMPY2  # saliency 0.2.1 calls np.quantile(interpolation=), gone in numpy 2

        ref = np.zeros_like(x)
        mask = Pair().GetMask(x, call, args, x_baseline=ref, x_steps=steps, fraction=fraction, max_dist=max_dist)
        return mask, float(model.output_fn(output)(ref[None])[0, cls]), {}
