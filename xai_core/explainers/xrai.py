"""``xrai``: XRAI (Kapishnikov et al., ICCV 2019), region attribution from IG.

Integrated gradients from a black and a white baseline, then image regions
(Felzenszwalb segments at several scales) are added greedily by attribution
density; each pixel gets the density of the region that claimed it. PAIR's
``XRAI``. The map ranks regions; it is not a share of the output.
"""

from __future__ import annotations

import numpy as np

from . import EXPLAINERS
from ._pair import PairExplainer
from .base import Param


@EXPLAINERS.register("xrai")
class Xrai(PairExplainer):
    name = "xrai"
    display_name = "XRAI"
    featured = 7
    description = "Regions ranked by how much integrated-gradient attribution they gather per pixel."
    unit = "XRAI region density ({space} per pixel)"
    completeness = "not additive: a ranking of regions by IG density"
    params = (
        Param("steps", 32, "Integrated-gradient steps per baseline (black and white).", int, min=2, max=1024),
        Param("algorithm", "fast", "PAIR's fast or full region search.", str, choices=("fast", "full")),
        Param("batch_size", 32, "Path points per model call.", int, min=1, max=1024),
    )

    def expected_calls(self, steps=32, **_):
        return 2 * steps

    def attribute(self, x, call, args, model, output, cls, *, steps, algorithm, batch_size):
        from saliency.core import XRAI, XRAIParameters

        p = XRAIParameters(steps=steps, algorithm=algorithm)
        baselines = [np.zeros_like(x), np.full_like(x, 255.0)]
        out = XRAI().GetMaskWithDetails(x, call, args, baselines=baselines, batch_size=batch_size,
                                        extra_parameters=p)
        return np.asarray(out.attribution_mask, np.float64), np.nan, {}
