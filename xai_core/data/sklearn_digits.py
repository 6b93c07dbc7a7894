"""``sklearn-digits``: scikit-learn's 1,797 real 8x8 digits, upsampled to 28x28.

The UCI optical-recognition digits (``sklearn.datasets.load_digits``, shipped
in scikit-learn): 16 grey levels, scaled to 0..255 and upsampled bilinearly
to MNIST's 28x28. They are real handwriting, but the digit fills the frame
and is blocky, unlike MNIST's centred 20x20 strokes: a real domain shift
for a model trained on MNIST. Split 70:20:10 per class.
"""

from __future__ import annotations

import numpy as np

from . import DATASETS, DatasetSpec
from .base import Dataset
from .mnist import CLASS_NAMES, stratified_splits


def build(seed: int = 0) -> Dataset:
    from PIL import Image
    from sklearn.datasets import load_digits

    d = load_digits()
    small = np.clip(np.rint(d.images * (255 / 16)), 0, 255).astype(np.uint8)
    images = np.stack([np.asarray(Image.fromarray(im).resize((28, 28), Image.BILINEAR)) for im in small])[..., None]
    return Dataset("sklearn-digits", CLASS_NAMES, stratified_splits(images, d.target, seed), DESCRIPTION,
                   "sklearn-digits", seed, {"source": "sklearn.datasets.load_digits, upsampled 8x8 -> 28x28"})


DESCRIPTION = ("scikit-learn's 1,797 real 8x8 handwritten digits, upsampled to 28x28: the cross-domain target "
               "for an MNIST model.")

DATASETS.register("sklearn-digits", DatasetSpec(build=build, description=DESCRIPTION, class_names=CLASS_NAMES,
                                                domain="sklearn-digits", version="1"))
