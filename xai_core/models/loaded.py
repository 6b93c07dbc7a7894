"""A loaded classifier with one compiled forward pass for both output spaces."""

from __future__ import annotations

import threading

import numpy as np

from .. import cancel, config
from ..errors import ModelError
from .heads import build_heads, verify_heads
from .metadata import PER_CHANNEL, SCALES, ModelMetadata, apply_scale

OUTPUT_SPACES = ("margin", "probability")


class LoadedModel:
    """A Keras classifier plus what is needed to explain it.

    Images everywhere in ``xai_core`` are float or uint8 arrays of raw pixel
    values in 0..255, shaped (H, W, C). The model's own input scaling
    (``metadata.input_scale``) is applied inside the compiled call, so maskers
    that work in 0..255 (inpainting casts to uint8) stay correct.
    """

    def __init__(self, keras_model, metadata: ModelMetadata, name: str, path: str = "",
                 file_hash: str = ""):
        import tensorflow as tf

        self.keras_model = keras_model
        self.metadata = metadata
        self.name = name
        self.path = path
        self.file_hash = file_hash
        heads = build_heads(keras_model)
        self.squash, self.head_how = heads.squash, heads.how
        self._heads = heads.model
        self._features_tensor = heads.features
        self._features_fn = None
        self._feature_cache = None
        h, w = metadata.input_size
        c = metadata.input_channels
        self.input_shape = (int(h), int(w), int(c))
        model_shape = tuple(keras_model.inputs[0].shape[1:])
        if len(model_shape) != 3 or any(m is not None and m != s for m, s in zip(model_shape, self.input_shape)):
            raise ModelError(
                f"The model expects inputs of shape {model_shape}, but its metadata says {self.input_shape}."
            )
        if metadata.input_scale not in SCALES:
            raise ModelError(f"Unknown input scaling {metadata.input_scale!r}; use one of {', '.join(SCALES)}.")
        if metadata.input_scale in PER_CHANNEL and c != 3:
            raise ModelError(f"The {metadata.input_scale!r} scaling works per colour channel; this model takes "
                             f"{c} channel(s).")
        n_out = int(self._heads.outputs[0].shape[-1])
        self._binary = self.squash == "sigmoid" and n_out == 1
        self._fn = tf.function(
            self.scores, input_signature=[tf.TensorSpec((None, *self.input_shape), tf.float32)],
            reduce_retracing=True)
        self.num_classes = 2 if self._binary else n_out
        names = list(metadata.class_names) or [f"class {i}" for i in range(self.num_classes)]
        if len(names) != self.num_classes:
            raise ModelError(
                f"The model has {self.num_classes} outputs but {len(names)} class names were given."
            )
        self.class_names = names
        self.calls = 0  # forward passes served, for tests and benchmarks
        self.per_image_bytes = activation_bytes(keras_model, self.input_shape)
        self._lock = threading.Lock()
        self._last_image = None
        self._whitebox = None
        self._runners: dict = {}  # requested backend -> OpenVINO runner, or None for TensorFlow
        self._runner_lock = threading.Lock()
        probe = np.random.default_rng(0).uniform(0, 255, (4, *self.input_shape)).astype(np.float32)
        probe[0] = 0
        m, p = self.forward(probe, backend="tensorflow")
        self.head_error = verify_heads(m, p, self.squash)
        self.calls = 0

    @property
    def heads(self):
        """The Keras model from scaled inputs to ``[margin, probability]`` as the network gives them: one
        column for a 1-unit sigmoid head. ``class_scores`` turns them into one column per class."""
        return self._heads

    def class_scores(self, margin, probability):
        """One column per class from the heads' outputs (tensors). A 1-unit sigmoid head gives one logit z,
        the second class's: the classes' scores are then (-z, z) and their probabilities (1-p, p)."""
        if not self._binary:
            return margin, probability
        import tensorflow as tf

        return tf.concat([-margin, margin], -1), tf.concat([1 - probability, probability], -1)

    def scores(self, images):
        """(margin, probability) tensors, one column per class, for a batch tensor of 0..255 images: the
        forward pass to differentiate (a gradient tape) or to trace. ``forward`` runs it compiled, in
        batches, to numpy."""
        return self.class_scores(*self._heads(apply_scale(images, self.metadata.input_scale), training=False))

    def count_calls(self, n: int) -> None:
        """Add ``n`` images to ``calls``: a pass run outside ``forward`` (a gradient) still counts."""
        with self._lock:
            self.calls += n

    def __repr__(self) -> str:
        return f"LoadedModel({self.name!r}, input={self.input_shape}, classes={self.class_names})"

    def batch_size_for(self, per_image_bytes: int | None = None, requested: int | None = None) -> int:
        """Images per model call: ``requested`` (default 256) capped so one batch fits the memory budget
        (``XAI_BATCH_MEMORY_MB``). ``per_image_bytes`` defaults to this model's forward activations; a
        gradient method passes its own (e.g. ``2 * model.per_image_bytes``)."""
        return config.batch_size_for(per_image_bytes or self.per_image_bytes, requested)

    def _runner(self, backend: str | None = None):
        """The OpenVINO runner serving ``backend`` (default: the one requested here), or None for
        TensorFlow; resolved (converted, compiled, probed) once per backend name."""
        from . import openvino_backend

        name = openvino_backend.requested() if backend is None else openvino_backend.check(backend)
        if name == "tensorflow":
            return None
        try:
            return self._runners[name]
        except KeyError:
            pass
        with self._runner_lock:
            if name not in self._runners:
                self._runners[name] = openvino_backend.resolve(self, name)
            return self._runners[name]

    def backend(self, requested: str | None = None) -> str:
        """What runs this model's forward passes under ``requested`` (default: the backend requested
        here): "tensorflow", "openvino-fp32" or "openvino-bf16" (approximate). Resolving it converts
        the model if needed, so the warm-up calls it once."""
        runner = self._runner(requested)
        return "tensorflow" if runner is None else runner.label

    def forward(self, images: np.ndarray, batch_size: int = 256,
                backend: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Margins and probabilities (float64, (N, K)) for a stack of 0..255 images.

        Batches hold at most ``batch_size`` images and at most what the memory budget allows; between
        batches a time limit or a stop request (``cancel.check``) ends the work. ``backend`` overrides the
        requested forward backend (``openvino_backend``) for this call."""
        run = self._runner(backend)
        x = np.asarray(images, np.float32)
        if x.ndim == 3:
            x = x[None]
        if x.shape[1:] != self.input_shape:
            raise ModelError(f"Images of shape {x.shape[1:]} do not fit the model input {self.input_shape}.")
        batch_size = self.batch_size_for(None, batch_size)
        ms, ps = [], []
        for i in range(0, len(x), batch_size):
            if i:
                cancel.check()
            if run is None:
                m, p = self._fn(x[i:i + batch_size])
                m, p = m.numpy(), p.numpy()
            else:
                m, p = run(x[i:i + batch_size])
            ms.append(m)
            ps.append(p)
        self.count_calls(len(x))
        if not ms:
            empty = np.zeros((0, self.num_classes))
            return empty, empty
        return np.concatenate(ms).astype(np.float64), np.concatenate(ps).astype(np.float64)

    @property
    def has_features(self) -> bool:
        return bool(self._feature_layers())

    def _feature_layers(self) -> list[tuple[str, object]]:
        """(name, tensor) pairs: the last feature map at each spatial resolution, then the penultimate vector."""
        if self._feature_cache is None:
            seen = {}
            for layer in self._heads.layers:
                try:
                    out = layer.output
                except Exception:
                    continue
                shape = getattr(out, "shape", None)
                if isinstance(out, (list, tuple)) or shape is None or len(shape) != 4 or layer in self._heads.inputs:
                    continue
                if type(layer).__name__ == "InputLayer":
                    continue
                seen[tuple(shape[1:3])] = (layer.name, out)  # later layers at the same resolution win
            found = list(seen.values())
            f = self._features_tensor
            if f is not None and len(getattr(f, "shape", ())) == 2:
                found.append(("penultimate", f))
            self._feature_cache = found
        return self._feature_cache

    @property
    def feature_slices(self) -> list[tuple[str, int, int]]:
        """(layer, start, stop) of each layer's block in ``features()``."""
        out, start = [], 0
        for name, t in self._feature_layers():
            width = int(t.shape[-1]) * (2 if len(t.shape) == 4 else 1)
            out.append((name, start, start + width))
            start += width
        return out

    def features(self, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """What the network sees, as one vector per image (N, D) float64: the channel means and standard
        deviations of the last feature map at each resolution, then the penultimate features (the input of
        the logit layer); ``feature_slices`` says which columns come from which layer."""
        import keras
        import tensorflow as tf

        layers = self._feature_layers()
        if not layers:
            raise ModelError("This model's intermediate features cannot be reached.")
        if self._features_fn is None:
            fmodel = keras.Model(self._heads.inputs, [t for _, t in layers])
            scale = self.metadata.input_scale

            def fn(x):
                outs = fmodel(apply_scale(x, scale), training=False)
                outs = outs if isinstance(outs, (list, tuple)) else [outs]
                parts = []
                for o in outs:
                    if len(o.shape) == 4:
                        mean, var = tf.nn.moments(o, axes=[1, 2])
                        parts += [mean, tf.sqrt(var + 1e-12)]
                    else:
                        parts.append(o)
                return tf.concat([tf.cast(q, tf.float32) for q in parts], -1)

            self._features_fn = tf.function(
                fn, input_signature=[tf.TensorSpec((None, *self.input_shape), tf.float32)], reduce_retracing=True)
        x = np.asarray(images, np.float32)
        if x.ndim == 3:
            x = x[None]
        batch_size = self.batch_size_for(None, batch_size)
        out = []
        for i in range(0, len(x), batch_size):
            if i:
                cancel.check()
            out.append(self._features_fn(x[i:i + batch_size]).numpy())
        return np.concatenate(out).astype(np.float64) if out else np.zeros((0, self.feature_slices[-1][2]))

    def forward_image(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(margin, probability) for one image, remembered for the last image seen.

        Explaining an image needs the model's outputs on it twice (to pick the top-k
        classes and to report the explained output); this keeps that to one forward pass.
        """
        from ..data.images import image_hash

        x = np.asarray(image, np.float32)
        key = (image_hash(x), self.backend())
        last = self._last_image
        if last is not None and last[0] == key:
            return last[1]
        m, p = self.forward(x[None])
        out = (m[0], p[0])
        self._last_image = (key, out)
        return out

    def output_fn(self, space: str, batch_size: int = 256):
        """A function images -> (N, K) scores in the given output space."""
        if space not in OUTPUT_SPACES:
            raise ModelError(f"Unknown output space {space!r}; use 'margin' or 'probability'.")
        idx = OUTPUT_SPACES.index(space)
        return lambda images: self.forward(images, batch_size)[idx]

    def predict_proba(self, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
        return self.forward(images, batch_size)[1]

    # --- white-box access (gradient and CAM methods); see whitebox.py -----------------------------------
    @property
    def whitebox(self):
        if self._whitebox is None:
            from .whitebox import WhiteBox

            self._whitebox = WhiteBox(self)
        return self._whitebox

    def gradients(self, images: np.ndarray, classes, output: str = "margin", batch_size: int = 64,
                  return_outputs: bool = False):
        """d(score)/d(pixel) in 0..255 pixel space, (N, H, W, C) float64; see ``WhiteBox.gradients``."""
        return self.whitebox.gradients(images, classes, output, batch_size, return_outputs)

    def layer_names(self) -> list[str]:
        """Every layer as a path ("base/conv2d" inside a nested model), in graph order."""
        return self.whitebox.layer_names()

    def conv_layers(self) -> list[str]:
        """The convolution layers' paths; the last one is the default layer of CAM methods."""
        return self.whitebox.conv_layers()

    def layer_gradients(self, images: np.ndarray, classes, output: str = "margin", layer: str | None = None,
                        batch_size: int = 64):
        """(activations, d(score)/d(activations), scores) at ``layer`` (default: the last conv layer)."""
        return self.whitebox.layer_gradients(images, classes, output, layer, batch_size)

    def activations(self, images: np.ndarray, layer: str | None = None, batch_size: int = 64) -> np.ndarray:
        """Activations (N, h, w, k) at ``layer`` (default: the last conv layer)."""
        return self.whitebox.activations(images, layer, batch_size)

    def prepare(self, image: np.ndarray) -> np.ndarray:
        """Adapt an image (H, W[, C], 0..255) to this model's input: resize and grey/RGB."""
        from ..data.images import adapt_image

        return adapt_image(image, self.input_shape)


def activation_bytes(keras_model, input_shape: tuple) -> int:
    """Bytes one image costs in a forward pass: its input plus every layer's float32 output.

    An upper bound (the runtime frees tensors once used), so batches stay inside the memory budget
    whatever the graph's order; nested models are counted layer by layer.
    """
    total = 4 * int(np.prod(input_shape))
    for layer in getattr(keras_model, "layers", ()):
        if getattr(layer, "layers", None):
            total += activation_bytes(layer, ())
            continue
        if type(layer).__name__ == "InputLayer":  # the input is counted once, above
            continue
        try:
            out = layer.output
        except Exception:
            continue
        for t in out if isinstance(out, (list, tuple)) else [out]:
            shape = getattr(t, "shape", None)
            if shape is not None and len(shape) > 1:
                total += 4 * int(np.prod([d or 1 for d in shape[1:]]))
    return int(total)
