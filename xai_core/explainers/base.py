"""The explainer contract: one class per method, one verb.

An explainer declares its user-facing parameters (``params``) so the pages,
the CLI and the contract tests can list and validate them without a second
table, and implements ``explain(model, image, classes, output, ...)``
returning an ``Explanation``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

from ..errors import InputError
from ..params import Param, Progress  # noqa: F401  (re-exported)


class Explainer(ABC):
    name: ClassVar[str]
    display_name: ClassVar[str]
    description: ClassVar[str]
    params: ClassVar[tuple[Param, ...]] = ()
    additive: ClassVar[bool] = True  # base + sum(values) == output is part of the method's contract
    # The parameter that sets a sampling method's budget (maps get finer as it grows), or None;
    # ``xai_core.progressive`` refines such methods step by step.
    budget_param: ClassVar[str | None] = None

    @classmethod
    def validate(cls, params: dict) -> dict:
        """Fill in defaults and check every parameter; unknown names are refused."""
        known = {p.name: p for p in cls.params}
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise InputError(f"{cls.name} has no parameter {', '.join(unknown)}; it takes {', '.join(known)}.")
        return {name: p.check(params.get(name, p.default) if params.get(name) is not None else p.default)
                for name, p in known.items()}

    @abstractmethod
    def explain(self, model, image: np.ndarray, classes: np.ndarray, output: str,
                progress: Progress | None = None, **params):
        """Explain ``image`` (H, W, C, 0..255, already fitted to the model) for ``classes``."""
