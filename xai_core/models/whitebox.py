"""White-box access to a loaded classifier: input gradients and layer activations/gradients.

Gradient and CAM methods (Simonyan et al. 2014; Sundararajan et al. 2017;
Selvaraju et al. 2017) need more than forward passes. ``WhiteBox`` gives them,
for any model ``LoadedModel`` accepts (nested Sequential/functional, BatchNorm,
Rescaling, grey or RGB, softmax or sigmoid heads), in both output spaces:

- ``gradients``: d(score of class c)/d(pixel), in the 0..255 pixel space every
  explainer uses: the model's input scaling runs inside the taped, compiled call,
  so the chain rule through it is included.
- ``layer_names`` / ``conv_layers``: every layer as a path ("base/conv2d" for a
  layer inside a nested model), in graph order.
- ``layer_gradients``: activations at a named layer and the gradient of the
  class score with respect to them (default layer: the last convolution).

Layers inside nested models are reached by running the heads model's graph
ourselves (``Function._run_through_graph``) and descending into every nested
``Functional``/``Sequential`` in place, recording the named layer's output on
the way; the recorded tensor is part of the taped computation, so the tape can
differentiate the score with respect to it even across skip connections. The
runner is checked against the compiled forward pass the first time it is used.
"""

from __future__ import annotations

import threading

import numpy as np

from .. import cancel
from ..errors import InputError, ModelError
from .inspect import CONV_TYPES
from .metadata import apply_scale

SPACES = ("margin", "probability")


def _is_graph_model(op) -> bool:
    import keras

    return isinstance(op, keras.Model) and (hasattr(op, "_run_through_graph") or
                                            getattr(op, "_functional", None) is not None)


def _training_false(op):
    """Call ``op`` in inference mode (BatchNorm uses moving statistics, Dropout is off)."""

    def call(*args, **kwargs):
        if "training" in getattr(op, "_call_context_args", ()) or getattr(op, "_call_has_training_arg", False):
            kwargs["training"] = False
        return op(*args, **kwargs)

    return call


def _run(model, inputs, record: set, found: dict, prefix: str = ""):
    """Run ``model``'s graph on tensors, inlining nested models and keeping the outputs named in ``record``."""
    import keras

    graph = model._functional if isinstance(model, keras.Sequential) and model._functional else model
    if isinstance(graph, keras.Sequential):  # a Sequential with no graph of its own: its layers in order
        x = inputs
        for layer in graph.layers:
            x = _call(layer, (x,), {}, record, found, prefix)
        return x

    def operation_fn(op):
        return lambda *a, **k: _call(op, a, k, record, found, prefix)

    out = graph._run_through_graph(inputs, operation_fn=operation_fn)
    if isinstance(out, (list, tuple)) and len(out) == 1:
        out = out[0]
    return out


def _call(op, args, kwargs, record, found, prefix):
    path = prefix + op.name
    if _is_graph_model(op):
        x = args[0] if len(args) == 1 else list(args)
        out = _run(op, x, record, found, path + "/")
    else:
        out = _training_false(op)(*args, **kwargs)
    if path in record:
        found[path] = out
    return out


def _walk(model, prefix: str = ""):
    """(path, layer) for every layer in graph order, descending into nested models."""
    import keras

    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        if isinstance(layer, keras.Model):
            yield from _walk(layer, prefix + layer.name + "/")
        yield prefix + layer.name, layer


def _rank(layer) -> int | None:
    try:
        return len(layer.output.shape)
    except Exception:
        return None


