"""What "removed" means for a map: the method's own reference image.

Deletion, insertion and faithfulness correlation hide pixels. Hiding them
with something other than what the explainer itself used for "absent" would
test the metric's baseline, not the map (Hooker et al. 2019; Petsiuk et al.
2018 blur for insertion). So each explainer declares its reference image
(``Explainer.reference_image``: SHAP's masker, LIME's hidden superpixels,
occlusion's fill, integrated gradients' path start, ...). An array the
explanation itself carries (``extras["baseline"]``) comes first; a method
that declares none gets SHAP's default ``blur(20,20)``.
"""

from __future__ import annotations

import numpy as np


def baseline_image(explanation, image: np.ndarray) -> tuple[np.ndarray, str]:
    """(H, W, C) float32 reference image for ``explanation`` of ``image``, and its plain name."""
    from ..explainers import EXPLAINERS
    from ..explainers.shap_partition import box_blur

    x = np.asarray(image, np.float32)
    b = explanation.extras.get("baseline")
    if b is not None and np.shape(b) == x.shape:
        return np.asarray(b, np.float32), "the method's own baseline image"
    if explanation.method in EXPLAINERS:
        declared = EXPLAINERS.get(explanation.method).reference_image(explanation, x)
        if declared is not None:
            ref, name = declared
            return np.asarray(ref, np.float32).reshape(x.shape), name
    return box_blur(x, 20, 20), "blur(20,20), SHAP's default masker"
