"""Models with their top layers' weights randomised, for the sanity check of Adebayo et al. (2018).

Built in memory from a clone of the Keras model; the user's model and its
file are never touched. Step ``j`` of the cascade has the top ``j``
weight-carrying layers re-drawn (Glorot-uniform kernels, zero biases,
identity batch-norm statistics), with a numpy generator seeded by
``(seed, layer)`` so the cascade is the same on every run without touching
Keras's global seed. Each step is a ``LoadedModel`` of its own, with a
distinct ``file_hash``, so no cache can confuse it with the original. The
cascades are cached per model (by file hash) and seed; the last few are kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

_CACHE: "OrderedDict[tuple, list]" = OrderedDict()
_LOCK = threading.Lock()
_KEEP = 3  # cascades kept in memory (one per model and seed)


def weighted_layers(keras_model) -> list:
    """Top-level layers that carry weights, from the input up (a nested base model counts as one)."""
    return [layer for layer in keras_model.layers if layer.weights]


def _redraw(layer, rng: np.random.Generator) -> list[np.ndarray]:
    new = []
    is_bn = "Normalization" in type(layer).__name__
    for w in layer.get_weights():
        name_hint = w.shape
        if is_bn:
            # gamma, beta, moving mean, moving variance in order: identity statistics
            new.append(np.ones_like(w) if len(new) in (0, 3) else np.zeros_like(w))
        elif w.ndim >= 2:
            receptive = int(np.prod(name_hint[:-2])) if w.ndim > 2 else 1
            fan_in, fan_out = name_hint[-2] * receptive, name_hint[-1] * receptive
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            new.append(rng.uniform(-limit, limit, w.shape).astype(w.dtype))
        else:
            new.append(np.zeros_like(w))
    return new


def cascade(model, seed: int = 0, steps: int | None = None) -> list[tuple[str, object]]:
    """[(layer name, LoadedModel with this layer and all above it randomised)], top layer first."""
    import keras

    from ..models import LoadedModel

    km = model.keras_model
    layers = [i for i, layer in enumerate(km.layers) if layer.weights][::-1]  # indices, top first
    n = len(layers) if steps is None else min(int(steps), len(layers))
    key = (model.file_hash, model.path, int(seed), n)
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    out = []
    redrawn: dict[int, list[np.ndarray]] = {}
    for j, i in enumerate(layers[:n]):
        layer = km.layers[i]
        redrawn[i] = _redraw(layer, np.random.default_rng([int(seed), j]))
        clone = keras.models.clone_model(km)  # same layer order as km
        clone.set_weights(km.get_weights())
        for k, w in redrawn.items():
            clone.layers[k].set_weights(w)
        lm = LoadedModel(clone, model.metadata, f"{model.name} (top {j + 1} layers randomised)", path="",
                         file_hash=f"{model.file_hash}:randomised:seed{seed}:top{j + 1}")
        out.append((layer.name, lm))
    with _LOCK:
        _CACHE[key] = out
        while len(_CACHE) > _KEEP:
            _CACHE.popitem(last=False)
    return out
