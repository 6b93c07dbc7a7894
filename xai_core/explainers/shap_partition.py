"""``shap-partition``: SHAP's Partition explainer with an image masker.

Lundberg & Lee (2017), "A Unified Approach to Interpreting Model
Predictions"; the Partition (Owen value) algorithm of shap's
``PartitionExplainer``. This is the source paper's call (Listing 1.3:
``shap.maskers.Image("blur(20,20)")``, ``max_evals`` 1,000 to 10,000),
made fast: the model is called in large batches through one compiled
function instead of ``model.predict`` per batch.

Owen values are exactly additive: base value + sum of the map equals the
model's output on the image. With a budget below the number of pixels,
unexpanded regions share their credit evenly, so maps get finer as
``max_evals`` grows (see FIELD_NOTES: resolution depends on the budget).
"""

from __future__ import annotations

import re

import contextlib
import functools
import time

import numpy as np

from ..errors import InputError
from ..models.loaded import OUTPUT_SPACES
from . import EXPLAINERS
from ._global import GLOBAL_LOCK, seeded_global_numpy
from .base import Explainer, Param

MASKERS = ("blur(20,20)", "blur(10,10)", "inpaint_telea", "inpaint_ns")



class _PackedMaskQueue:
    """shap's Owen traversal keeps every pending node's mask, a bool per feature, in a priority queue: at
    10,000 evaluations of a 299x299x3 image that is ~10,000 x 268 KB = 2.7 GB. This queue stores the masks
    bit-packed (8x smaller) and unpacks one when it is taken out; priorities, tie-breaks and masks are
    unchanged, so the maps are the same bit for bit (tests/test_shap_partition.py)."""

    def __init__(self):
        import queue

        self._q = queue.PriorityQueue()

    def put(self, item):
        priority, tie, (mask, *rest) = item
        self._q.put((priority, tie, (np.packbits(mask), mask.shape[0], *rest)))

    def get(self):
        priority, tie, (packed, n, *rest) = self._q.get()
        return priority, tie, (np.unpackbits(packed, count=n).view(bool), *rest)

    def empty(self) -> bool:
        return self._q.empty()


@contextlib.contextmanager
def packed_owen_queue():
    """While active (under ``GLOBAL_LOCK``), shap's Partition explainer queues packed masks (``_PackedMaskQueue``)."""
    import types

    from shap.explainers import _partition

    saved = _partition.queue
    _partition.queue = types.SimpleNamespace(PriorityQueue=_PackedMaskQueue)
    try:
        yield
    finally:
        _partition.queue = saved


@functools.lru_cache(maxsize=16)
def _masker(name: str, shape: tuple):
    """An Image masker for ``shape``, built once: its partition tree costs ~70 ms to build.

    Callers hold ``GLOBAL_LOCK``: a cached masker is reset per image, so it is used by one call at a time.
    """
    import shap

    cls = _fast_blur_class() if name.startswith("blur(") else shap.maskers.Image
    return cls(name, shape)


@functools.cache
def _fast_blur_class():
    """shap's blur masker re-blurs the image on every call (its cache is keyed on the id of a
    fresh ``ravel()`` view); this subclass blurs once per explained image instead."""
    import shap

    class _FastBlur(shap.maskers.Image):
        _target = None  # the image being explained (flattened)
        _blurred = None  # its blurred version (flattened)
        _seen = None  # the row object shap passes back on every call (kept alive: no id reuse)

        def reset(self, x: np.ndarray) -> None:
            import cv2

            self._target = x.reshape(-1)
            self._blurred = cv2.blur(x.reshape(self.input_shape), self.blur_kernel).reshape(-1)
            self._seen = None

        def __call__(self, mask, x):
            if x is not self._seen:
                if self._target is None or not np.array_equal(np.reshape(x, -1), self._target):
                    return super().__call__(mask, x)
                self._seen = x
            if mask is None:
                mask = np.zeros(x.size, dtype=bool)
            return (np.where(mask, x.reshape(-1), self._blurred).reshape(1, *x.shape),)

    return _FastBlur


class _CsrRows:
    """Row access to shap's sparse cluster-mask matrix without scipy's per-call overhead.

    The Owen traversal takes one row per expanded cluster (``m10[:] += mask_matrix[i, :]``);
    scipy's sparse indexing costs ~70 us a row, this ~3 us, which matters when the forward
    pass of a small CNN costs ~0.5 ms an image.
    """

    def __init__(self, csr):
        self.indptr, self.indices, self.shape = csr.indptr, csr.indices, csr.shape

    @classmethod
    def wrap(cls, matrix):
        try:
            csr = matrix.tocsr()
        except AttributeError:
            return matrix
        return cls(csr) if bool(np.all(csr.data)) else matrix

    def __getitem__(self, key):
        i = key[0] if isinstance(key, tuple) else key
        row = np.zeros(self.shape[1], dtype=bool)
        row[self.indices[self.indptr[i]:self.indptr[i + 1]]] = True
        return row


