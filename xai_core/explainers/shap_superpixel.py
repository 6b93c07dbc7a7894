"""``shap-superpixel``: Shapley values of superpixels, exact up to 16 of them.

The image is split by any registered segmenter; a coalition S of superpixels
shows those and hides the rest (mean colour, blur or a grey level, as in
LIME), and v(S) is the class score. Shapley (1953):
phi_i = sum over S not containing i of |S|! (M - |S| - 1)! / M! (v(S + i) - v(S)).
With M <= ``max_exact`` every one of the 2^M coalitions is scored (batched
through the compiled forward pass), so the values are exact and sum to
f(image) - f(all hidden) (efficiency). Above that, shap's Kernel SHAP
(Lundberg & Lee, 2017) estimates them from ``samples`` coalitions, still with
efficiency enforced. The thesis tried superpixel Kernel SHAP and "was
unsuccessful"; exactness removes the sampling doubt for coarse segmentations.
"""

from __future__ import annotations

import math
import time

import numpy as np

from ..models.loaded import OUTPUT_SPACES
from ..models.timing import forward_seconds
from ..segmenters import SEGMENTERS
from . import EXPLAINERS
from ._global import GLOBAL_LOCK, seeded_global_numpy
from .base import Explainer, Param
from .lime_image import HIDE_COLORS, Lime, hidden_image

EXACT_LIMIT = 16


def coalition_values(f, image, fudged, segments, coalitions: np.ndarray, batch_size, progress=None):
    """v(S) for boolean coalitions (n, M): the model's scores (n, K) with the other superpixels hidden."""
    out = []
    for i in range(0, len(coalitions), batch_size):
        on = coalitions[i:i + batch_size][:, segments][..., None]
        out.append(np.asarray(f(np.where(on, image, fudged).astype(np.float32, copy=False)), np.float64))
        if progress is not None:
            done = min(len(coalitions), i + batch_size)
            progress(done / len(coalitions), f"{done:,} / {len(coalitions):,} coalitions")
    return np.concatenate(out)


def all_coalitions(m: int) -> np.ndarray:
    """(2^m, m) booleans; row r holds the bits of r (superpixel i shown iff bit i is set)."""
    return ((np.arange(2 ** m)[:, None] >> np.arange(m)) & 1).astype(bool)


def exact_shapley(v: np.ndarray, m: int) -> np.ndarray:
    """Shapley values (K, m) from v over all 2^m coalitions (2^m, K), indexed by bitmask."""
    idx = np.arange(2 ** m)
    size = np.array([bin(r).count("1") for r in idx])
    w = np.array([math.factorial(s) * math.factorial(m - s - 1) / math.factorial(m) for s in range(m)])
    phi = np.zeros((v.shape[1], m))
    for i in range(m):
        without = idx[(idx >> i) & 1 == 0]
        phi[:, i] = (w[size[without]][:, None] * (v[without | (1 << i)] - v[without])).sum(0)
    return phi


def estimate_seconds(model, segments: int, samples: int = 2048) -> float:
    """How long an explanation with this many superpixels will take: 2^M (or ``samples``) forward passes."""
    n = 2 ** segments if segments <= EXACT_LIMIT else samples
    return n * forward_seconds(model)


