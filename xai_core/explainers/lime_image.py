"""``lime``: LIME for images (Ribeiro, Singh & Guestrin, 2016), with a batched sampler.

The image is split into superpixels by a registered segmenter; random on/off
patterns of superpixels are scored by the model, and a weighted ridge
regression (lime's own ``LimeBase``) fits one weight per superpixel per class.

Same draws, same fit, same weights as ``lime_image.LimeImageExplainer(
random_state=seed).explain_instance`` with the same segments (tested), but
the perturbed images are built with one gather per batch and scored through
the compiled forward pass, instead of lime's one-image-at-a-time Python loop
(``copy.deepcopy`` and a mask per hidden superpixel per sample).

The result carries, per class: ``weights`` (one per superpixel),
``intercept``, ``score`` (the R^2 of the weighted local fit) and
``local_pred`` (the fit's prediction on the full image), plus ``segments``.
LIME is not additive: ``values`` paints each superpixel's weight on its pixels.
"""

from __future__ import annotations

import time

import numpy as np

from ..errors import InputError
from ..models.loaded import OUTPUT_SPACES
from ..segmenters import SEGMENTERS
from . import EXPLAINERS
from .base import Explainer, Param

HIDE_COLORS = ("mean", "blur")


def hidden_image(image: np.ndarray, segments: np.ndarray, hide_color: str) -> np.ndarray:
    """What a hidden superpixel shows: its mean colour (lime's default), a blur, or a constant."""
    x = np.asarray(image, np.float32)
    if hide_color == "mean":
        n = int(segments.max()) + 1
        counts = np.bincount(segments.ravel(), minlength=n).astype(np.float64)
        flat = x.reshape(-1, x.shape[-1]).astype(np.float64)
        means = np.stack([np.bincount(segments.ravel(), flat[:, c], minlength=n) / counts
                          for c in range(x.shape[-1])], -1)
        return means[segments].astype(np.float32)
    if hide_color == "blur":
        from scipy.ndimage import gaussian_filter

        sigma = max(x.shape[:2]) / 16
        return gaussian_filter(x, sigma=(sigma, sigma, 0), mode="nearest").astype(np.float32)
    return np.full_like(x, float(hide_color))


@EXPLAINERS.register("lime")
class Lime(Explainer):
    name = "lime"
    display_name = "LIME"
    featured = 2
    description = ("A weighted linear model over superpixels, fitted to the model's outputs on images with "
                   "random superpixels hidden. Depends on the segmentation and on the random samples.")
    additive = False
    family = "perturbation"
    palette = "pro_con"  # green for, red against: LIME's own convention
    unit = "LIME weight ({space})"
    completeness = "not additive: a local linear fit, judged by its R² on the perturbed samples"
    libraries = ("lime", "sklearn", "skimage")
    budget_param = "num_samples"
    params = (
        Param("segmenter", "slic", "How the image is split into superpixels.", str,
              choices=SEGMENTERS.names),  # read live: a segmenter added later is offered too
        Param("segmenter_params", {}, "The segmenter's own parameters (name=value).", dict),
        Param("num_samples", 1000, "Random perturbed images the local model is fitted to.", int,
              min=10, max=100_000),
        Param("hide_color", "mean", "What hidden superpixels show: their mean colour, a blur, or a grey "
              "level 0..255.", str, choices=HIDE_COLORS, pattern=r"\d{1,3}(\.\d+)?"),
        Param("kernel_width", 0.25, "Width of lime's similarity kernel on cosine distance.", float,
              min=0.01, max=10),
        Param("batch_size", 256, "Perturbed images per model call.", int, min=1, max=8192),
        Param("seed", 0, "Seed of the random perturbations; the same seed gives identical weights.", int, min=0),
    )

    @classmethod
    def validate(cls, params: dict) -> dict:
        p = super().validate(params)
        p["segmenter_params"] = SEGMENTERS.get(p["segmenter"]).validate(p["segmenter_params"])
        if p["hide_color"] not in HIDE_COLORS and not 0 <= float(p["hide_color"]) <= 255:
            raise InputError(f"hide_color must be mean, blur or a grey level 0..255; got {p['hide_color']!r}.")
        return p

    @classmethod
    def reference_image(cls, explanation, image):
        segments = explanation.extras.get("segments")
        if segments is None:
            return None
        hide = str(explanation.params.get("hide_color", "mean"))
        return hidden_image(image, np.asarray(segments)[0] if np.ndim(segments) == 3 else np.asarray(segments),
                            hide), f"{cls.display_name}'s hidden superpixels ({hide})"

    def explain(self, model, image, classes, output, progress=None, *, segmenter, segmenter_params,
                num_samples, hide_color, kernel_width, batch_size, seed):
        classes = np.asarray(classes, np.int64)
        x = np.ascontiguousarray(image, np.float32)
        t0 = time.perf_counter()
        segments = SEGMENTERS.get(segmenter)(x, **segmenter_params)
        fudged = hidden_image(x, segments, hide_color)
        # each batch of perturbed images is built here: cap it by bytes (the draws do not depend on it)
        batch = model.batch_size_for(None, batch_size) if hasattr(model, "batch_size_for") else batch_size
        data, outputs = sample(model.output_fn(output, batch), x, fudged, segments, num_samples,
                               batch, seed, progress)
        fit = fit_local_models(data, outputs, classes, seed, kernel_width)
        seconds = time.perf_counter() - t0
        values = fit["weights"][:, segments][..., None] / x.shape[-1]
        values = np.repeat(values, x.shape[-1], axis=-1)
        out = model.forward_image(image)[OUTPUT_SPACES.index(output)][classes]
        return self.result(
            model, image, classes, output, values=values, base_values=fit["intercept"], output_values=out,
            params={"segmenter": segmenter, "segmenter_params": segmenter_params, "num_samples": num_samples,
                    "hide_color": hide_color, "kernel_width": kernel_width, "batch_size": batch_size,
                    "seed": seed},
            seconds=seconds, extras={"segments": segments, **fit},
            info={"evaluations": int(num_samples), "features": int(segments.max()) + 1})


