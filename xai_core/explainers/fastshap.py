"""``fastshap``: Shapley values of image patches in one forward pass, from a network trained per model.

Jethani, Sudarshan, Covert, Lee & Ranganath (2022), "FastSHAP: Real-Time Shapley Value Estimation",
ICLR. An explainer network phi(x) is trained once per model to minimise

    E_x E_{S ~ p(S)} [ || v_x(S) - v_x(0) - 1_S^T phi~(x) ||^2 ],

p(S) the Shapley kernel distribution over coalitions of players (patches of a fixed grid), v_x(S) the
model's own output (margin or probability, as the other methods) on x with the patches outside S hidden,
and phi~ = phi made efficient by additive normalisation (every player gets the same share of the gap to
v_x(1) - v_x(0)). The minimiser is the Shapley value (Charnes et al. 1988), so one pass of phi gives all
players' values for all classes. Training: ``xai_core.training.amortise``.

**Direct masking, no surrogate.** The paper trains a surrogate on randomly masked inputs where hiding a
feature is not defined for the model (a zero would be read as a value). Here a hidden patch shows the SHAP
page's masker, the ``blur(20,20)`` fill (``_amortised.hidden``), which the model can be asked about
directly and cheaply (a batched compiled pass), and its answers are exactly the game ``shap-partition``
and the exact superpixel Shapley values play. A surrogate would add a second approximation for nothing.

The map is exactly additive: base (the output with every patch hidden) + sum(map) = the output on the
scan, to float rounding, because the normalisation is applied to the network's estimate here too. How
close the values are to the true Shapley values is measured, not assumed: ``benchmarks/bench_fastshap.py``
(exact 2^16-coalition values at 16 players) and ``tests/test_fastshap.py`` (a model whose values are
known in closed form). The network learns one model on one domain: on a scan outside the training domain
its maps carry the same warning every method's do (``gates``), and it says so in ``info``.
"""

from __future__ import annotations

import time

import numpy as np

from ..errors import InputError
from ..models.loaded import OUTPUT_SPACES
from . import EXPLAINERS
from ._amortised import ACTION, GRIDS, MASKER, efficient, hidden, load_network, locate, patch_segments
from .base import Explainer, Param


@EXPLAINERS.register("fastshap")
class FastShap(Explainer):
    name = "fastshap"
    display_name = "FastSHAP (amortised)"
    description = ("Shapley values of a grid of patches from a network trained once per model (FastSHAP): "
                   "a map in one pass. Hidden patches are blurred as on the SHAP page; exactly additive. "
                   "Its values are learned, not measured on this scan: on held-out brain scans they rank the "
                   "patches only moderately like exact Shapley values (0.73, see the README), so check a map that "
                   "matters with SHAP Partition. Needs training first.")
    family = "SHAP"
    unit = "Shapley value ({space})"
    completeness = ("base value = output with every patch hidden (blurred); the estimates are normalised so "
                    "base + sum = output exactly (efficiency)")
    libraries = ("tensorflow", "cv2")
    trained_per_model = ACTION
    params = (
        Param("players", "8x8", "The grid of patches that share the credit (a network is trained per grid).",
              str, choices=GRIDS),
    )

    @classmethod
    def reference_image(cls, explanation, image):
        return hidden(image), f"SHAP's masker, {MASKER}"

    @classmethod
    def state(cls, model, params, output) -> str:
        """The trained network a map comes from (a retrained explainer must not serve old maps)."""
        try:
            _, info = locate(model, params["players"], output)
        except InputError:
            return "missing"
        return str(info.get("network_sha256", "unknown"))

    def explain(self, model, image, classes, output, progress=None, *, players):
        classes = np.asarray(classes, np.int64)
        folder, info = locate(model, players, output)  # refused in one sentence if missing or stale
        if tuple(info.get("input_shape", ())) != tuple(model.input_shape):
            raise InputError(f"The fast explainer in {folder.name} was trained for {info.get('input_shape')} "
                             f"images, not {list(model.input_shape)}; train it again.")
        fn = load_network(folder, info)
        t0 = time.perf_counter()
        x = np.asarray(image, np.float32)
        segments = patch_segments(x.shape, players)
        space = OUTPUT_SPACES.index(output)
        out = model.forward_image(x)[space][classes]
        fill = hidden(x)
        base = model.forward(fill[None])[space][0][classes]
        raw = np.asarray(fn(x[None], fill[None]), np.float64)[:, :, classes]  # (1, d, K)
        phi = efficient(raw, (out - base)[None])[0].T  # (K, d): sums to out - base per class
        d = phi.shape[1]
        size = np.bincount(segments.ravel(), minlength=d).astype(np.float64)
        values = np.repeat(((phi / size)[:, segments] / x.shape[-1])[..., None], x.shape[-1], axis=-1)
        if progress is not None:
            progress(1.0, "one pass of the fast explainer")
        return self.result(
            model, image, classes, output, values=values, base_values=base, output_values=out,
            params={"players": players}, seconds=time.perf_counter() - t0,
            extras={"segments": segments, "weights": phi},
            info={"evaluations": 2, "features": int(d), "amortised": True,
                  "trained_on": str(info.get("dataset", "")), "trained_epochs": int(info.get("epochs", 0)),
                  "note": (f"amortised: trained on {info.get('dataset') or 'one dataset'}; outside that "
                           "domain its values are not Shapley values of anything checked")})
