"""Training workflows: fit a registered architecture on a registered dataset, optionally with
explanation-guided augmentation.

They live above ``models`` (which only loads, wraps and builds models) because they use the layers that
``models`` sits under: training scores the test split with ``evaluation`` and guided retraining explains
training images with the explainers.
"""

from .trainer import train

__all__ = ["train"]
