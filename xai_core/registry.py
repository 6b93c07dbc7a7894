"""One small registration mechanism reused by every kind of plug-in.

Explainers, datasets, architectures (and later segmenters and metrics) each
have a ``Registry``. A plug-in is one module in the kind's package that
registers itself at import time; ``Registry.discover`` imports every module
of the package on first use, so adding a plug-in is one file plus one
``@REGISTRY.register(...)`` line and nothing else.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
import threading
from typing import Generic, Iterator, TypeVar

from .errors import InputError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str, package: str | None = None):
        self.kind = kind
        self._package = package
        self._items: dict[str, T] = {}
        self._discovered = package is None
        self._lock = threading.Lock()

    def register(self, name: str, obj: T | None = None):
        """Register ``obj`` under ``name``; usable as a decorator."""

        def _add(item: T) -> T:
            if name in self._items and self._items[name] is not item:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = item
            return item

        return _add(obj) if obj is not None else _add

    def unregister(self, name: str) -> T | None:
        """Remove ``name`` (a throw-away plug-in of a test or a notebook); returns what was registered, or None."""
        with self._lock:
            return self._items.pop(name, None)

    def _discover(self) -> None:
        if self._discovered:
            return
        with self._lock:
            if self._discovered:
                return
            pkg = importlib.import_module(self._package)
            for info in pkgutil.iter_modules(pkg.__path__):
                if not info.name.startswith("_"):
                    importlib.import_module(f"{self._package}.{info.name}")
            self._discovered = True

    def get(self, name: str) -> T:
        self._discover()
        try:
            return self._items[name]
        except KeyError:
            close = difflib.get_close_matches(str(name), self._items, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise InputError(
                f"Unknown {self.kind} {name!r}. Available: {', '.join(self.names())}.{hint}"
            ) from None

    def names(self) -> list[str]:
        self._discover()
        return sorted(self._items)

    def items(self) -> Iterator[tuple[str, T]]:
        self._discover()
        return iter(sorted(self._items.items()))

    def __contains__(self, name: object) -> bool:
        self._discover()
        return name in self._items

    def __len__(self) -> int:
        self._discover()
        return len(self._items)

