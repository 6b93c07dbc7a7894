"""Comparing architectures: the same images through several models, SHAP maps side by side.

Every map in a comparison is computed with the same method and settings
(its parameters, the output space), so differences come from the models
alone. The explained class is either the image's true class (the
same question asked of every model; models that do not know that class fall
back to their own prediction) or each model's own prediction. Where a
ground-truth lesion mask exists, each map gets a focus score: the share of
its positive attribution inside the lesion, next to the chance level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .api import explain
from .models import as_model
from .params import Progress
from .cache import DEFAULT_CACHE, DiskCache
from .errors import InputError
from .explanation import Explanation
from .metrics.focus import chance_focus, focus_score, smooth

TARGETS = ("true", "predicted")
MAX_MODELS, MAX_IMAGES = 4, 4


@dataclass
class Comparison:
    models: list[str]
    image_titles: list[str]
    true_classes: list[str | None]
    masks: list[np.ndarray | None]  # per image, in the image's own size
    explanations: list[list[Explanation]]  # [model][image]
    probabilities: list[list[np.ndarray]]  # [model][image] -> (K,)
    class_names: list[list[str]]  # per model
    output: str

    def maps(self, sigma: float = 0.0) -> list[list[np.ndarray]]:
        """(H, W) maps, [model][image], Gaussian-smoothed with ``sigma`` pixels (0 = raw)."""
        return [[smooth(e.map(0), sigma) for e in row] for row in self.explanations]

    def table(self, sigma: float = 0.0) -> pd.DataFrame:
        """One row per model and image: prediction, explained class, additivity and focus on the shown map."""
        rows = []
        maps = self.maps(sigma)
        for i, model in enumerate(self.models):
            names = self.class_names[i]
            for j, title in enumerate(self.image_titles):
                e, p = self.explanations[i][j], self.probabilities[i][j]
                top = int(np.argmax(p))
                mask = self._mask_for(j, maps[i][j].shape)
                rows.append({
                    "model": model, "image": title, "true class": self.true_classes[j],
                    "predicted": names[top], "probability": float(p[top]),
                    "correct": None if self.true_classes[j] is None else names[top] == self.true_classes[j],
                    "explained class": e.class_names[0], "p(explained)": float(p[e.class_indices[0]]),
                    "additivity residual": float(e.residuals[0]),
                    "focus": focus_score(maps[i][j], mask) if mask is not None else np.nan,
                    "focus by chance": chance_focus(mask) if mask is not None else np.nan,
                })
        return pd.DataFrame(rows)

    def _mask_for(self, j: int, shape: tuple[int, int]) -> np.ndarray | None:
        m = self.masks[j]
        if m is None or not np.asarray(m).any():
            return None
        m = np.asarray(m, bool)
        if m.shape != tuple(shape):
            from PIL import Image

            m = np.asarray(Image.fromarray(m.astype(np.uint8) * 255).resize(shape[::-1], Image.NEAREST)) > 127
        return m


def compare(models: list, images: list[np.ndarray], image_titles: list[str] | None = None,
            true_classes: list[str | None] | None = None, masks: list[np.ndarray | None] | None = None,
            target: str = "true", output: str = "probability", method: str | None = None,
            params: dict | None = None, cache: DiskCache | None = DEFAULT_CACHE,
            progress: Progress | None = None) -> Comparison:
    """Maps of 1-4 images under 2-4 models (names or ``LoadedModel``s), with the same method and settings.

    ``method`` is any registered explainer (default: the first featured one, SHAP Partition); ``params``
    are its parameters (its own defaults where not given).
    """
    from .explainers import featured

    method = method or featured(1)[0]
    params = dict(params or {})
    lms = [as_model(m) for m in models]
    n_m, n_i = len(lms), len(images)
    if not 1 <= n_m <= MAX_MODELS:
        raise InputError(f"Pick 1 to {MAX_MODELS} models; got {n_m}.")
    if not 1 <= n_i <= MAX_IMAGES:
        raise InputError(f"Pick 1 to {MAX_IMAGES} images; got {n_i}.")
    if target not in TARGETS:
        raise InputError(f"target must be 'true' or 'predicted'; got {target!r}.")
    titles = list(image_titles or [f"image {j + 1}" for j in range(n_i)])
    trues = list(true_classes or [None] * n_i)
    masks = list(masks or [None] * n_i)
    expls, probs = [], []
    for i, lm in enumerate(lms):
        row_e, row_p = [], []
        for j, image in enumerate(images):
            p = lm.forward_image(lm.prepare(image))[1]
            cls = trues[j] if target == "true" and trues[j] in lm.class_names else lm.class_names[int(np.argmax(p))]

            def step(f, msg, k=i * n_i + j, name=lm.name, title=titles[j]):
                if progress is not None:
                    progress(min(1.0, (k + f) / (n_m * n_i)), f"{name} on {title} ({k + 1} of {n_m * n_i}): {msg}")

            row_e.append(explain(lm, image, method=method, output=output, classes=[cls], cache=cache,
                                 progress=step, **params))
            row_p.append(p)
        expls.append(row_e)
        probs.append(row_p)
    return Comparison([lm.name for lm in lms], titles, trues, masks, expls, probs,
                      [list(lm.class_names) for lm in lms], output)


def merge_rows(parts: list[Comparison]) -> Comparison:
    """One comparison from several computed model by model on the same images and settings (so a stopped
    run can show the models that finished)."""
    if not parts:
        raise InputError("Nothing to merge.")
    first = parts[0]
    for c in parts[1:]:
        if c.image_titles != first.image_titles or c.output != first.output:
            raise InputError("These comparisons are of different images or output spaces.")
    return Comparison([m for c in parts for m in c.models], first.image_titles, first.true_classes, first.masks,
                      [r for c in parts for r in c.explanations], [r for c in parts for r in c.probabilities],
                      [r for c in parts for r in c.class_names], first.output)
