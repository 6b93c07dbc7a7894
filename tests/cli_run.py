"""The CLI run inside the test process.

A fresh ``python -m xai_core`` spends about 5 s importing TensorFlow before it does anything, and the CLI tests
made some forty such calls: over two minutes of CI. ``cli(...)`` calls the same ``xai_core.cli.main`` that
``__main__`` calls, with the same terminal-escaping streams, and returns what ``subprocess.run`` would
(returncode, stdout, stderr). ``tests/test_cli.py::test_the_module_entry_point_runs_in_a_fresh_process`` keeps
one real subprocess, so the ``-m`` entry point itself stays covered.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from types import SimpleNamespace

from tests.conftest import ROOT


def cli(*args, env: dict | None = None) -> SimpleNamespace:
    """``python -m xai_core ARGS`` in this process; ``env`` is set for the call and restored afterwards."""
    from xai_core.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(a) for a in args])
            except SystemExit as exc:  # argparse's own errors (unknown choice, missing argument) exit 2
                code = exc.code if isinstance(exc.code, int) else 1
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return SimpleNamespace(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())


def cli_process(*args, env: dict | None = None) -> subprocess.CompletedProcess:
    """``python -m xai_core ARGS`` in a fresh process: only where a fresh interpreter is the point."""
    return subprocess.run([sys.executable, "-m", "xai_core", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **(env or {})})
