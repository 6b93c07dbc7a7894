"""Work that can be stopped: a time limit and a stop flag, checked between batches.

Every long computation in ``xai_core`` reports to a ``Progress`` callback
between batches (``params.py``), and ``LoadedModel.forward`` calls
``check()`` between its batches. This module turns those points into stop
points:

- ``limit(seconds)`` sets a deadline for everything run inside it (nested
  limits keep the earliest deadline); ``XAI_TIME_LIMIT_S`` is the default
  per-computation limit that ``api.explain`` applies (``config.time_limit_s``).
- ``stop_on(event)`` makes a ``threading.Event`` (a Stop button, a newer
  rerun) stop the work at the next check.
- ``guard(progress)`` wraps a ``Progress`` (or None) into one that checks
  first, so explainers that already report between batches honour both.

A stop raises ``errors.Cancelled``: one sentence for the user (CLI exit 2),
and nothing half-written is cached, because the cache only stores results
that were returned.

The deadline lives in a ``contextvars.ContextVar``, so two sessions of the
app (two script threads) never share a deadline or a stop flag.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
from dataclasses import dataclass

from .errors import Cancelled
from .params import Progress


@dataclass(frozen=True)
class _Scope:
    deadline: float | None = None  # time.monotonic() value, or None for no limit
    seconds: float | None = None  # the limit as the user set it, for the message
    events: tuple = ()  # threading.Event objects; any one set means stop


_SCOPE: contextvars.ContextVar[_Scope] = contextvars.ContextVar("xai_cancel_scope", default=_Scope())


def _fmt(seconds: float) -> str:
    return f"{seconds:g} s" if seconds < 120 else f"{seconds / 60:.3g} min"


def check() -> None:
    """Raise ``Cancelled`` if the current scope's deadline has passed or its stop flag is set."""
    scope = _SCOPE.get()
    if any(e.is_set() for e in scope.events):
        raise Cancelled("The computation was stopped; nothing was saved from it.")
    if scope.deadline is not None and time.monotonic() > scope.deadline:
        raise Cancelled(f"The computation ran past its time limit of {_fmt(scope.seconds)} and was stopped; "
                        "raise the limit (--timeout or XAI_TIME_LIMIT_S) or ask for less work "
                        "(fewer evaluations or samples).")


def remaining() -> float | None:
    """Seconds left before the current deadline (None when there is no limit)."""
    d = _SCOPE.get().deadline
    return None if d is None else max(0.0, d - time.monotonic())


@contextlib.contextmanager
def limit(seconds: float | None):
    """Run the body under a time limit; ``None`` or ``0`` adds none. The earliest deadline wins."""
    scope = _SCOPE.get()
    if seconds is not None and float(seconds) > 0:
        new = time.monotonic() + float(seconds)
        if scope.deadline is None or new < scope.deadline:
            scope = _Scope(new, float(seconds), scope.events)
    token = _SCOPE.set(scope)
    try:
        yield
    finally:
        _SCOPE.reset(token)


@contextlib.contextmanager
def stop_on(event: threading.Event | None):
    """Stop the body's work at the next check once ``event`` is set (e.g. by a Stop button)."""
    scope = _SCOPE.get()
    if event is not None:
        scope = _Scope(scope.deadline, scope.seconds, (*scope.events, event))
    token = _SCOPE.set(scope)
    try:
        yield
    finally:
        _SCOPE.reset(token)


def guard(progress: Progress | None = None) -> Progress:
    """A ``Progress`` that checks for a stop, then reports to ``progress`` (which may itself raise)."""

    def wrapped(fraction: float, message: str) -> None:
        check()
        if progress is not None:
            progress(fraction, message)

    wrapped.__wrapped__ = progress  # type: ignore[attr-defined]
    return wrapped
