"""``grad-cam++``: Grad-CAM++ (Chattopadhyay, Sarkar, Howlader & Balasubramanian, WACV 2018).

Like Grad-CAM, but each feature map's weight sums its positive gradients with
per-position coefficients alpha = g^2 / (2 g^2 + sum(A) g^3) (the paper's
closed form for an exponential of the score), so several instances of a class
all get credit. Written here because no kept library offers it for Keras 3;
it reads the same ``LoadedModel.layer_gradients`` as Grad-CAM.
"""

from __future__ import annotations

import time

import numpy as np

from ..models.loaded import OUTPUT_SPACES
from . import EXPLAINERS
from .base import Explainer, Param


def grad_cam_pp_map(acts: np.ndarray, grads: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """One (H, W) Grad-CAM++ map in [0, 1] from activations and gradients (h, w, k) at one layer."""
    from skimage.transform import resize

    g2, g3 = grads ** 2, grads ** 3
    denom = 2 * g2 + acts.sum(axis=(0, 1), keepdims=True) * g3
    alpha = np.divide(g2, denom, out=np.zeros_like(g2), where=np.abs(denom) > 1e-30)
    weights = (alpha * np.maximum(grads, 0)).sum(axis=(0, 1))
    cam = np.maximum((acts * weights).sum(-1), 0)
    if cam.max() > 0:
        cam = cam / cam.max()
    return resize(cam, size)  # bilinear, like PAIR's Grad-CAM


@EXPLAINERS.register("grad-cam++")
class GradCamPP(Explainer):
    name = "grad-cam++"
    display_name = "Grad-CAM++"
    description = "Grad-CAM with per-position gradient weights: better when a class shows up in several places."
    family = "CAM"
    uses_gradients = True
    unit = "Grad-CAM++, relative"
    additive = False
    completeness = "not additive: a coarse map scaled to a maximum of 1"
    libraries = ("skimage",)
    params = (
        Param("layer", "", "Layer to read (a path such as 'conv2d_3'); empty = the last convolution.", str),
    )

    def explain(self, model, image, classes, output, progress=None, *, layer):
        classes = np.asarray(classes, np.int64)
        x = np.asarray(image, np.float32)
        t0 = time.perf_counter()
        acts, grads, _ = model.layer_gradients(np.repeat(x[None], len(classes), 0), classes, output, layer or None)
        maps = np.stack([grad_cam_pp_map(a, g, x.shape[:2]) for a, g in zip(acts, grads)])
        if progress is not None:
            progress(1.0, "done")
        c = x.shape[-1]
        out = model.forward_image(image)[OUTPUT_SPACES.index(output)][classes]
        return self.result(
            model, image, classes, output, values=np.repeat(maps[..., None] / c, c, axis=-1),
            base_values=np.full(len(classes), np.nan), output_values=out, params={"layer": layer},
            seconds=time.perf_counter() - t0,
            info={"evaluations": len(classes), "layer": layer or model.whitebox.default_layer()})
