"""Architectures: each module registers one builder ``(input_shape, num_classes) -> keras.Model``.

The builder returns an uncompiled model that takes inputs already scaled
by ``input_scale`` (see ``ModelMetadata``) and ends in a softmax.
An entry may also name a training-time augmentation (applied to batches in
the input pipeline, so the saved model holds no random layers), its own
learning rate, and a ``notice`` telling the user something they must know
before training (e.g. that pretrained weights are missing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ...registry import Registry


@dataclass(frozen=True)
class Architecture:
    build: Callable  # (input_shape, num_classes) -> keras.Model
    description: str
    input_scale: str = "0-1"
    augment: Callable | None = None  # (value_range, seed) -> (batch -> batch), training only
    learning_rate: float | Callable[[], float] = 1e-3  # a callable decides at training time
    notice: Callable[[], str | None] | None = None  # () -> a sentence for the user, or None
    patience: int = 6  # epochs without a better validation loss before early stopping


def learning_rate(arch: Architecture) -> float:
    return float(arch.learning_rate() if callable(arch.learning_rate) else arch.learning_rate)


ARCHITECTURES: Registry[Architecture] = Registry("architecture", __name__)
