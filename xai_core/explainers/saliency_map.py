"""``saliency``: the vanilla gradient (Simonyan, Vedaldi & Zisserman, 2014).

d(class score)/d(pixel), in the 0..255 pixel space, from PAIR's
``GradientSaliency`` fed by the compiled gradient. One model call per class.
Signed: red pixels would raise the score if brightened, blue would lower it.
"""

from __future__ import annotations

import numpy as np

from . import EXPLAINERS
from ._pair import PairExplainer


@EXPLAINERS.register("saliency")
class Saliency(PairExplainer):
    name = "saliency"
    display_name = "Saliency (gradient)"
    description = ("How much the class score changes per grey level at each pixel: the gradient. Fast and "
                   "local; often noisy.")
    unit = "gradient ({space} per grey level)"
    completeness = "not additive: a local slope, not a share of the output"
    params = ()

    def attribute(self, x, call, args, model, output, cls):
        from saliency.core import GradientSaliency

        return GradientSaliency().GetMask(x, call, args), np.nan, {}
