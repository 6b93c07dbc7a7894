"""Felzenszwalb & Huttenlocher (2004): graph-based merging of similar neighbours.

With SLIC, the segmenter the thesis found to work (section 4.5, figs. 4.13 to 4.18).
"""

from skimage.segmentation import felzenszwalb

from ..params import Param
from . import SEGMENTERS, Segmenter

SEGMENTERS.register("felzenszwalb", Segmenter(
    name="felzenszwalb", display_name="Felzenszwalb",
    description="Graph-based merging along edges; follows structure, sizes vary moderately.",
    fn=lambda x, scale, sigma, min_size: felzenszwalb(
        x, scale=scale, sigma=sigma, min_size=min_size, channel_axis=-1),
    params=(
        Param("scale", 100.0, "Higher gives larger segments.", float, min=1.0, max=10_000),
        Param("sigma", 0.5, "Gaussian smoothing before segmenting (pixels).", float, min=0.0, max=20),
        Param("min_size", 50, "Smallest segment in pixels.", int, min=1, max=100_000),
    )))
