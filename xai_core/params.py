"""Shared parameter and progress types, in the lowest layer so every plug-in kind can use them.

A ``Param`` is one user-facing parameter: its default, help text, type and
limits. One schema feeds the CLI flags, the page widgets (``param_form``),
validation and the contract tests. ``Progress`` is the callback every long
computation reports to between batches; it may raise ``Cancelled`` to stop
the work (a Stop button, a rerun, a time limit).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any, Callable

from .errors import InputError

Progress = Callable[[float, str], None]  # (fraction done in [0, 1], message)


@dataclass(frozen=True)
class Param:
    name: str
    default: Any
    help: str
    type: type = int
    choices: tuple | Callable[[], tuple] | None = None  # a callable: a registry's names, read when needed
    pattern: str | None = None  # a regex that also admits a value outside ``choices``
    min: float | None = None
    max: float | None = None

    @property
    def options(self) -> tuple | None:
        """The allowed values now (``choices`` may be a callable, for registries that grow at run time)."""
        return tuple(self.choices()) if callable(self.choices) else self.choices

    def check(self, value: Any) -> Any:
        if self.type is bool and isinstance(value, str):  # bool("false") is True: read the word instead
            words = {"true": True, "1": True, "yes": True, "on": True,
                     "false": False, "0": False, "no": False, "off": False}
            if value.strip().lower() not in words:
                raise InputError(f"{self.name} must be true or false, not {value!r}.")
            value = words[value.strip().lower()]
        try:
            value = self.type(value)
        except (TypeError, ValueError):
            raise InputError(f"{self.name} must be a {self.type.__name__}, not {value!r}.") from None
        options = self.options
        if options is not None and value not in options:
            if not (self.pattern and re.fullmatch(self.pattern, str(value))):
                close = difflib.get_close_matches(str(value), list(map(str, options)), n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise InputError(
                    f"{self.name} must be one of {', '.join(map(str, options))}; got {value!r}.{hint}")
        if self.min is not None and value < self.min:
            raise InputError(f"{self.name} must be at least {self.min:g}; got {value}.")
        if self.max is not None and value > self.max:
            raise InputError(f"{self.name} must be at most {self.max:g}; got {value}.")
        return value


def validate(schema: tuple[Param, ...], params: dict | None, owner: str) -> dict:
    """Every parameter of ``schema``, checked, with defaults where ``params`` gives none (or None).

    A name the schema lacks is refused, naming ``owner`` (what takes the parameters, e.g. "lime" or
    "Metric focus") and what it does take. Explainers, metrics and segmenters all validate here.
    """
    params = dict(params or {})
    refuse_unknown(schema, params, owner)
    return {p.name: p.check(params[p.name] if params.get(p.name) is not None else p.default) for p in schema}


def refuse_unknown(schema: tuple[Param, ...], names, owner: str) -> None:
    """Refuse, in one sentence naming what ``owner`` takes, any of ``names`` that ``schema`` lacks."""
    known = [p.name for p in schema]
    unknown = sorted(set(names) - set(known))
    if unknown:
        takes = ", ".join(known) or "no parameters"
        raise InputError(f"{owner} has no parameter {', '.join(map(repr, unknown))}; it takes {takes}.")
