"""SLIC (Achanta et al., 2012): k-means in colour + position space from a grid.

The thesis found SLIC gives the most even superpixel sizes (section 4.5).
"""

from skimage.segmentation import slic

from ..params import Param
from . import SEGMENTERS, Segmenter

SEGMENTERS.register("slic", Segmenter(
    name="slic", display_name="SLIC",
    description="k-means superpixels seeded on a grid; the most even sizes.",
    fn=lambda x, n_segments, compactness, sigma: slic(
        x, n_segments=n_segments, compactness=compactness, sigma=sigma, channel_axis=-1, start_label=0),
    params=(
        Param("n_segments", 50, "Approximate number of segments.", int, min=2, max=2000),
        Param("compactness", 10.0, "Higher gives squarer segments, lower follows edges more.",
              float, min=0.01, max=1000),
        Param("sigma", 1.0, "Gaussian smoothing before segmenting (pixels).", float, min=0.0, max=20),
    )))
