"""Explaining again with one thing changed: the model, the image, the budget or the seed.

The costly metrics (randomisation, convergence, input stability, seed
stability) all ask "what would this method have said if ...?"; they
re-run the explanation's own method with its own parameters, for its
first class only.
"""

from __future__ import annotations

import numpy as np


def method_params(explanation) -> dict:
    """The explanation's parameters that its method declares (what ``explain`` accepts)."""
    from ..explainers import EXPLAINERS

    cls = EXPLAINERS.get(explanation.method)
    declared = {p.name for p in cls.params}
    return {k: v for k, v in explanation.params.items() if k in declared}


def explain_again(model, image, explanation, progress=None, **overrides):
    """The explanation's method run again on ``image`` (already fitted to the model) for its first class.

    Straight through the explainer, not ``api.explain``: metrics sit below the workflows (tests/test_layers.py),
    and the metric's own result is what the disk cache keeps.
    """
    from ..explainers import EXPLAINERS

    cls = EXPLAINERS.get(explanation.method)
    params = cls.validate({**method_params(explanation), **overrides})
    return cls().explain(model, np.asarray(image, np.float32), explanation.class_indices[:1],
                         explanation.output_space, progress=progress, **params)


def rerun(model, image, explanation, progress=None, **overrides) -> np.ndarray:
    """The (H, W) map of the explanation's first class, recomputed with ``overrides``."""
    return explain_again(model, image, explanation, progress=progress, **overrides).map(0)
