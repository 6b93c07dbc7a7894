"""``shap-gradient``: expected gradients (Erion et al., 2021) via shap's ``GradientExplainer``.

Integrated gradients averaged over random baselines drawn from a background
set and random points on each path (Lundberg & Lee's SHAP framing). shap's
GradientExplainer is used, never DeepExplainer: DeepExplainer fails on common
architectures and, when it fails, leaves TensorFlow's gradient registry
patched for the whole process (FIELD_NOTES). The background here is built from
the image itself (black, a blur, uniform noise, or all three), since an
explanation call has no training data; the base value is the mean output on
the background, so the values sum to about f(x) - E[f(background)].
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from ..models.loaded import OUTPUT_SPACES
from . import EXPLAINERS
from ._global import GLOBAL_LOCK, seeded_global_numpy
from ._pair import baseline_image
from .base import Explainer, Param

BACKGROUNDS = ("mixed", "black", "blurred", "noise")


def _score_model(model, output: str, classes: np.ndarray):
    """A Keras model from 0..255 pixels to the explained classes' scores, for shap's gradient tape."""
    import keras
    import tensorflow as tf

    idx, cls = OUTPUT_SPACES.index(output), [int(c) for c in classes]

    class Scores(keras.layers.Layer):
        def call(self, x):
            return tf.gather(model.scores(x)[idx], cls, axis=1)

    inp = keras.Input(model.input_shape)
    return keras.Model(inp, Scores()(inp))


def background_images(x: np.ndarray, kind: str, n: int, seed: int) -> np.ndarray:
    if kind == "mixed":
        return np.stack([baseline_image(x, "black"), baseline_image(x, "blurred"),
                         *[baseline_image(x, "noise", seed + i) for i in range(max(1, n - 2))]])
    if kind == "noise":
        return np.stack([baseline_image(x, "noise", seed + i) for i in range(n)])
    return baseline_image(x, kind)[None]


@EXPLAINERS.register("shap-gradient")
class ShapGradient(Explainer):
    name = "shap-gradient"
    display_name = "SHAP (expected gradients)"
    description = ("Integrated gradients averaged over random baselines and path points (shap's "
                   "GradientExplainer). Additive in expectation.")
    family = "SHAP"
    uses_gradients = True
    unit = "SHAP value ({space})"
    residual_tolerance = None  # a path integral or a sample mean: shown, not promised
    completeness = "base value = mean output on the background; base + sum ≈ output (sampling error)"
    libraries = ("shap",)
    params = (
        Param("background", "mixed", "Baselines: black, a blur, uniform noise, or all three.", str,
              choices=BACKGROUNDS),
        Param("background_size", 8, "Background images (for noise and mixed).", int, min=1, max=256),
        Param("samples", 200, "Gradient samples per class.", int, min=1, max=20_000),
        Param("batch_size", 50, "Samples per model call.", int, min=1, max=1024),
        Param("seed", 0, "Seed of the sampling; the same seed gives identical maps.", int, min=0),
    )

    def explain(self, model, image, classes, output, progress=None, *, background, background_size, samples,
                batch_size, seed):
        import shap

        classes = np.asarray(classes, np.int64)
        x = np.asarray(image, np.float32)
        bg = background_images(x.astype(np.float64), background, background_size, seed).astype(np.float32)
        t0 = time.perf_counter()
        if progress is not None:
            progress(0.0, f"{samples * len(classes):,} gradient samples")
        with GLOBAL_LOCK, seeded_global_numpy(seed), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Keras notes its input structure on every call: noise, not news
            explainer = shap.GradientExplainer(_score_model(model, output, classes), bg, batch_size=batch_size)
            sv = explainer.shap_values(x[None], nsamples=samples, rseed=seed)
        sv = np.asarray(sv, np.float64)  # (1, H, W, C, K) in shap 0.51
        values = np.moveaxis(sv[0], -1, 0) if sv.ndim == 5 else sv[:, 0]
        if progress is not None:
            progress(1.0, "done")
        base = model.output_fn(output)(bg)[:, classes].mean(0)
        out = model.forward_image(image)[OUTPUT_SPACES.index(output)][classes]
        return self.result(
            model, image, classes, output, values=values, base_values=base, output_values=out,
            params={"background": background, "background_size": background_size, "samples": samples,
                    "batch_size": batch_size, "seed": seed},
            seconds=time.perf_counter() - t0, info={"evaluations": int(samples * len(classes))})
