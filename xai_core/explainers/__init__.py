"""Explainers: one module per method, each registering one ``Explainer`` subclass."""

from ..registry import Registry
from .base import FAMILIES, Explainer, Param, Progress

EXPLAINERS: Registry[type[Explainer]] = Registry("explainer", __name__)

__all__ = ["EXPLAINERS", "FAMILIES", "Explainer", "Param", "Progress"]
