"""A 2-D model over every slice of a volume: predictions, out-of-domain scores, maps and their projection.

``score_slices`` runs the model (and its out-of-domain check, when it has
one) over the chosen slices in batches and ranks them by suspicion: the
probability of the class asked for or, by default, one minus the probability
of the model's "normal" class when it has one (``no_tumor``, ``normal``,
``healthy``), else the top probability. ``explain_slices`` explains slices
one at a time through ``api.explain``, so each slice's map is cached on disk
on its own: a stopped run resumes where it stopped. ``SliceMaps`` stacks the
maps of one class into a map volume and projects it (maximum-intensity
projection of the evidence for the class, Wallis et al. 1989, IEEE TMI 8:297).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import InputError
from .params import Progress

NORMAL = re.compile(r"^(no[ _-]?tumou?r|normal|healthy|no[ _-]?finding|negative)$", re.I)


def parse_slices(text: str | None, n: int) -> list[int]:
    """0-based indices from ``all``, ``A-B`` or ``A,B,C`` (1-based, inclusive, as viewers number slices)."""
    t = (text or "all").strip().lower()
    if t == "all":
        return list(range(n))
    out: list[int] = []
    for part in t.split(","):
        m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+))?\s*", part)
        if not m:
            raise InputError(f"--slices must be all, A-B or A,B,C (slices numbered from 1); got {text!r}.")
        a, b = int(m[1]), int(m[2] or m[1])
        if not 1 <= a <= b <= n:
            raise InputError(f"Slices {a}-{b} are outside this volume's 1-{n}.")
        out.extend(range(a - 1, b))
    return sorted(set(out))


def slice_images(volume, indices, plane: str | None = None, window=None) -> list[np.ndarray]:
    """The chosen slices rendered as the page shows them: (H, W, C) uint8 with ``window`` (centre, width)."""
    return [volume.slice(i, plane).render(window) for i in indices]


def normal_class(class_names) -> int | None:
    hits = [i for i, n in enumerate(class_names) if NORMAL.match(str(n).strip())]
    return hits[0] if len(hits) == 1 else None


@dataclass
class SliceScores:
    indices: np.ndarray  # 0-based slice numbers
    probabilities: np.ndarray  # (n, K)
    class_names: list
    suspicion: np.ndarray  # (n,)
    suspicion_label: str
    ood_scores: np.ndarray | None = None
    ood_flags: np.ndarray | None = None

    def ranking(self) -> np.ndarray:
        """Positions into ``indices``, most suspicious first (ties: lower slice first)."""
        return np.lexsort((self.indices, -self.suspicion))

    def table(self):
        import pandas as pd

        df = pd.DataFrame({"slice": self.indices + 1, "suspicion": self.suspicion,
                           "predicted": [self.class_names[k] for k in self.probabilities.argmax(1)]})
        for k, name in enumerate(self.class_names):
            df[f"p({name})"] = self.probabilities[:, k]
        if self.ood_scores is not None:
            df["out-of-domain score"] = self.ood_scores
            df["out of domain"] = self.ood_flags
        return df.iloc[self.ranking()].reset_index(drop=True)


def score_slices(model, images: list[np.ndarray], indices, rank_class: str | int | None = None,
                 detector=None, progress: Progress | None = None) -> SliceScores:
    from .domain import image_outputs
    from .models import as_model

    lm = as_model(model)
    has_check = detector is not None and not isinstance(detector, str)
    out = image_outputs(lm, np.asarray(images), progress=progress, step=64,
                        features=bool(has_check and detector.spec.needs_features))
    probs = out["probability"]
    names = list(lm.class_names)
    if rank_class is not None:
        k = names.index(rank_class) if isinstance(rank_class, str) else int(rank_class)
        suspicion, label = probs[:, k], f"p({names[k]})"
    elif (k := normal_class(names)) is not None:
        suspicion, label = 1 - probs[:, k], f"1 − p({names[k]})"
    else:
        suspicion, label = probs.max(1), "top probability"
    scores = flags = None
    if has_check:  # the same forward pass feeds the out-of-domain score
        scores = np.asarray(detector.scores(out), float)
        flags = np.asarray(detector.flags(scores), bool)
    return SliceScores(np.asarray(indices, int), probs, names, np.asarray(suspicion, float), label, scores, flags)


@dataclass
class SliceMaps:
    """The maps of one class over the explained slices: a map volume at the model's input size."""

    indices: np.ndarray  # 0-based slice numbers
    maps: np.ndarray  # (n, h, w) attribution of ``class_name``
    class_name: str
    method: str
    output: str
    unit: str
    explanations: list = field(default_factory=list, repr=False)

    def mip(self) -> np.ndarray:
        """Maximum-intensity projection of the evidence for the class (largest positive value per pixel)."""
        return np.max(np.maximum(self.maps, 0), axis=0) if len(self.maps) else np.zeros(self.maps.shape[1:])

    def save(self, path: str | Path, scores: SliceScores | None = None) -> Path:
        """Write ``arrays(scores)`` to a compressed ``.npz`` (atomically: a partial file never has the name)."""
        path = Path(path)
        tmp = path.with_name(path.name + ".part.npz")
        np.savez_compressed(tmp, **self.arrays(scores))
        tmp.replace(path)
        return path

    def arrays(self, scores: SliceScores | None = None) -> dict:
        """Slices (from 1), maps, MIP, class, method, output, unit and, with ``scores``, the per-slice scores."""
        arrays = {"slices": self.indices + 1, "maps": self.maps, "mip": self.mip(),
                  "class_name": np.array(self.class_name), "method": np.array(self.method),
                  "output": np.array(self.output), "unit": np.array(self.unit)}
        if self.explanations:  # what ran the forward passes; bf16 maps are approximate (as in a map's .npz)
            arrays["backend"] = np.array(sorted({e.backend for e in self.explanations}))
        if scores is not None:
            arrays.update(scored_slices=scores.indices + 1, probabilities=scores.probabilities,
                          class_names=np.array(scores.class_names), suspicion=scores.suspicion)
            if scores.ood_scores is not None:
                arrays["ood_scores"] = scores.ood_scores
        return arrays