class WhiteBox:
    """Compiled gradient and layer functions for one ``LoadedModel`` (built lazily, one per need)."""

    def __init__(self, lm):
        self._lm = lm
        self._grad_fns: dict = {}
        self._layer_fns: dict = {}
        self._lock = threading.Lock()
        self._checked = False
        self._layers = [(p, layer) for p, layer in _walk(lm.heads) if not p.endswith("_margin")
                        and p != "xai_probability"]

    # --- layers -------------------------------------------------------------------------------------
    def layer_names(self) -> list[str]:
        return [p for p, _ in self._layers]

    def conv_layers(self) -> list[str]:
        """Paths of the convolution layers, in graph order (the last one is the CAM default)."""
        return [p for p, layer in self._layers if type(layer).__name__ in CONV_TYPES and _rank(layer) == 4]

    def spatial_layers(self) -> list[str]:
        """Every layer whose output is a (N, h, w, k) feature map: what a CAM can be computed at."""
        return [p for p, layer in self._layers if _rank(layer) == 4]

    def default_layer(self) -> str:
        convs = self.conv_layers() or self.spatial_layers()
        if not convs:
            raise ModelError(f"{self._lm.name} has no convolutional layer, so CAM methods cannot be used.")
        return convs[-1]

    # --- gradients ----------------------------------------------------------------------------------
    def _grad_fn(self, space: str):
        import tensorflow as tf

        if space not in SPACES:
            raise InputError(f"output must be 'margin' or 'probability'; got {space!r}.")
        with self._lock:
            if space not in self._grad_fns:
                idx, lm = SPACES.index(space), self._lm

                def fn(x, classes):  # the model's own forward pass, taped: same scaling, same heads
                    with tf.GradientTape() as tape:
                        tape.watch(x)
                        scores = lm.scores(x)[idx]
                        picked = tf.gather(scores, classes, axis=1, batch_dims=1)
                        # each image's score depends only on that image: the gradient of the sum is per image
                        total = tf.reduce_sum(picked)
                    return tape.gradient(total, x), picked

                self._grad_fns[space] = tf.function(fn, input_signature=[
                    tf.TensorSpec((None, *self._lm.input_shape), tf.float32), tf.TensorSpec((None,), tf.int32)],
                    reduce_retracing=True)
            return self._grad_fns[space]

    def gradients(self, images, classes, output: str = "margin", batch_size: int = 64,
                  return_outputs: bool = False):
        """d(score of ``classes``)/d(pixel) for a stack of 0..255 images: (N, H, W, C) float64.

        ``classes`` is one class index for every image or one per image. With ``return_outputs`` the
        scores themselves (N,) come back too, from the same pass.
        """
        x, cls = self._inputs(images, classes)
        fn = self._grad_fn(output)
        batch_size = self._batch(batch_size)
        grads, outs = [], []
        for i in range(0, len(x), batch_size):
            if i:
                cancel.check()  # a time limit or a Stop request ends the work between batches
            g, o = fn(x[i:i + batch_size], cls[i:i + batch_size])
            grads.append(g.numpy())
            outs.append(o.numpy())
        self._lm.count_calls(len(x))
        g = np.concatenate(grads).astype(np.float64) if grads else np.zeros((0, *self._lm.input_shape))
        o = np.concatenate(outs).astype(np.float64) if outs else np.zeros(0)
        return (g, o) if return_outputs else g

    def _batch(self, requested: int) -> int:
        """A backward pass keeps the forward activations and their gradients: about 3x a forward's bytes."""
        sized = getattr(self._lm, "batch_size_for", None)
        return sized(3 * self._lm.per_image_bytes, requested) if sized else requested

    def _inputs(self, images, classes):
        x = np.asarray(images, np.float32)
        if x.ndim == 3:
            x = x[None]
        if x.shape[1:] != self._lm.input_shape:
            raise ModelError(f"Images of shape {x.shape[1:]} do not fit the model input {self._lm.input_shape}.")
        cls = np.broadcast_to(np.asarray(classes, np.int32).reshape(-1), (len(x),)).copy() \
            if np.size(classes) in (1, len(x)) else None
        if cls is None:
            raise InputError(f"Give one class for all images or one per image; got {np.size(classes)} for {len(x)}.")
        if len(cls) and (cls.min() < 0 or cls.max() >= self._lm.num_classes):
            raise InputError(f"Class indices must be in 0..{self._lm.num_classes - 1}.")
        return x, cls

    # --- layers: activations and their gradients -----------------------------------------------------
    def _layer_fn(self, layer: str, space: str):
        import tensorflow as tf

        if layer not in self.layer_names():
            raise InputError(f"{self._lm.name} has no layer {layer!r}; its feature-map layers are "
                             f"{', '.join(self.spatial_layers()) or 'none'}.")
        key = (layer, space)
        with self._lock:
            if key not in self._layer_fns:
                idx, lm = SPACES.index(space), self._lm

                def fn(x, classes):
                    found = {}
                    with tf.GradientTape() as tape:
                        m, p = lm.class_scores(*_run(lm.heads, apply_scale(x, lm.metadata.input_scale), {layer},
                                                     found))
                        scores = (m, p)[idx]
                        picked = tf.gather(scores, classes, axis=1, batch_dims=1)
                        total = tf.reduce_sum(picked)
                    act = found[layer]
                    return act, tape.gradient(total, act), picked, m

                self._layer_fns[key] = tf.function(fn, input_signature=[
                    tf.TensorSpec((None, *self._lm.input_shape), tf.float32), tf.TensorSpec((None,), tf.int32)],
                    reduce_retracing=True)
            return self._layer_fns[key]

    def layer_gradients(self, images, classes, output: str = "margin", layer: str | None = None,
                        batch_size: int = 64):
        """(activations, gradients, scores) at ``layer`` (default: the last conv layer).

        activations and gradients are (N, h, w, k) float64, d(score)/d(activation); scores (N,).
        """
        layer = layer or self.default_layer()
        x, cls = self._inputs(images, classes)
        fn = self._layer_fn(layer, output)
        batch_size = self._batch(batch_size)
        acts, grads, outs = [], [], []
        for i in range(0, len(x), batch_size):
            if i:
                cancel.check()
            a, g, o, m = fn(x[i:i + batch_size], cls[i:i + batch_size])
            if not self._checked:
                self._check(x[i:i + batch_size], m.numpy())
            acts.append(a.numpy())
            grads.append(g.numpy())
            outs.append(o.numpy())
        self._lm.count_calls(len(x))
        cat = (lambda a: np.concatenate(a).astype(np.float64))
        return cat(acts), cat(grads), cat(outs)

    def activations(self, images, layer: str | None = None, batch_size: int = 64) -> np.ndarray:
        return self.layer_gradients(images, 0, "margin", layer, batch_size)[0]

    def _check(self, x, margins) -> None:
        """The graph runner must compute what the compiled forward pass computes."""
        ref = self._lm._fn(x)[0].numpy()
        err = float(np.max(np.abs(ref - margins))) if len(x) else 0.0
        if not np.isfinite(err) or err > 1e-3 * max(1.0, float(np.abs(ref).max(initial=0))):
            raise ModelError(f"Layer access for {self._lm.name} disagrees with its forward pass ({err:.2g}); "
                             "CAM methods cannot be used on this model.")
        self._checked = True
