"""Models with their top layers' weights randomised, for the sanity check of Adebayo et al. (2018).

Built in memory from a clone of the Keras model; the user's model and its
file are never touched. Step ``j`` of the cascade has the top ``j``
weight-carrying layers re-drawn (Glorot-uniform kernels, zero biases,
identity normalisation: gamma and variance 1, beta and mean 0), with a numpy
generator seeded by ``(seed, j)`` so the cascade is the same on every run
without touching Keras's global seed.

Layers are the *leaves*: a nested base model (a ``keras.Model`` used as a
layer, as in transfer learning) is walked into, so each of its
BatchNormalization layers is recognised as one. Treating the nested model
as one layer used to zero every 1-D weight in it, gamma and the moving
variance included, which shut off everything after the first batch-norm and
made any map "change" (a false pass). Normalisation weights are recognised
by their variable names, not their position, so ``center=False`` or
``scale=False`` layers are redrawn right too. Layers with no trainable
weights (a fitted ``Normalization`` preprocessing layer) are left as they are:
nothing was learnt there. New weights are written through the clone's flat
weight list, matched to the original's variables by identity, so nesting
depth does not matter.

Each step is a ``LoadedModel`` of its own, with a distinct ``file_hash``, so
no cache can confuse it with the original. The cascades are cached per model
(by file hash) and seed; the last few are kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

_CACHE: "OrderedDict[tuple, list]" = OrderedDict()
_LOCK = threading.Lock()
_KEEP = 3  # cascades kept in memory (one per model and seed)
_ONES = ("gamma", "moving_variance", "variance", "scale")  # identity values of normalisation layers


def _leaves(layer) -> list:
    sub = getattr(layer, "layers", None)
    if sub:  # a nested model: walk into it, in its own order
        return [leaf for s in sub for leaf in _leaves(s)]
    return [layer]


def weighted_layers(keras_model) -> list:
    """Leaf layers with trainable weights, from the input up (nested models walked into)."""
    seen, out = set(), []
    for leaf in _leaves(keras_model):
        if id(leaf) not in seen and leaf.trainable_weights:
            seen.add(id(leaf))
            out.append(leaf)
    return out


def _short(variable) -> str:
    return str(getattr(variable, "path", None) or variable.name).rsplit("/", 1)[-1].split(":")[0]


def _redraw(layer, rng: np.random.Generator) -> list[np.ndarray]:
    """New values for ``layer.weights``, in that order."""
    new = []
    is_norm = "Normalization" in type(layer).__name__
    for v in layer.weights:
        w = np.asarray(v)
        if is_norm:
            new.append(np.ones_like(w) if _short(v) in _ONES else np.zeros_like(w))
        elif w.ndim >= 2:
            receptive = int(np.prod(w.shape[:-2])) if w.ndim > 2 else 1
            fan_in, fan_out = w.shape[-2] * receptive, w.shape[-1] * receptive
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            new.append(rng.uniform(-limit, limit, w.shape).astype(w.dtype))
        else:
            new.append(np.zeros_like(w))
    return new


def _loaded(model, km, weights, top: int, seed: int):
    import keras

    from ..models import LoadedModel

    clone = keras.models.clone_model(km)  # same variables in the same order as km
    clone.set_weights(weights)
    return LoadedModel(clone, model.metadata, f"{model.name} (top {top} layers randomised)", path="",
                       file_hash=f"{model.file_hash}:randomised:seed{seed}:top{top}")


def randomised_top(model, seed: int, top: int):
    """One ``LoadedModel`` with its top ``top`` weighted layers redrawn: step ``top`` of ``cascade(model, seed)``
    (the same weights), without building the steps below it. Further weight draws for the verdict use it."""
    km = model.keras_model
    layers = weighted_layers(km)[::-1][:top]
    index = {id(v): i for i, v in enumerate(km.weights)}
    weights = km.get_weights()
    for j, layer in enumerate(layers):
        for v, w in zip(layer.weights, _redraw(layer, np.random.default_rng([int(seed), j]))):
            weights[index[id(v)]] = w
    return _loaded(model, km, weights, len(layers), seed)


def cascade(model, seed: int = 0, steps: int | None = None) -> list[tuple[str, object]]:
    """[(layer name, LoadedModel with this layer and all above it randomised)], top layer first."""
    km = model.keras_model
    layers = weighted_layers(km)[::-1]  # top first
    n = len(layers) if steps is None else min(int(steps), len(layers))
    key = (model.file_hash, model.path, int(seed), n)
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    index = {id(v): i for i, v in enumerate(km.weights)}  # variable -> place in the flat weight list
    weights = km.get_weights()
    out = []
    for j, layer in enumerate(layers[:n]):
        for v, w in zip(layer.weights, _redraw(layer, np.random.default_rng([int(seed), j]))):
            weights[index[id(v)]] = w
        out.append((layer.name, _loaded(model, km, weights, j + 1, seed)))
    with _LOCK:
        _CACHE[key] = out
        while len(_CACHE) > _KEEP:
            _CACHE.popitem(last=False)
    return out
