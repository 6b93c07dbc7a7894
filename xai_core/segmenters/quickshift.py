"""Quickshift (Vedaldi & Soatto, 2008): mode seeking in colour + position space.

lime's default segmenter (``kernel_size=4, max_dist=200, ratio=0.2``); with
those values a 128 px scan gives only ~10 segments of very unequal size,
which is what the thesis (fig. 4.12) saw fail. The defaults here give
~20 to 50.
"""

from skimage.segmentation import quickshift

from ..params import Param
from . import SEGMENTERS, Segmenter

SEGMENTERS.register("quickshift", Segmenter(
    name="quickshift", display_name="Quickshift",
    description="Mode seeking in colour and position; lime's default. Segment sizes vary a lot.",
    fn=lambda x, kernel_size, max_dist, ratio, seed: quickshift(
        x, kernel_size=kernel_size, max_dist=max_dist, ratio=ratio, rng=seed),
    params=(
        Param("kernel_size", 3.0, "Width of the Gaussian used for density; larger gives fewer segments.",
              float, min=0.5, max=20),
        Param("max_dist", 6.0, "Cut-off distance; larger gives fewer, bigger segments.", float, min=0.5, max=500),
        Param("ratio", 0.2, "Balance of colour (1) against position (0).", float, min=0.0, max=1.0),
        Param("seed", 0, "Seed for quickshift's tie-breaking noise.", int, min=0),
    )))
