"""``grad-cam``: Grad-CAM (Selvaraju et al., ICCV 2017).

The feature maps of a convolutional layer (default: the last one), weighted by
the spatial mean of the class score's gradient, summed, passed through ReLU,
scaled to a maximum of 1 and resized to the image. PAIR's ``GradCam`` fed by
``LoadedModel.layer_gradients`` (which reaches layers inside nested models).
"""

from __future__ import annotations

import numpy as np

from . import EXPLAINERS
from ._pair import PairExplainer
from .base import Param


@EXPLAINERS.register("grad-cam")
class GradCam(PairExplainer):
    name = "grad-cam"
    display_name = "Grad-CAM"
    featured = 4
    description = "Where the last convolutional layer's features that raise the class score are active."
    family = "CAM"
    unit = "Grad-CAM, relative"
    completeness = "not additive: a coarse map scaled to a maximum of 1"
    params = (
        Param("layer", "", "Layer to read (a path such as 'conv2d_3'); empty = the last convolution.", str),
    )

    def attribute(self, x, call, args, model, output, cls, *, layer):
        from saliency.core import GradCam as Pair

        return Pair().GetMask(x, call, args, should_resize=True, three_dims=False), np.nan, {}
