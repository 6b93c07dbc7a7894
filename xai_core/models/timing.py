"""How long this model's forward pass takes here, timed on the spot: the basis of every estimate shown before
a long computation (superpixel Shapley's 2^M passes, the trust page, finding a model for a scan)."""

from __future__ import annotations

import time

import numpy as np


def forward_seconds(model, batch_size: int = 256) -> float:
    """Measured seconds per image of the compiled forward pass (one warm batch)."""
    x = np.zeros((batch_size, *model.input_shape), np.float32)
    model.forward(x[:2])
    t0 = time.perf_counter()
    model.forward(x)
    return (time.perf_counter() - t0) / batch_size
