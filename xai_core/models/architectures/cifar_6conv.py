"""``cifar-6conv``: the thesis's Table 4.1 network (built there for CIFAR-10).

Six 5x5 convolutions (32, 32, 64, 64, 128, 128 filters), each with batch
normalisation and LeakyReLU (alpha 0.01); convolutions 2, 4 and 6 add 2x2
max pooling and dropout (0.2, 0.3, 0.4). Then a 64-unit dense layer with
batch normalisation and ReLU, and the softmax output. Layer order follows
the table (convolution, pooling, normalisation, dropout, activation).
"""

import keras
from keras import layers

from . import ARCHITECTURES, Architecture


def build(input_shape, num_classes: int) -> keras.Model:
    inputs = keras.Input(input_shape)
    x = inputs
    for i, (filters, drop) in enumerate(((32, 0.2), (64, 0.3), (128, 0.4))):
        x = layers.Conv2D(filters, 5, padding="same", name=f"conv{2 * i + 1}")(x)
        x = layers.BatchNormalization(momentum=0.9, name=f"bn{2 * i + 1}")(x)
        x = layers.LeakyReLU(0.01, name=f"act{2 * i + 1}")(x)
        x = layers.Conv2D(filters, 5, padding="same", name=f"conv{2 * i + 2}")(x)
        x = layers.MaxPooling2D(name=f"pool{i + 1}")(x)
        x = layers.BatchNormalization(momentum=0.9, name=f"bn{2 * i + 2}")(x)
        x = layers.Dropout(drop, name=f"drop{i + 1}")(x)
        x = layers.LeakyReLU(0.01, name=f"act{2 * i + 2}")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(64, name="hidden")(x)
    x = layers.BatchNormalization(momentum=0.9, name="bn_hidden")(x)
    x = layers.Activation("relu", name="relu_hidden")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="output")(x)
    return keras.Model(inputs, outputs, name="cifar_6conv")


ARCHITECTURES.register("cifar-6conv", Architecture(
    build, "Six 5x5 conv layers with batch norm, LeakyReLU, pooling and dropout (thesis Table 4.1)."))
