"""``synthetic-lung-ct``: procedurally generated axial chest CT slices in a lung window.

The three classes mirror the IQ-OTH/NCCD lung CT data the source paper ran
its brain model on (normal, benign, malignant):

- ``normal``: no nodule;
- ``benign``: a small, smooth, round nodule, often calcified (dense);
- ``malignant``: a larger mass with an irregular, spiculated edge.

Everything else varies from scan to scan: body size and shape, the two lung
fields, the mediastinum and heart, spine and ribs, lung texture, and a
random number of vessels in each lung (small bright dots and short
branches, larger near the hilum), plus noise, blur and window contrast.
Vessels make "any bright thing in the lung" useless as a cue, and the
vessel load is drawn independently of the class, so the classes do not
separate on global intensity statistics (``tests/test_datasets.py``).

Images are 128x128x1 uint8 with a boolean lesion mask; splits are 70:20:10.
Deterministic in the seed: image ``i`` is drawn from ``SeedSequence([seed, i])``.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from . import DATASETS, DatasetSpec
from .base import Dataset, generate
from .synthetic_brain_mri import SIZE, _blob, _smooth_noise

CLASS_NAMES = ("benign", "malignant", "normal")
PER_CLASS = 600

_g = (np.arange(SIZE) + 0.5) / SIZE * 2 - 1
_YY, _XX = np.meshgrid(_g, _g, indexing="ij")


def _segment_line(x0, y0, x1, y1, width):
    """Distance field (<1 inside) of a thick line segment in image coordinates."""
    dx, dy = x1 - x0, y1 - y0
    t = np.clip(((_XX - x0) * dx + (_YY - y0) * dy) / max(dx * dx + dy * dy, 1e-9), 0, 1)
    return np.hypot(_XX - (x0 + t * dx), _YY - (y0 + t * dy)) / width


def render(rng: np.random.Generator, label: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw one slice of class ``label``; returns (uint8 image HxW, bool mask HxW)."""
    cx, cy = rng.normal(0, 0.03), rng.normal(0.02, 0.03)
    bx, by = rng.uniform(0.80, 0.94), rng.uniform(0.58, 0.72)
    X, Y = _XX - cx, _YY - cy
    body_r = np.hypot(X / bx, Y / by)
    body = body_r < 1
    img = np.zeros((SIZE, SIZE))
    img[body] = rng.uniform(0.40, 0.52) + 0.03 * _smooth_noise(rng, 16)[body]
    fat = body & (body_r > rng.uniform(0.86, 0.93))
    img[fat] = rng.uniform(0.28, 0.36)
    table = np.abs(Y - by - rng.uniform(0.06, 0.10)) < 0.015
    img[table & (np.abs(X) < 0.7)] = rng.uniform(0.5, 0.7)

    # two lung fields, either side of the mediastinum
    lungs = np.zeros_like(body)
    centres = []
    gap = rng.uniform(0.12, 0.20)
    for side in (-1, 1):
        lx, ly = side * (gap + rng.uniform(0.22, 0.28)), rng.uniform(-0.10, 0.0)
        rx, ry = rng.uniform(0.24, 0.32), rng.uniform(0.34, 0.44)
        f = _blob(X, Y * rx / ry, lx, ly * rx / ry, rx, rng, irregularity=0.12)
        lung = (f < 1) & body & (body_r < 0.84)
        lungs |= lung
        centres.append((lx, ly, rx, ry))
    img[lungs] = rng.uniform(0.04, 0.10) + 0.025 * _smooth_noise(rng, 24)[lungs]

    # heart, aorta, spine and ribs
    heart = (_blob(X, Y, rng.uniform(-0.08, 0.04), rng.uniform(-0.02, 0.10), rng.uniform(0.14, 0.22)) < 1) & body
    img[heart & ~lungs] = rng.uniform(0.50, 0.60)
    spine = _blob(X, Y, 0, by * rng.uniform(0.62, 0.74), rng.uniform(0.08, 0.11)) < 1
    img[spine] = rng.uniform(0.80, 0.95)
    for a in np.linspace(0.15 * np.pi, 0.85 * np.pi, rng.integers(6, 10)) + rng.normal(0, 0.05):
        for side in (-1, 1):
            px, py = side * np.cos(a) * bx * 0.88, -np.sin(a) * by * 0.88 * rng.choice([-1, 1])
            img[(_blob(X, Y, px, py, rng.uniform(0.02, 0.035)) < 1) & body] = rng.uniform(0.7, 0.9)

    # vessels: dots and short branches from each hilum; load independent of the class
    for lx, ly, rx, ry in centres:
        hx = lx - np.sign(lx) * rx * 0.7
        for _ in range(rng.integers(2, 6)):  # branches
            a = rng.uniform(0, 2 * np.pi)
            length = rng.uniform(0.1, 0.3)
            line = _segment_line(hx, ly, hx + length * np.cos(a), ly + length * np.sin(a), rng.uniform(0.008, 0.016))
            img[(line < 1) & lungs] = rng.uniform(0.35, 0.6)
        for _ in range(rng.integers(4, 18)):  # vessels seen end-on
            a, d = rng.uniform(0, 2 * np.pi), np.sqrt(rng.uniform(0, 1))
            vx, vy = lx + d * rx * 0.85 * np.cos(a), ly + d * ry * 0.85 * np.sin(a)
            img[(_blob(X, Y, vx, vy, rng.uniform(0.008, 0.02)) < 1) & lungs] = rng.uniform(0.35, 0.6)

    # the lesion, inside one lung field
    mask = np.zeros((SIZE, SIZE), bool)
    name = CLASS_NAMES[label]
    if name != "normal":
        lx, ly, rx, ry = centres[rng.integers(2)]
        for _ in range(50):
            a, d = rng.uniform(0, 2 * np.pi), np.sqrt(rng.uniform(0, 0.5))
            nx, ny = lx + d * rx * np.cos(a), ly + d * ry * np.sin(a)
            if lungs[int((ny + cy + 1) / 2 * SIZE) % SIZE, int((nx + cx + 1) / 2 * SIZE) % SIZE]:
                break
        if name == "benign":
            rad = rng.uniform(0.05, 0.08)
            mass = _blob(X, Y, nx, ny, rad, rng, irregularity=0.04) < 1
            level = rng.uniform(0.55, 0.75)  # often calcified: dense and bright
        else:
            rad = rng.uniform(0.08, 0.13)
            mass = _blob(X, Y, nx, ny, rad, rng, irregularity=0.6) < 1
            for _ in range(rng.integers(5, 10)):  # spicules radiating from the edge
                a = rng.uniform(0, 2 * np.pi)
                length = rad * rng.uniform(0.8, 1.8)
                mass |= _segment_line(nx, ny, nx + (rad + length) * np.cos(a), ny + (rad + length) * np.sin(a),
                                      rng.uniform(0.006, 0.012)) < 1
            level = rng.uniform(0.42, 0.60)
        mass &= lungs | (_blob(X, Y, nx, ny, rad) < 1)
        img[mass] = level + 0.04 * _smooth_noise(rng, 32)[mass]
        mask = mass

    img = ndimage.gaussian_filter(img, rng.uniform(0.4, 0.9))
    img = np.clip(img, 0, 1) ** rng.uniform(0.8, 1.25) * rng.uniform(0.85, 1.15)
    img = np.abs(img + rng.normal(0, rng.uniform(0.01, 0.035), img.shape))
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8), mask


def build(seed: int = 0, per_class: int = PER_CLASS) -> Dataset:
    return generate("synthetic-lung-ct", CLASS_NAMES, render, seed, per_class, DESCRIPTION, "lung-ct", SIZE, "xai_core.data.synthetic_lung_ct")


DESCRIPTION = ("Synthetic axial chest CT in a lung window, 128x128 grey, 3 classes (benign nodule, malignant "
               "mass, normal) with lesion masks, mirroring IQ-OTH/NCCD; generated on this machine from a seed.")

DATASETS.register("synthetic-lung-ct", DatasetSpec(
    build=build, description=DESCRIPTION, class_names=CLASS_NAMES, domain="lung-ct", version="2"))
