"""``augmented-cnn``: the optimised network trained with the source paper's augmentation.

The paper's Listing 1.1 (``ImageDataGenerator``) becomes Keras preprocessing
layers applied to each training batch in the input pipeline: rotation up to
20 degrees, width and height shifts of 0.2, zoom 0.09, horizontal flips,
constant fill, and a brightness gain drawn from 0.8 to 1.5 (a multiplication,
as ``brightness_range`` does, then clipped to the input range). The paper's
``channel_shift_range`` is left out: the scans are grey. The saved model is
the optimised network itself; augmentation exists only while training.
"""

from . import ARCHITECTURES, Architecture
from .optimized_cnn import build


def paper_augmentation(value_range: tuple[float, float], seed: int = 0):
    import keras
    import tensorflow as tf
    from keras import layers

    geometric = keras.Sequential([
        layers.RandomRotation(20 / 360, fill_mode="constant", seed=seed),
        layers.RandomTranslation(0.2, 0.2, fill_mode="constant", seed=seed + 1),
        layers.RandomZoom((-0.09, 0.09), fill_mode="constant", seed=seed + 2),
        layers.RandomFlip("horizontal", seed=seed + 3),
    ], name="paper_augmentation")
    lo, hi = value_range
    gen = tf.random.Generator.from_seed(seed + 4)

    def augment(x):
        x = geometric(x, training=True)
        gain = gen.uniform((tf.shape(x)[0], 1, 1, 1), 0.8, 1.5)
        return tf.clip_by_value(lo + (x - lo) * gain, lo, hi)

    return augment


ARCHITECTURES.register("augmented-cnn", Architecture(
    build, "The optimised CNN trained with the paper's augmentation (rotate 20°, shift 0.2, zoom 0.09, "
           "flip, brightness 0.8-1.5).", augment=paper_augmentation,
    patience=12))  # augmented batches are harder: the first epochs can sit at chance before it takes off
