"""``transfer-inceptionv3`` and ``transfer-mobilenetv2``: the source paper's transfer-learning recipe.

The paper (Listing 1.2) takes InceptionV3 pretrained on ImageNet without its
top, adds global average pooling, batch normalisation, Dense 128 and Dense 64
(L2 1e-4, LeakyReLU, dropout 0.4 and 0.3) and a softmax, freezes the first
100 layers and fine-tunes the rest at a learning rate of 3e-5.

Nothing is downloaded: ImageNet weights are used only when their file is
already in the local Keras cache (``$KERAS_HOME/models``, default
``~/.keras/models``). Without it ``notice()`` says so and the network trains
from scratch with every layer trainable (freezing random weights is useless).
Grey inputs are repeated to three channels and small inputs are resized up to
the backbone's minimum inside the model, so any registered dataset fits.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import ARCHITECTURES, Architecture

FROZEN_LAYERS = 100  # the paper's ``base_model.layers[:100]``


def keras_cache() -> Path:
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser() / "models"


def _weights_file(patterns: list[str]) -> Path | None:
    root = keras_cache()
    for pattern in patterns:
        hits = sorted(root.glob(pattern)) if root.is_dir() else []
        if hits:
            return hits[0]
    return None


BACKBONES = {
    "inceptionv3": dict(app="InceptionV3", min_side=75, display="InceptionV3",
                        files=["inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"]),
    "mobilenetv2": dict(app="MobileNetV2", min_side=32, display="MobileNetV2",
                        files=["mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5",
                               "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_*_no_top.h5"]),
}


def weights_notice(backbone: str) -> str | None:
    spec = BACKBONES[backbone]
    if _weights_file(spec["files"]) is not None:
        return None
    return (f"ImageNet weights for {spec['display']} are not in the local Keras cache "
            f"({keras_cache() / spec['files'][0]}), and nothing is downloaded, so this network trains from "
            f"scratch with every layer trainable. That needs far more data and time than the paper's "
            f"fine-tuning; copy the weights file there to fine-tune as the paper did.")


def build_transfer(backbone: str, input_shape, num_classes: int):
    import keras
    from keras import layers, regularizers

    spec = BACKBONES[backbone]
    weights = _weights_file(spec["files"])
    inputs = keras.Input(input_shape)
    x = inputs
    h, w, c = input_shape
    if min(h, w) < spec["min_side"]:
        x = layers.Resizing(max(h, spec["min_side"]), max(w, spec["min_side"]), name="resize_to_backbone")(x)
    if c == 1:
        x = layers.Concatenate(name="grey_to_rgb")([x, x, x])
    app = getattr(keras.applications, spec["app"])
    base = app(include_top=False, weights=str(weights) if weights else None, input_tensor=x)
    extra = sum(layer.name in ("resize_to_backbone", "grey_to_rgb") for layer in base.layers)  # ours, not the paper's
    for i, layer in enumerate(base.layers):
        layer.trainable = weights is None or i >= FROZEN_LAYERS + extra
    y = layers.GlobalAveragePooling2D(name="head_pool")(base.output)
    y = layers.BatchNormalization(name="head_bn")(y)
    for units, drop in ((128, 0.4), (64, 0.3)):
        y = layers.Dense(units, kernel_regularizer=regularizers.l2(1e-4), name=f"head_dense{units}")(y)
        y = layers.LeakyReLU(name=f"head_act{units}")(y)
        y = layers.Dropout(drop, name=f"head_drop{units}")(y)
    outputs = layers.Dense(num_classes, activation="softmax", name="output")(y)
    return keras.Model(inputs, outputs, name=f"transfer_{backbone}")


for _name in BACKBONES:
    ARCHITECTURES.register(f"transfer-{_name}", Architecture(
        build=lambda shape, n, b=_name: build_transfer(b, shape, n),
        description=f"{BACKBONES[_name]['display']} backbone (ImageNet weights if cached locally), the paper's "
                    f"pooled dense head, first {FROZEN_LAYERS} layers frozen when pretrained.",
        input_scale="-1-1",
        learning_rate=lambda b=_name: 1e-3 if weights_notice(b) else 3e-5,  # the paper fine-tunes at 3e-5
        notice=lambda b=_name: weights_notice(b)))