@EXPLAINERS.register("shap-superpixel")
class ShapSuperpixel(Explainer):
    name = "shap-superpixel"
    display_name = "SHAP (superpixels)"
    description = ("Shapley values of superpixels: exact (every coalition scored) up to 16 superpixels, "
                   "Kernel SHAP above. Sums to f(image) - f(all hidden).")
    family = "SHAP"
    unit = "Shapley value ({space})"
    completeness = "base value = output with every superpixel hidden; exact Shapley values sum to output - base"
    libraries = ("shap", "skimage")
    params = (
        Param("segmenter", "slic", "How the image is split into superpixels.", str,
              choices=SEGMENTERS.names),  # read live: a segmenter added later is offered too
        Param("segmenter_params", {"n_segments": 12}, "The segmenter's own parameters (name=value).", dict),
        Param("hide_color", "mean", "What hidden superpixels show: their mean colour, a blur, or a grey "
              "level 0..255.", str, choices=HIDE_COLORS, pattern=r"\d{1,3}(\.\d+)?"),
        Param("max_exact", EXACT_LIMIT, "Up to this many superpixels every coalition is scored (exact).", int,
              min=1, max=EXACT_LIMIT),
        Param("samples", 2048, "Coalitions Kernel SHAP samples above max_exact.", int, min=16, max=200_000),
        Param("batch_size", 256, "Coalition images per model call.", int, min=1, max=8192),
        Param("seed", 0, "Seed of Kernel SHAP's sampling (the exact path has no randomness).", int, min=0),
    )

    @classmethod
    def validate(cls, params):
        given = dict(params)
        seg = SEGMENTERS.get(str(given.get("segmenter") or "slic"))
        if given.get("segmenter_params") is None and "n_segments" not in {q.name for q in seg.params}:
            given["segmenter_params"] = {}  # the default 12 segments speaks to SLIC-like segmenters only
        p = super().validate(given)
        p["segmenter_params"] = SEGMENTERS.get(p["segmenter"]).validate(p["segmenter_params"])
        Lime.validate({"hide_color": p["hide_color"]})
        return p

    @classmethod
    def cost_note(cls, model, image, params):
        """The exact values need 2^M model calls for M superpixels: say M and the time before computing."""
        m = int(SEGMENTERS.get(params["segmenter"])(image, **params["segmenter_params"]).max()) + 1
        if m <= params["max_exact"]:
            return (f"this scan splits into {m} superpixels, so the exact values need 2^{m} = {2 ** m:,} model "
                    f"calls, about {estimate_seconds(model, m):.0f} s here.")
        return (f"this scan splits into {m} superpixels, more than {params['max_exact']} (the exact limit, at "
                f"most {EXACT_LIMIT}): Kernel SHAP samples {params['samples']:,} coalitions, about "
                f"{estimate_seconds(model, 99, params['samples']):.0f} s.")

    # hidden superpixels take LIME's fill, so metrics hide pixels the same way
    reference_image = classmethod(Lime.reference_image.__func__)

    def explain(self, model, image, classes, output, progress=None, *, segmenter, segmenter_params, hide_color,
                max_exact, samples, batch_size, seed):
        classes = np.asarray(classes, np.int64)
        x = np.asarray(image, np.float32)
        t0 = time.perf_counter()
        segments = SEGMENTERS.get(segmenter)(x, **segmenter_params)
        m = int(segments.max()) + 1
        fudged = hidden_image(x, segments, hide_color)
        f_all = model.output_fn(output, batch_size)

        def f(imgs):
            return f_all(imgs)[:, classes]

        exact = m <= max_exact
        if exact:
            v = coalition_values(f, x, fudged, segments, all_coalitions(m), batch_size, progress)
            phi, base, evals = exact_shapley(v, m), v[0], 2 ** m
        else:
            phi, base, evals = self._kernel(f, x, fudged, segments, m, samples, batch_size, seed, progress)
        # each superpixel's value spread evenly over its pixels and channels, so the map sums to phi
        size = np.bincount(segments.ravel(), minlength=m).astype(np.float64)
        values = (phi / size)[:, segments][..., None] / x.shape[-1]
        values = np.repeat(values, x.shape[-1], axis=-1)
        out = model.forward_image(image)[OUTPUT_SPACES.index(output)][classes]
        return self.result(
            model, image, classes, output, values=values, base_values=base, output_values=out,
            params={"segmenter": segmenter, "segmenter_params": segmenter_params, "hide_color": hide_color,
                    "max_exact": max_exact, "samples": samples, "batch_size": batch_size, "seed": seed},
            seconds=time.perf_counter() - t0, extras={"segments": segments, "weights": phi},
            info={"evaluations": int(evals), "features": m, "exact": bool(exact)})

    @staticmethod
    def _kernel(f, x, fudged, segments, m, samples, batch_size, seed, progress):
        import shap

        def g(z):
            return coalition_values(f, x, fudged, segments, np.asarray(z) > 0.5, batch_size, progress)

        with GLOBAL_LOCK, seeded_global_numpy(seed):
            ke = shap.KernelExplainer(g, np.zeros((1, m)))
            sv = ke.shap_values(np.ones((1, m)), nsamples=samples, silent=True)
        sv = np.asarray(sv, np.float64)  # (1, m, K)
        phi = np.moveaxis(sv[0], -1, 0) if sv.ndim == 3 else sv[:, 0]
        base = np.asarray(ke.expected_value, np.float64).reshape(-1)
        return phi, base, samples
