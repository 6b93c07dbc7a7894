"""``synthetic-brain-mri``: procedurally generated axial brain "MRI" slices.

The four classes mirror the Brain Tumor MRI data used by the source paper
(glioma, meningioma, no tumour, pituitary). They differ the way a
radiologist tells them apart, by the shape and place of the mass:

- ``glioma``: an irregular, ring-enhancing mass with surrounding oedema,
  deep inside the brain tissue;
- ``meningioma``: a well-defined, homogeneous mass with a broad base on the
  skull (dura);
- ``pituitary``: a small bright mass at the sella, low on the midline;
- ``no_tumor``: none (the normal, small pituitary gland is still there).

Everything else is nuisance that varies from scan to scan: head size,
position and tilt, skull and scalp thickness, ventricles, cortical texture,
a bias field, contrast (gain and gamma), noise and slight blur. Every image
also carries small bright normal structures (a pituitary gland, choroid
plexus, vessels), so the classes do not separate on global intensity
statistics; ``tests/test_datasets.py`` checks that with a histogram model.

Images are 128x128x1 uint8 with a boolean lesion mask; splits are 70:20:10.
Deterministic in the seed: image ``i`` is drawn from ``SeedSequence([seed, i])``.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from . import DATASETS, DatasetSpec
from .base import Dataset, generate

CLASS_NAMES = ("glioma", "meningioma", "no_tumor", "pituitary")
SIZE = 128
PER_CLASS = 600

_g = (np.arange(SIZE) + 0.5) / SIZE * 2 - 1  # pixel centres in [-1, 1]
_YY, _XX = np.meshgrid(_g, _g, indexing="ij")


def _smooth_noise(rng: np.random.Generator, cells: int) -> np.ndarray:
    """Zero-mean, unit-ish smooth noise: a coarse grid upsampled bicubically."""
    coarse = rng.standard_normal((cells, cells))
    return ndimage.zoom(coarse, SIZE / cells, order=3, mode="reflect")[:SIZE, :SIZE]


def _blob(u: np.ndarray, v: np.ndarray, cu: float, cv: float, radius: float,
          rng: np.random.Generator | None = None, irregularity: float = 0.0) -> np.ndarray:
    """Signed distance-like field (<1 inside) of a possibly irregular blob in head coordinates."""
    du, dv = u - cu, v - cv
    rad = np.full(u.shape, radius)
    if rng is not None and irregularity > 0:
        ang = np.arctan2(dv, du)
        for k in (2, 3, 5, 7):
            rad = rad * (1 + irregularity / k * np.cos(k * ang + rng.uniform(0, 2 * np.pi)) * rng.uniform(0.5, 1.5))
    return np.sqrt(du**2 + dv**2) / rad


def render(rng: np.random.Generator, label: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw one scan of class ``label``; returns (uint8 image HxW, bool mask HxW)."""
    # --- head geometry (head coordinates u, v: the inner skull is the unit circle)
    cx, cy = rng.normal(0, 0.04, 2)
    ax, ay = rng.uniform(0.66, 0.80), rng.uniform(0.76, 0.90)
    th = rng.uniform(-0.18, 0.18)
    X, Y = _XX - cx, _YY - cy
    u = (X * np.cos(th) + Y * np.sin(th)) / ax
    v = (-X * np.sin(th) + Y * np.cos(th)) / ay
    r = np.sqrt(u**2 + v**2)
    skull_t = rng.uniform(0.05, 0.10)
    scalp_t = rng.uniform(0.04, 0.09)

    brain = r < 1.0
    img = np.zeros((SIZE, SIZE))

    # scalp (fat: bright, variable) and skull (dark cortical bone with bright marrow line)
    scalp = (r >= 1 + skull_t) & (r < 1 + skull_t + scalp_t)
    skull = (r >= 1.0) & (r < 1 + skull_t)
    img[scalp] = rng.uniform(0.55, 0.85)
    img[skull] = rng.uniform(0.08, 0.18)
    marrow = np.abs(r - (1 + skull_t / 2)) < skull_t * rng.uniform(0.12, 0.3)
    img[marrow] = rng.uniform(0.45, 0.75)

    # brain tissue: white matter inside, grey-matter ribbon near the cortex, CSF rim
    wm, gm = rng.uniform(0.42, 0.55), rng.uniform(0.30, 0.42)
    depth = np.clip((1 - r) / 0.18, 0, 1)
    tissue = gm + (wm - gm) * depth + 0.05 * _smooth_noise(rng, 12)
    folds = 0.04 * _smooth_noise(rng, 32) * (depth < 1)
    img[brain] = (tissue + folds)[brain]
    csf = brain & (r > 0.97)
    img[csf] = rng.uniform(0.05, 0.15)

    # ventricles: a dark pair either side of the midline
    vs = rng.uniform(0.7, 1.3)
    for side in (-1, 1):
        vent = _blob(u * 2.2, v, side * 0.22 * vs * 2.2, rng.uniform(-0.15, 0.0), 0.30 * vs) < 1
        img[vent & brain] = rng.uniform(0.08, 0.16)
        plexus = _blob(u, v, side * 0.12 * vs, 0.05, 0.035) < 1  # bright choroid plexus
        img[plexus & brain] = rng.uniform(0.6, 0.85)

    # small bright normal structures anywhere in the brain (vessels, calcifications)
    for _ in range(rng.integers(2, 7)):
        a = rng.uniform(0, 2 * np.pi)
        d = rng.uniform(0.1, 0.8)
        dot = _blob(u, v, d * np.cos(a), d * np.sin(a), rng.uniform(0.015, 0.035)) < 1
        img[dot & brain] = rng.uniform(0.55, 0.85)

    # the sella sits low on the midline; a normal pituitary gland is always there
    sella_u, sella_v = rng.normal(0, 0.02), rng.uniform(0.50, 0.58)
    gland = _blob(u, v, sella_u, sella_v, rng.uniform(0.035, 0.055)) < 1
    img[gland & brain] = rng.uniform(0.5, 0.7)

    # --- the lesion
    mask = np.zeros((SIZE, SIZE), bool)
    name = CLASS_NAMES[label]
    if name == "glioma":
        while True:  # deep in the tissue, away from the skull, ventricles and sella
            a, d = rng.uniform(0, 2 * np.pi), rng.uniform(0.35, 0.58)
            gu, gv = d * np.cos(a), d * np.sin(a)
            if np.hypot(gu - sella_u, gv - sella_v) > 0.4:
                break
        rad = rng.uniform(0.14, 0.22)
        f = _blob(u, v, gu, gv, rad, rng, irregularity=0.45)
        oedema = (f < rng.uniform(1.5, 1.9)) & brain
        img[oedema] += rng.uniform(0.08, 0.16)
        mass = (f < 1) & brain
        rim = mass & (f > rng.uniform(0.55, 0.75))
        img[mass] = rng.uniform(0.25, 0.40) + 0.06 * _smooth_noise(rng, 24)[mass]  # necrotic core
        img[rim] = rng.uniform(0.72, 0.95)
        mask = mass
    elif name == "meningioma":
        a = rng.uniform(0, 2 * np.pi)
        if np.hypot(np.cos(a) - 0, np.sin(a) - 0.55) < 0.5:  # keep it off the sella
            a = a + np.pi
        rad = rng.uniform(0.18, 0.28)
        mu, mv = (1 - rad * 0.45) * np.cos(a), (1 - rad * 0.45) * np.sin(a)
        mass = (_blob(u, v, mu, mv, rad, rng, irregularity=0.05) < 1) & (r < 1.0)
        img[mass] = rng.uniform(0.68, 0.90) + 0.015 * _smooth_noise(rng, 32)[mass]
        mask = mass
    elif name == "pituitary":
        rad = rng.uniform(0.08, 0.13)
        mass = (_blob(u, v, sella_u, sella_v - rad * 0.4, rad, rng, irregularity=0.08) < 1) & brain
        img[mass] = rng.uniform(0.70, 0.92)
        mask = mass

    # --- acquisition: bias field, contrast, blur, noise
    bias = 1 + rng.uniform(0.0, 0.15) * (np.cos(rng.uniform(0, 2 * np.pi)) * _XX + np.sin(rng.uniform(0, 2 * np.pi)) * _YY)
    img = img * bias
    img = ndimage.gaussian_filter(img, rng.uniform(0.4, 1.0))
    img = np.clip(img, 0, 1) ** rng.uniform(0.75, 1.35) * rng.uniform(0.8, 1.15)
    img = img + rng.normal(0, rng.uniform(0.01, 0.04), img.shape)
    img = np.abs(img)  # magnitude images: noise is Rician-like near zero
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8), mask


def build(seed: int = 0, per_class: int = PER_CLASS) -> Dataset:
    return generate("synthetic-brain-mri", CLASS_NAMES, render, seed, per_class, DESCRIPTION, "brain-mri", SIZE, "xai_core.data.synthetic_brain_mri")


DESCRIPTION = ("Synthetic axial brain MRI, 128x128 grey, 4 classes (glioma, meningioma, no tumour, "
               "pituitary) with lesion masks; generated on this machine from a seed.")

DATASETS.register("synthetic-brain-mri", DatasetSpec(
    build=build, description=DESCRIPTION, class_names=CLASS_NAMES, domain="brain-mri", version="2"))
