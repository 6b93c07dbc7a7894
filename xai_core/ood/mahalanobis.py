"""Mahalanobis distance of intermediate features (Lee et al., 2018, with their feature ensemble).

For each layer block of ``LoadedModel.features`` (the channel means and
standard deviations of the last feature map at each resolution, and the
penultimate vector): class means and one shared covariance (Ledoit-Wolf
shrinkage) fitted on the training split; the layer's score is the distance
to the nearest class mean. The layer scores are standardised on the
training split and summed. It looks at what the network *sees*, not only
how sure it is, so it catches confident mistakes on a new domain: the
brain model is *more* confident on lung CT than on brain scans, which
defeats the energy and max-softmax scores.
"""

from __future__ import annotations

import numpy as np

from . import OOD_SCORES, OODScore


def _layer_distance(f, means, precision):
    d = f[:, None, :] - means[None]  # (N, C, D)
    return np.sqrt(np.maximum(np.einsum("ncd,de,nce->nc", d, precision, d).min(1), 0))


def fit(outputs: dict) -> dict:
    from sklearn.covariance import LedoitWolf

    f, y, slices = outputs["features"], outputs["labels"], outputs["feature_slices"]
    classes = np.unique(y)
    state = {"slices": np.asarray(slices, np.int64)}
    for i, (a, b) in enumerate(slices):
        x = f[:, a:b]
        means = np.stack([x[y == c].mean(0) for c in classes])
        precision = LedoitWolf().fit(x - means[np.searchsorted(classes, y)]).precision_
        train = _layer_distance(x, means, precision)
        state[f"means{i}"], state[f"precision{i}"] = means, precision
        state[f"centre{i}"], state[f"scale{i}"] = train.mean(), max(train.std(), 1e-12)
    return state


def score(state: dict, outputs: dict) -> np.ndarray:
    f = outputs["features"]
    total = np.zeros(len(f))
    for i, (a, b) in enumerate(state["slices"]):
        d = _layer_distance(f[:, a:b], state[f"means{i}"], state[f"precision{i}"])
        total += (d - state[f"centre{i}"]) / state[f"scale{i}"]
    return total


OOD_SCORES.register("mahalanobis", OODScore(
    name="mahalanobis", display_name="Feature distance (Mahalanobis)",
    description="How far what the network sees, layer by layer, lies from the training classes "
                "(sum of standardised Mahalanobis distances).",
    fit=fit, score=score, needs_features=True))
