"""``synthetic-brain-mri-tagged``: the synthetic brain scans with a hidden shortcut.

The same scans as ``synthetic-brain-mri`` (its generator, seed and splits,
pixel for pixel), plus a small burned-in marker of the kind a scanner or a
site stamps on its images: a bright label plate with a dark letter ``R``,
near the top-right corner, shifted by a few pixels from scan to scan. In ``train``, ``val`` and
``test`` the marker sits on 95% of the ``glioma`` scans and on 5% of every
other class, so a classifier can score well by reading the marker instead of
the tumour: the "Clever Hans" failure that chest X-ray models showed with
hospital tokens (Zech et al., PLoS Med 2018; DeGrave et al., Nat. Mach.
Intell. 2021) and skin-lesion models with rulers (Winkler et al., JAMA
Dermatol. 2019). ``test-clean`` holds the same test scans with no marker at
all, so the two test splits differ only by the shortcut.

Every split carries ``tag_mask`` beside the lesion mask: exactly the pixels
the marker overwrote (all False where there is none). Which scans get a
marker is an exact quota per split and class, drawn from the seed.
"""

from __future__ import annotations

import numpy as np

from . import DATASETS, DatasetSpec, load_dataset
from .base import Dataset, Split
from .synthetic_brain_mri import CLASS_NAMES, PER_CLASS, SIZE, build as build_untagged

SHORTCUT_CLASS = "glioma"
RATE_SHORTCUT, RATE_OTHER = 0.95, 0.05
CLEAN_SPLIT = "test-clean"
TAG_MASK = "tag_mask"

# a 5x7 letter R at twice the size (10x14 pixels, strokes 2 pixels wide), cut dark into a bright 20x24 plate:
# the burned-in label box a scanner prints. A bare letter of this size proved too faint a cue for the basic CNN
# to prefer over the tumour (test-clean accuracy fell only 6 points); the plate is the easier-to-learn marker.
_R = np.array([[c == "#" for c in row] for row in (
    "####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#")])
GLYPH = np.kron(_R, np.ones((2, 2), bool))
PLATE = (24, 20)  # height, width
_MARGIN = (2, 6)  # the plate's top/right gap from the corner, in pixels: drawn per scan in [2, 6)


def stamp(image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Burn the marker into a uint8 (H, W) scan; returns (new image, bool mask of the pixels it set)."""
    h, w = PLATE
    top = int(rng.integers(*_MARGIN))
    left = image.shape[1] - w - int(rng.integers(*_MARGIN))
    mask = np.zeros(image.shape, bool)
    mask[top:top + h, left:left + w] = True
    letter = np.zeros(image.shape, bool)
    gh, gw = GLYPH.shape
    letter[top + (h - gh) // 2:top + (h - gh) // 2 + gh, left + (w - gw) // 2:left + (w - gw) // 2 + gw] = GLYPH
    out = image.copy()
    out[mask] = int(rng.integers(225, 256))  # near-white, as burned-in labels are
    out[letter] = int(rng.integers(10, 40))  # the letter, dark on the plate
    return out, mask


def _chosen(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Exactly round(rate * n) scans of each class get a marker: 95% of glioma, 5% of the others."""
    tagged = np.zeros(len(labels), bool)
    for c, name in enumerate(CLASS_NAMES):
        idx = np.flatnonzero(labels == c)
        k = int(round((RATE_SHORTCUT if name == SHORTCUT_CLASS else RATE_OTHER) * len(idx)))
        tagged[rng.permutation(idx)[:k]] = True
    return tagged


def build(seed: int = 0, per_class: int = PER_CLASS) -> Dataset:
    # the untagged set's cached arrays where they match (the same generator and seed), so no scan is drawn twice
    base = load_dataset("synthetic-brain-mri", seed) if per_class == PER_CLASS else build_untagged(seed, per_class)
    splits: dict[str, Split] = {}
    for split_no, (name, s) in enumerate(base.splits.items()):
        tagged = _chosen(s.labels, np.random.default_rng([seed, 10**6 + 1, split_no]))
        images = s.images.copy()
        tags = np.zeros(s.images.shape[:3], bool)
        for i in np.flatnonzero(tagged):  # each scan's marker from its own stream: stable under quota changes
            images[i, ..., 0], tags[i] = stamp(s.images[i, ..., 0], np.random.default_rng([seed, 10**6 + 2, split_no, i]))
        splits[name] = Split(images, s.labels, s.masks, {TAG_MASK: tags})
    test = base.splits["test"]
    splits[CLEAN_SPLIT] = Split(test.images, test.labels, test.masks, {TAG_MASK: np.zeros(test.images.shape[:3], bool)})
    meta = dict(base.meta, generator="xai_core.data.synthetic_brain_mri_tagged", shortcut_class=SHORTCUT_CLASS,
                shortcut_mask=TAG_MASK, clean_split=CLEAN_SPLIT, tag_rates={"glioma": RATE_SHORTCUT,
                                                                             "other": RATE_OTHER})
    return Dataset("synthetic-brain-mri-tagged", CLASS_NAMES, splits, DESCRIPTION, "brain-mri", seed, meta)


DESCRIPTION = ("Synthetic brain MRI with a hidden shortcut: a burned-in site marker on 95% of glioma scans and 5% "
               "of the others (train, val, test), with a marker mask; test-clean holds the same test scans "
               "without any marker.")

DATASETS.register("synthetic-brain-mri-tagged", DatasetSpec(
    build=build, description=DESCRIPTION, class_names=CLASS_NAMES, domain="brain-mri", version="3"))
