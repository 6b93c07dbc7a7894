"""``smoothgrad``: SmoothGrad (Smilkov et al., 2017), gradients averaged over noisy copies.

PAIR's ``GetSmoothedMask`` on ``GradientSaliency``: ``samples`` copies of the
image with Gaussian noise of ``noise`` x (max - min) added, gradients averaged
(signed by default; ``magnitude`` averages squares as PAIR's default does).
With zero noise it is the vanilla gradient (tested). PAIR draws the noise from
numpy's global generator, so it runs seeded under the shared lock.
"""

from __future__ import annotations

import numpy as np

from . import EXPLAINERS
from ._global import GLOBAL_LOCK, seeded_global_numpy
from ._pair import PairExplainer
from .base import Param


@EXPLAINERS.register("smoothgrad")
class SmoothGrad(PairExplainer):
    name = "smoothgrad"
    display_name = "SmoothGrad"
    featured = 5
    description = "Gradients averaged over noisy copies of the image: less speckle than the plain gradient."
    unit = "mean gradient ({space} per grey level)"
    completeness = "not additive: an average local slope"
    params = (
        Param("samples", 25, "Noisy copies averaged.", int, min=1, max=1000),
        Param("noise", 0.15, "Noise standard deviation as a fraction of the image's value range.", float,
              min=0.0, max=1.0),
        Param("magnitude", False, "Average squared gradients (always positive) instead of signed ones.", bool),
        Param("seed", 0, "Seed of the noise; the same seed gives identical maps.", int, min=0),
    )

    def expected_calls(self, samples=25, **_):
        return samples

    def attribute(self, x, call, args, model, output, cls, *, samples, noise, magnitude, seed):
        from saliency.core import GradientSaliency

        with GLOBAL_LOCK, seeded_global_numpy(seed):
            mask = GradientSaliency().GetSmoothedMask(x, call, args, stdev_spread=noise, nsamples=samples,
                                                      magnitude=magnitude)
        return mask, np.nan, {}
