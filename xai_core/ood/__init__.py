"""Out-of-domain scores: is this image like the ones the model was trained on?

One module per score, each registering an ``OODScore``: ``fit`` learns what
it needs from the model's outputs on its own training split, ``score`` maps
outputs to one number per image, higher meaning *less* like the training
data. ``fit_detector`` fits a score on a model's training dataset (named in
its metadata), sets the threshold at the 95th percentile of the validation
split, and keeps the validation and test scores so AUROCs can be reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..registry import Registry


@dataclass(frozen=True)
class OODScore:
    name: str
    display_name: str
    description: str
    fit: Callable[[dict], dict]  # outputs of the training split -> state arrays
    score: Callable[[dict, dict], np.ndarray]  # (state, outputs) -> (N,) scores, higher = more out of domain
    needs_features: bool = False


OOD_SCORES: Registry[OODScore] = Registry("out-of-domain score", __name__)

DEFAULT_SCORE = "mahalanobis"
PERCENTILE = 95.0


@dataclass
class Detector:
    """A fitted out-of-domain score for one model, with its threshold."""

    method: str
    model_name: str
    dataset: str  # the model's training dataset, the reference for "in domain"
    state: dict
    threshold: float
    val_scores: np.ndarray
    test_scores: np.ndarray
    percentile: float = PERCENTILE
    info: dict = field(default_factory=dict)

    @property
    def spec(self) -> OODScore:
        return OOD_SCORES.get(self.method)

    def scores(self, outputs: dict) -> np.ndarray:
        return np.asarray(self.spec.score(self.state, outputs), np.float64)

    def flags(self, scores: np.ndarray) -> np.ndarray:
        return np.asarray(scores) > self.threshold

    def auroc(self, target_scores: np.ndarray) -> float:
        """AUROC of telling the source test split (negatives) from ``target_scores`` (positives)."""
        from sklearn.metrics import roc_auc_score

        y = np.r_[np.zeros(len(self.test_scores)), np.ones(len(target_scores))]
        return float(roc_auc_score(y, np.r_[self.test_scores, target_scores]))


def logsumexp(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, np.float64)
    top = m.max(-1, keepdims=True)
    return (top + np.log(np.exp(m - top).sum(-1, keepdims=True)))[..., 0]


__all__ = ["DEFAULT_SCORE", "Detector", "OODScore", "OOD_SCORES", "PERCENTILE", "logsumexp"]