def box_blur(image: np.ndarray, kx: int, ky: int) -> np.ndarray:
    """shap's ``blur(kx,ky)`` image masker's fill: OpenCV's box blur of the whole image."""
    import cv2

    x = np.asarray(image, np.float32)
    return cv2.blur(x, (int(kx), int(ky))).reshape(x.shape)


@EXPLAINERS.register("shap-partition")
class ShapPartition(Explainer):
    name = "shap-partition"
    display_name = "SHAP (Partition)"
    featured = 1
    short_name = "SHAP"  # the source paper's and the users' word for it
    description = ("Owen values over a hierarchy of image regions; masked regions are blurred or "
                   "inpainted. Exactly additive.")
    family = "SHAP"
    unit = "SHAP value ({space})"
    completeness = "base value = output with every pixel masked; base + sum = output (Owen values, efficiency)"
    libraries = ("shap", "cv2")
    budget_param = "max_evals"
    params = (
        Param("max_evals", 1000, "Masked images evaluated; more gives finer maps.", int, min=10, max=200_000),
        Param("masker", "blur(20,20)", "How hidden pixels are filled in.", str, choices=MASKERS,
              pattern=r"blur\(\d{1,3},\d{1,3}\)"),
        Param("batch_size", 256, "Masked images per model call.", int, min=1, max=8192),
        Param("seed", 0, "Seed for shap's tie-breaking; the same seed gives identical maps.", int, min=0),
    )

    @classmethod
    def reference_image(cls, explanation, image):
        masker = str(explanation.params.get("masker", "blur(20,20)"))
        m = re.fullmatch(r"blur\((\d+),(\d+)\)", masker)
        if m:
            return box_blur(image, int(m[1]), int(m[2])), f"SHAP's masker, {masker}"
        # an inpainting masker depends on the hidden region: a 20-pixel blur is its nearest fixed image
        return box_blur(image, 20, 20), f"blur(20,20), close to SHAP's {masker} masker"

    def explain(self, model, image, classes, output, progress=None, *, max_evals, masker, batch_size, seed):
        import shap

        classes = np.asarray(classes, np.int64)
        # shap builds each batch of masked images itself: cap it by bytes too (2048x2048 RGB is 50 MB an image)
        requested = batch_size  # what the caller asked for (and the cache key holds); the cap is a memory limit
        batch_size = model.batch_size_for(None, batch_size) if hasattr(model, "batch_size_for") else batch_size
        f_space = model.output_fn(output, batch_size)
        done = [0]

        def f(x):
            out = f_space(x)[:, classes]
            done[0] += len(x)
            if progress is not None:
                progress(min(1.0, done[0] / max_evals), f"{done[0]:,} / {max_evals:,} evaluations")
            return out

        x = np.ascontiguousarray(image, dtype=np.float32)  # float32 end to end: no conversions per batch
        t0 = time.perf_counter()
        with GLOBAL_LOCK, seeded_global_numpy(seed), packed_owen_queue():
            try:
                shap_masker = _masker(masker, tuple(image.shape))
            except Exception as exc:
                raise InputError(f"Masker {masker!r} could not be built: {exc}") from None
            if hasattr(shap_masker, "reset"):
                shap_masker.reset(x)
            explainer = shap.explainers.Partition(f, shap_masker)
            if hasattr(explainer, "_mask_matrix"):
                explainer._mask_matrix = _CsrRows.wrap(explainer._mask_matrix)
            sv = explainer(x[None], max_evals=max_evals, batch_size=batch_size, silent=True)
        seconds = time.perf_counter() - t0
        values = np.moveaxis(np.asarray(sv.values[0], np.float64), -1, 0)  # (K, H, W, C)
        if values.ndim == 3:  # a single class comes back without the class axis
            values = values[None]
        base = np.asarray(sv.base_values[0], np.float64).reshape(-1)
        out = model.forward_image(image)[OUTPUT_SPACES.index(output)][classes]
        return self.result(
            model, image, classes, output, values=values, base_values=base, output_values=out,
            params={"max_evals": max_evals, "masker": masker, "batch_size": requested, "seed": seed},
            seconds=seconds, info={"evaluations": int(done[0]), "features": int(np.prod(image.shape[:2])),
                                   "batch_size_used": int(batch_size)})
