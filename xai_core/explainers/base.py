"""The explainer contract: one class per method, one verb.

An explainer declares its user-facing parameters (``params``) so the pages,
the CLI and the contract tests can list and validate them without a second
table, and implements ``explain(model, image, classes, output, ...)``
returning an ``Explanation``.
"""

from __future__ import annotations

import difflib
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Callable, ClassVar

import numpy as np

from ..errors import InputError

Progress = Callable[[float, str], None]  # (fraction done in [0, 1], message)


@dataclass(frozen=True)
class Param:
    name: str
    default: Any
    help: str
    type: type = int
    choices: tuple | None = None
    pattern: str | None = None  # a regex that also admits a value outside ``choices``
    min: float | None = None
    max: float | None = None

    def check(self, value: Any) -> Any:
        try:
            value = self.type(value)
        except (TypeError, ValueError):
            raise InputError(f"{self.name} must be a {self.type.__name__}, not {value!r}.") from None
        if self.choices is not None and value not in self.choices:
            if not (self.pattern and re.fullmatch(self.pattern, str(value))):
                close = difflib.get_close_matches(str(value), list(map(str, self.choices)), n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise InputError(
                    f"{self.name} must be one of {', '.join(map(str, self.choices))}; got {value!r}.{hint}")
        if self.min is not None and value < self.min:
            raise InputError(f"{self.name} must be at least {self.min:g}; got {value}.")
        if self.max is not None and value > self.max:
            raise InputError(f"{self.name} must be at most {self.max:g}; got {value}.")
        return value


class Explainer(ABC):
    name: ClassVar[str]
    display_name: ClassVar[str]
    description: ClassVar[str]
    params: ClassVar[tuple[Param, ...]] = ()
    additive: ClassVar[bool] = True  # base + sum(values) == output is part of the method's contract

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
