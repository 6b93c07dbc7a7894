"""Process-global state that some explainers' libraries use, behind one lock.

shap's Owen traversal breaks ties with ``np.random.randn()`` on numpy's global generator, shap's
GradientExplainer patches TensorFlow's gradients for the whole process, and PAIR's SmoothGrad draws its
noise from the global generator too. Explainers that touch any of these hold ``GLOBAL_LOCK`` and seed the
global generator with ``seeded_global_numpy``, so the same seed gives the same map whatever else runs.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np

GLOBAL_LOCK = threading.RLock()  # re-entrant: one explainer may call another's helpers while holding it


@contextlib.contextmanager
def seeded_global_numpy(seed: int):
    """numpy's global generator seeded with ``seed`` inside the block, and restored after it."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)
