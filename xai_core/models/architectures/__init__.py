"""Architectures: each module registers one builder ``(input_shape, num_classes) -> keras.Model``.

The builder returns an uncompiled model that takes inputs already scaled
by ``input_scale`` (see ``ModelMetadata``) and ends in a softmax.
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


ARCHITECTURES: Registry[Architecture] = Registry("architecture", __name__)
