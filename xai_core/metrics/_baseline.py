"""What "removed" means for a map: the method's own reference image.

Deletion, insertion and faithfulness correlation hide pixels. Hiding them
with something other than what the explainer itself used for "absent" would
test the metric's baseline, not the map (Hooker et al. 2019; Petsiuk et al.
2018 blur for insertion). So the baseline follows the method: an array the
explainer stored (``extras["baseline"]``, e.g. Integrated Gradients), SHAP's
masker (a box blur of the same size; an inpainting masker is approximated by
a 20-pixel blur), LIME's and superpixel SHAP's hidden superpixels (their
mean colour, a blur, or a grey level), occlusion's ``fill``, the integrated
gradients ``baseline`` (black, blurred, noise) or, failing all these, SHAP's
default ``blur(20,20)``.
"""

from __future__ import annotations

import re

import numpy as np


def _box_blur(image: np.ndarray, kx: int, ky: int) -> np.ndarray:
    import cv2

    x = np.asarray(image, np.float32)
    out = cv2.blur(x, (int(kx), int(ky)))
    return out.reshape(x.shape)


def baseline_image(explanation, image: np.ndarray) -> tuple[np.ndarray, str]:
    """(H, W, C) float32 reference image for ``explanation`` of ``image``, and its plain name."""
    x = np.asarray(image, np.float32)
    extras, params = explanation.extras, explanation.params
    b = extras.get("baseline")
    if b is not None and np.shape(b) == x.shape:
        return np.asarray(b, np.float32), "the method's own baseline image"
    masker = str(params.get("masker", ""))
    m = re.fullmatch(r"blur\((\d+),(\d+)\)", masker)
    if m:
        return _box_blur(x, int(m[1]), int(m[2])), f"SHAP's masker, {masker}"
    if masker.startswith("inpaint"):
        return _box_blur(x, 20, 20), f"blur(20,20), close to SHAP's {masker} masker"
    if "hide_color" in params and "segments" in extras:
        from ..explainers.lime_image import hidden_image

        return hidden_image(x, np.asarray(extras["segments"]), str(params["hide_color"])), \
            f"LIME's hidden superpixels ({params['hide_color']})"
    if "fill" in params:
        from ..explainers.occlusion import fill_image

        return np.asarray(fill_image(x, str(params["fill"])), np.float32), f"occlusion's fill ({params['fill']})"
    named = str(params.get("baseline", ""))
    if named:
        from ..explainers._pair import BASELINES, baseline_image as path_start

        if named in BASELINES:
            return np.asarray(path_start(x, named, int(params.get("seed", 0))), np.float32), \
                f"the method's {named} baseline"
    return _box_blur(x, 20, 20), "blur(20,20), SHAP's default masker"
