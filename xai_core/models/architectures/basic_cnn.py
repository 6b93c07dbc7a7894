"""``basic-cnn``: the poster's "Basic CNN", four conv/pool blocks and a dense head.

Flatten (not global pooling) keeps *where* things are, which this task needs:
a pituitary mass and a small glioma differ mostly by their position.
"""

import keras
from keras import layers

from . import ARCHITECTURES, Architecture


def build(input_shape, num_classes: int) -> keras.Model:
    return keras.Sequential([
        keras.Input(input_shape),
        layers.Conv2D(16, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dropout(0.3),
        layers.Dense(64, activation="relu"),
        layers.Dense(num_classes, activation="softmax"),
    ], name="basic_cnn")


ARCHITECTURES.register("basic-cnn", Architecture(build, "Four conv/max-pool blocks, dense head (poster's Basic CNN)."))