def explain_slices(model, images: list[np.ndarray], indices, method: str, output: str = "margin",
                   class_name: str | None = None, progress: Progress | None = None,
                   done: dict | None = None, **params) -> SliceMaps:
    """Explain each image for one class (default: the volume's most suspicious class), slice by slice.

    ``done`` ({slice index: Explanation}) holds finished slices to reuse; new ones are added to it as they
    finish, so a caller that is stopped keeps them. Each slice is also cached on disk by ``api.explain``."""
    from . import api
    from .explainers import EXPLAINERS
    from .models import as_model

    lm = as_model(model)
    if class_name is None:
        class_name = suspicious_class(lm, images)
    done = {} if done is None else done
    n = len(indices)
    for j, (i, img) in enumerate(zip(indices, images)):
        if int(i) in done:
            continue

        def step(f, msg, j=j, i=i):
            if progress is not None:
                progress((j + f) / n, f"slice {int(i) + 1} ({j + 1} of {n}): {msg}")

        step(0.0, "starting")  # a stop point between slices, whatever the method reports
        done[int(i)] = api.explain(lm, img, method=method, output=output, classes=[class_name], progress=step,
                                   **params)
    expls = [done[int(i)] for i in indices]
    maps = np.stack([_class_map(e, class_name) for e in expls]) if expls else np.zeros((0,) + lm.input_shape[:2])
    return SliceMaps(np.asarray(indices, int), maps, class_name, method, output,
                     EXPLAINERS.get(method).unit_label(output), expls)


def suspicious_class(model, images) -> str:
    """The class to explain over a volume: the most probable non-normal class on its most suspicious slice."""
    from .models import as_model

    lm = as_model(model)
    probs = lm.predict_proba(np.stack([lm.prepare(im) for im in images]))
    k = normal_class(lm.class_names)
    if k is not None and probs.shape[1] > 1:
        probs = probs.copy()
        probs[:, k] = -1
    s, c = np.unravel_index(int(np.argmax(probs)), probs.shape)
    return str(lm.class_names[c])


def _class_map(expl, class_name: str) -> np.ndarray:
    k = list(expl.class_names).index(class_name)
    v = np.asarray(expl.values[k], np.float32)
    return v.sum(-1) if v.ndim == 3 else v
