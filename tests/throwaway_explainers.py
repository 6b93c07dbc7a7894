"""Throw-away explainers for the trust tests, each with a known answer to the sanity checks.

* ``test-sobel-edges``: the Sobel edges of the scan, ignoring the model entirely. Adebayo et al.
  (2018) showed some saliency maps behave like this; the randomisation check must fail it.
* ``test-lesion-oracle``: the ground-truth lesion mask of a synthetic brain scan (looked up by the
  image's hash); every localisation metric must score it 1.
* ``test-grad-x-input``: gradient x input of the class score (Shrikumar et al. 2017) through the
  white-box ``LoadedModel.gradients``; a trained CNN's map must change after randomisation.
* ``test-noise``: Gaussian noise, drawn afresh for every image (seeded by its hash and ``seed``): a map
  that is noise; no calibrated verdict may pass it.

They are registered by the ``throwaway_explainers`` fixture and removed again after the test, so
no other test (the registry contract tests) ever sees them.
"""

from __future__ import annotations

import contextlib

import numpy as np

from xai_core.explainers import EXPLAINERS, Explainer
from xai_core.explanation import Explanation
from xai_core.models.loaded import OUTPUT_SPACES
from xai_core.params import Param


def _explanation(cls, model, image, classes, output, values, params=None):
    classes = np.asarray(classes, np.int64)
    out = model.forward_image(image)[OUTPUT_SPACES.index(output)][classes]
    v = np.repeat(np.asarray(values, np.float64)[None], len(classes), 0)
    if v.ndim == 3:
        v = v[..., None]
    return Explanation(values=v, base_values=np.zeros(len(classes)), output_values=out, class_indices=classes,
                       class_names=[model.class_names[i] for i in classes], output_space=output, method=cls.name,
                       params=params or {}, image=image, model_name=model.name)


class SobelEdges(Explainer):
    name = "test-sobel-edges"
    display_name = "Sobel edges (ignores the model)"
    description = "The image's edges; a model-blind 'explanation' for the randomisation test."
    additive = False

    def explain(self, model, image, classes, output, progress=None):
        from skimage.filters import sobel

        return _explanation(self, model, image, classes, output, sobel(np.asarray(image, np.float64)[..., 0]))


MASKS: dict[str, np.ndarray] = {}  # image hash -> lesion mask, filled by the fixture


class LesionOracle(Explainer):
    name = "test-lesion-oracle"
    display_name = "Lesion oracle"
    description = "Returns the scan's ground-truth lesion mask as the map."
    additive = False

    def explain(self, model, image, classes, output, progress=None):
        from xai_core.data.images import image_hash

        return _explanation(self, model, image, classes, output,
                            MASKS[image_hash(np.asarray(image, np.float32))].astype(np.float64))


class GradXInput(Explainer):
    name = "test-grad-x-input"
    display_name = "Gradient x input (test)"
    description = "Gradient of the class margin times the input."
    additive = False
    params = (Param("batch_size", 1, "unused", int, min=1),)

    def explain(self, model, image, classes, output, progress=None, *, batch_size):
        x = np.asarray(image, np.float32)
        grads = model.gradients(np.repeat(x[None], len(classes), 0), np.asarray(classes, np.int64), output)
        e = _explanation(self, model, image, classes, output, x[..., 0], {"batch_size": batch_size})
        e.values = grads * x[None]
        return e


class Noise(Explainer):
    name = "test-noise"
    display_name = "Noise"
    description = "Gaussian noise, new for every image and seed: a map that says nothing."
    additive = False
    params = (Param("seed", 0, "Seed of the noise.", int, min=0),
              Param("num_samples", 100, "unused: a budget, so convergence has one to double", int, min=1))

    def explain(self, model, image, classes, output, progress=None, *, seed, num_samples):
        from xai_core.data.images import image_hash

        x = np.asarray(image, np.float32)
        rng = np.random.default_rng([int(image_hash(x)[:12], 16), seed, num_samples])
        return _explanation(self, model, image, classes, output, rng.normal(size=x.shape[:2]),
                            {"seed": seed, "num_samples": num_samples})


THROWAWAY = (SobelEdges, LesionOracle, GradXInput, Noise)


@contextlib.contextmanager
def registered():
    for cls in THROWAWAY:
        EXPLAINERS.register(cls.name, cls)
    try:
        yield
    finally:
        for cls in THROWAWAY:
            EXPLAINERS.unregister(cls.name)