def sample(f, image, fudged, segments, num_samples, batch_size, seed, progress=None):
    """lime's ``data_labels`` with the same random draws, built a batch at a time.

    ``data`` is (num_samples, n) of 0/1 with row 0 all ones (the image itself); ``outputs`` is the
    model's output for every class on each perturbed image.
    """
    from sklearn.utils import check_random_state

    n = int(segments.max()) + 1
    rs = check_random_state(seed)
    data = rs.randint(0, 2, num_samples * n).reshape((num_samples, n))
    data[0, :] = 1
    keep = data.astype(bool)
    image = np.ascontiguousarray(image, np.float32)
    fudged = np.ascontiguousarray(fudged, np.float32)
    flat = np.ascontiguousarray(segments, np.intp).ravel()
    # one buffer for every batch: a fresh (b, H, W, C) array per batch cost page faults and a second copy,
    # about 1 s per 1,000 224x224 images against 0.35 s, which is a third of LIME's time beside OpenVINO
    buf = np.empty((min(batch_size, num_samples), *image.shape), np.float32)
    outputs = []
    for i in range(0, num_samples, batch_size):
        k = keep[i:i + batch_size]
        out = buf[:len(k)]
        on = np.take(k, flat, axis=1).reshape(len(k), *image.shape[:2], 1)  # pixel shown or hidden
        np.copyto(out, fudged)
        np.copyto(out, image, where=on)
        outputs.append(np.array(f(out), np.float64))  # a copy: f may hand back a view of its own buffer
        if progress is not None:
            done = min(num_samples, i + batch_size)
            progress(done / num_samples, f"{done:,} / {num_samples:,} perturbed images")
    return data, np.concatenate(outputs)


def fit_local_models(data, outputs, classes, seed, kernel_width=0.25) -> dict:
    """lime's weighted ridge fit (``LimeBase.explain_instance_with_data``), one per class."""
    import sklearn.metrics
    from lime import lime_base
    from sklearn.utils import check_random_state

    distances = sklearn.metrics.pairwise_distances(data, data[0].reshape(1, -1), metric="cosine").ravel()

    def kernel(d):
        return np.sqrt(np.exp(-(d ** 2) / kernel_width ** 2))

    base = lime_base.LimeBase(kernel, verbose=False, random_state=check_random_state(seed))
    n = data.shape[1]
    weights = np.zeros((len(classes), n))
    intercept, score, local_pred = (np.zeros(len(classes)) for _ in range(3))
    for k, c in enumerate(classes):
        b, exp, s, lp = base.explain_instance_with_data(data, outputs, distances, int(c), num_features=100000,
                                                        feature_selection="auto")
        for feature, w in exp:
            weights[k, feature] = w
        intercept[k], score[k], local_pred[k] = b, s, np.ravel(lp)[0]
    return {"weights": weights, "intercept": intercept, "score": score, "local_pred": local_pred}
