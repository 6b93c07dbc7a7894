"""The benchmarks' one timing rule: best of ``repeats`` runs (these machines are noisy; the minimum is the
least disturbed run). Run as ``python benchmarks/bench_*.py``, so this folder is on ``sys.path``."""

from __future__ import annotations

import contextlib
import io
import time


def best_of(fn, repeats: int, *, warm_up: bool = False, quiet: bool = False):
    """(fastest seconds, the last result) of ``repeats`` calls of ``fn``; ``warm_up`` makes one untimed call
    first (compiled functions traced), ``quiet`` swallows stderr while timing (progress bars)."""
    if warm_up:
        fn()
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        with contextlib.redirect_stderr(io.StringIO()) if quiet else contextlib.nullcontext():
            out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out
