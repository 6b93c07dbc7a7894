"""The bridge to PAIR's ``saliency`` package (``saliency.core``, numpy-only).

PAIR's methods (vanilla gradients, SmoothGrad, IG, Blur IG, Guided IG, XRAI,
Grad-CAM) ask one ``call_model_function(images, call_model_args,
expected_keys)`` for input gradients, conv-layer values and gradients, or
outputs. ``PairExplainer`` answers it with ``LoadedModel``'s compiled white-box
calls, reports progress between calls (``progress`` may raise ``Cancelled``),
and turns one mask per explained class into an ``Explanation``. A method module
only says which PAIR class to call with which arguments (``attribute``).
"""

from __future__ import annotations

import time

import numpy as np

from ..models.loaded import OUTPUT_SPACES
from .base import Explainer


class PairExplainer(Explainer):
    family = "gradient"
    uses_gradients = True
    libraries = ("saliency",)
    additive = False

    def expected_calls(self, **params) -> int:
        """Images the method sends to the model per class (for the progress bar)."""
        return 1

    def attribute(self, x, call, args, model, output, cls, **params) -> tuple[np.ndarray, float, dict]:
        """(values (H, W, C), base value or NaN, extras) for one class."""
        raise NotImplementedError

    def explain(self, model, image, classes, output, progress=None, **params):
        from saliency.core import base as keys

        classes = np.asarray(classes, np.int64)
        x = np.asarray(image, np.float64)
        total = max(1, self.expected_calls(**params)) * len(classes)
        done = [0]
        layer = params.get("layer") or None

        def call(batch, call_model_args=None, expected_keys=None):
            batch = np.asarray(batch, np.float32)
            c, out = int(call_model_args["class"]), {}
            if keys.INPUT_OUTPUT_GRADIENTS in expected_keys:
                out[keys.INPUT_OUTPUT_GRADIENTS] = model.gradients(batch, c, output)
            if keys.CONVOLUTION_LAYER_VALUES in expected_keys or keys.CONVOLUTION_OUTPUT_GRADIENTS in expected_keys:
                a, g, _ = model.layer_gradients(batch, c, output, layer)
                out[keys.CONVOLUTION_LAYER_VALUES], out[keys.CONVOLUTION_OUTPUT_GRADIENTS] = a, g
            if keys.OUTPUT_LAYER_VALUES in expected_keys:
                out[keys.OUTPUT_LAYER_VALUES] = model.output_fn(output)(batch)[:, c]
            done[0] += len(batch)
            if progress is not None:
                progress(min(1.0, done[0] / total), f"{done[0]:,} / {total:,} model calls")
            return out

        t0 = time.perf_counter()
        values, bases, extras = [], [], {}
        for c in classes:
            v, b, ex = self.attribute(x, call, {"class": int(c)}, model, output, int(c), **params)
            v = np.asarray(v, np.float64)
            if v.ndim == 2:  # one value per pixel: spread over channels so maps() (a channel sum) gives it back
                v = np.repeat(v[..., None] / x.shape[-1], x.shape[-1], axis=-1)
            values.append(v)
            bases.append(b)
            for k, a in ex.items():
                extras.setdefault(k, []).append(a)
        seconds = time.perf_counter() - t0
        out = model.forward_image(image)[OUTPUT_SPACES.index(output)][classes]
        return self.result(
            model, image, classes, output, values=np.stack(values), base_values=np.array(bases, np.float64),
            output_values=out, params=dict(params), seconds=seconds,
            extras={k: np.stack(a) for k, a in extras.items()}, info={"evaluations": int(done[0])})


def baseline_image(x: np.ndarray, kind: str, seed: int = 0) -> np.ndarray:
    """The reference an integrated-gradients path starts from: black, a heavy blur, or uniform noise."""
    if kind == "black":
        return np.zeros_like(x)
    if kind == "blurred":
        from scipy.ndimage import gaussian_filter

        sigma = max(x.shape[:2]) / 8
        return gaussian_filter(x, sigma=(sigma, sigma, 0), mode="nearest")
    return np.random.default_rng(seed).uniform(0, 255, x.shape)


BASELINES = ("black", "blurred", "noise")
