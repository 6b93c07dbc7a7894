"""Explainers: one module per method, each registering one ``Explainer`` subclass."""

from ..registry import Registry
from .base import FAMILIES, Explainer, Param, Progress

EXPLAINERS: Registry[type[Explainer]] = Registry("explainer", __name__)

__all__ = ["EXPLAINERS", "FAMILIES", "Explainer", "Param", "Progress", "featured"]


def featured(n: int | None = None) -> list[str]:
    """The first ``n`` (default: all) featured methods, by each explainer's ``featured`` rank: the selection
    a page, the CLI or a workflow starts with before the user chooses."""
    ranked = sorted((cls.featured, name) for name, cls in EXPLAINERS.items() if cls.featured is not None)
    return [name for _, name in ranked][:n]
