"""Watershed on the gradient of the grey image, with three edge detectors.

The thesis's bottom row of fig. 4.12: Sobel, Scharr and Prewitt gradients
(``skimage.filters``), flooded from ``markers`` evenly spread seeds. With ``compactness`` 0 (the
plain watershed, as in the thesis) flat regions such as a scan's black
background leave many one- or two-pixel segments, one reason the thesis saw
these segmenters fail; compact watershed (~0.001) evens the sizes. The
gradient is taken of the grey image: on RGB input the filters return a 3-D
array (FIELD_NOTES).
"""

from skimage import filters
from skimage.segmentation import watershed

from ..params import Param
from . import SEGMENTERS, Segmenter, grey01

_PARAMS = (
    Param("markers", 50, "Number of seeds flooded from; about the number of segments.", int, min=2, max=2000),
    Param("compactness", 0.0, "0 is scikit-image's (and the thesis's) plain watershed, which leaves tiny "
          "segments in flat regions; about 0.001 gives even sizes (compact watershed).",
          float, min=0.0, max=100),
)


def _register(name: str, gradient) -> None:
    def fn(x, markers, compactness):
        return watershed(gradient(grey01(x)), markers=markers, compactness=compactness)

    SEGMENTERS.register(f"watershed-{name}", Segmenter(
        name=f"watershed-{name}", display_name=f"Watershed ({name})",
        description=f"Watershed flooding of the {name.capitalize()} gradient magnitude of the grey image.",
        fn=fn, params=_PARAMS))


_register("sobel", filters.sobel)
_register("scharr", filters.scharr)
_register("prewitt", filters.prewitt)
