"""Margin (logit) heads: expose what the model computes before squashing.

SHAP in *margin* space explains the pre-softmax (or pre-sigmoid) score;
in *probability* space it explains the squashed output. The thesis (figs.
4.19 to 4.21) shows how the two differ. We build the margin model without
touching the user's model (see ../shared/FIELD_NOTES.md):

- a Dense (or conv) layer with a softmax/sigmoid activation is rebuilt
  from its config with ``activation="linear"`` and the same weights;
- a separate Softmax layer, or an Activation("softmax"/"sigmoid"): its input;
- anything else already outputs raw scores: those are the margin, and the
  probability is their softmax.

``build_heads`` returns one Keras model with two outputs, ``[margin,
probability]``, so both spaces cost a single forward pass, plus the squash
that maps one to the other. ``verify_heads`` checks that at load time.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from ..errors import ModelError

_SQUASHES = {"softmax", "sigmoid"}


@dataclass(frozen=True)
class Heads:
    model: keras.Model  # outputs [margin, probability]
    squash: str  # "softmax" or "sigmoid"
    how: str  # one line: how the margin was obtained
    features: object = None  # the logit layer's input (penultimate features), when it can be reached


def _input_of_producer(tensor):
    """The input of the layer that produced ``tensor`` (Keras 3 functional graphs), or None."""
    history = getattr(tensor, "_keras_history", None)
    layer = getattr(history, "operation", None) or (history[0] if history else None)
    try:
        inp = layer.input
    except Exception:
        return None
    return inp if not isinstance(inp, (list, tuple)) else None


def _activation_name(layer) -> str | None:
    act = getattr(layer, "activation", None)
    if act is None:
        return None
    return getattr(act, "__name__", str(act))


def _ensure_graph(model: keras.Model) -> keras.Model:
    """A Sequential model built without an Input has no ``.inputs`` until it is called once."""
    if not getattr(model, "inputs", None):
        try:
            model(np.zeros((1, *model.input_shape[1:]), "float32"))
        except Exception as exc:
            raise ModelError("The model has no defined input shape, so it cannot be explained.") from exc
        if not getattr(model, "inputs", None):
            raise ModelError("The model has no symbolic inputs, so its logits cannot be reached.")
    return model


def build_heads(model: keras.Model) -> Heads:
    model = _ensure_graph(model)
    if len(model.outputs) != 1:
        raise ModelError(f"The model has {len(model.outputs)} outputs; a classifier must have one.")
    out = model.outputs[0]
    if len(out.shape) != 2:
        raise ModelError(
            f"The model's output has shape {tuple(out.shape)}; a classifier outputs one score per class."
        )
    last = model.layers[-1]
    act = _activation_name(last)
    kind = type(last).__name__

    if kind == "Softmax" or (kind == "Activation" and act in _SQUASHES):
        squash = "softmax" if kind == "Softmax" else act
        margin = last.input
        features = _input_of_producer(margin)
        how = f"input of the final {kind} layer"
    elif act in _SQUASHES and hasattr(last, "get_config"):
        cfg = last.get_config()
        cfg["activation"] = "linear"
        cfg["name"] = f"{last.name}_margin"
        clone = type(last).from_config(cfg)
        margin = clone(last.input)
        clone.set_weights(last.get_weights())
        squash = act
        features = last.input
        how = f"final {kind} layer rebuilt with a linear activation"
    else:
        margin = out
        squash = "softmax"
        how = "the model outputs raw scores; probability = softmax(scores)"
        prob = keras.layers.Softmax(name="xai_probability")(out)
        return Heads(keras.Model(model.inputs, [margin, prob], name="xai_heads"), squash, how,
                     _input_of_producer(out))
    return Heads(keras.Model(model.inputs, [margin, out], name="xai_heads"), squash, how, features)


def squash(margin: np.ndarray, kind: str) -> np.ndarray:
    """Map margins to probabilities the way the model's head does."""
    m = np.asarray(margin, np.float64)
    if kind == "sigmoid":
        return 1.0 / (1.0 + np.exp(-m))
    e = np.exp(m - m.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def verify_heads(margin: np.ndarray, probability: np.ndarray, kind: str, atol: float = 1e-4) -> float:
    """Raise unless squash(margin) reproduces the model's probabilities; return the max error."""
    bad = ~np.isfinite(np.asarray(probability, np.float64))
    if bad.any() or not np.isfinite(np.asarray(margin, np.float64)).all():
        what = "NaN (not a number)" if np.isnan(probability).any() or np.isnan(margin).any() else "infinite values"
        raise ModelError(f"The model outputs {what} on test images, so it cannot be explained; its weights may be "
                         "damaged or it was saved mid-training after diverging.")
    err = float(np.max(np.abs(squash(margin, kind) - probability)))
    if not np.isfinite(err) or err > atol:
        raise ModelError(
            f"Could not recover the model's logits: {kind}(margin) differs from its output by {err:.2g}."
        )
    return err
