"""``optimized-cnn``: the poster's "Optimised CNN": more layers, batch normalisation and dropout.

Five blocks of 3x3 convolutions, each followed by batch normalisation and
ReLU; the first two blocks are doubled. Dropout grows with depth
(0.1 to 0.3 in the blocks, 0.4 in the head). Flatten keeps position, which
this task needs (see ``basic_cnn``).
"""

import keras
from keras import layers

from . import ARCHITECTURES, Architecture


def conv_bn(x, filters: int, name: str):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def body(inputs, widths=(16, 32, 64, 64, 128), doubled=2):
    x = inputs
    for i, w in enumerate(widths):
        x = conv_bn(x, w, f"block{i + 1}a")
        if i < doubled:
            x = conv_bn(x, w, f"block{i + 1}b")
        x = layers.MaxPooling2D(name=f"block{i + 1}_pool")(x)
        x = layers.Dropout(min(0.1 + 0.05 * i, 0.3), name=f"block{i + 1}_drop")(x)
    return x


def build(input_shape, num_classes: int) -> keras.Model:
    inputs = keras.Input(input_shape)
    x = layers.Flatten()(body(inputs))
    x = layers.Dropout(0.4)(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(0.4)(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="optimized_cnn")


ARCHITECTURES.register("optimized-cnn", Architecture(
    build, "Seven conv layers with batch normalisation and dropout, dense head (poster's Optimised CNN)."))
