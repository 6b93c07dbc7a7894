"""``python -m xai_core``: the command line, a thin layer over the public API.

Each command is one module in this package that registers a ``Command`` in
``COMMANDS``; the parser is built from the registry, so adding a command is
one new module and nothing else. Every user mistake exits with status 2 and
one ``error: ...`` line on stderr; ``--debug`` shows tracebacks for bugs.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Callable

from ..errors import XAIError
from ..models.openvino_backend import BACKENDS
from ..registry import Registry

BACKEND_HELP = ("what runs the black-box methods' forward passes (default: XAI_FORWARD_BACKEND, else tensorflow): "
                "tensorflow; openvino (fp32, same maps); openvino-bf16 (fast, approximate, labelled); auto "
                "(OpenVINO fp32 where a timed probe shows it faster); gradient methods always use TensorFlow")


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


COMMANDS: Registry[Command] = Registry("command", __name__)


def command(name: str, help: str, add_arguments: Callable[[argparse.ArgumentParser], None]):
    """Decorator for a command's ``run(args) -> exit status``; registers it under ``name``."""

    def wrap(run):
        COMMANDS.register(name, Command(name, help, add_arguments, run))
        return run

    return wrap


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, status 2, like every other user error
        self.exit(2, f"error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="python -m xai_core", description="Explain image classifiers with SHAP, LIME and more.")
    ap.add_argument("--debug", action="store_true", help="show tracebacks")
    ap.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                    help="stop the command after SECONDS (also accepted after the command name)")
    ap.add_argument("--backend", choices=BACKENDS, default=None, help=BACKEND_HELP)
    sub = ap.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, cmd in COMMANDS.items():
        p = sub.add_parser(name, help=cmd.help)
        cmd.add_arguments(p)
        # SUPPRESS: a flag given before the command name is not overwritten by this default
        p.add_argument("--timeout", type=float, default=argparse.SUPPRESS, metavar="SECONDS",
                       help="stop the command after SECONDS; it ends with one sentence and status 2")
        p.add_argument("--backend", choices=BACKENDS, default=argparse.SUPPRESS, help=BACKEND_HELP)
    return ap


class _Literal:
    """A text stream that writes through ``untrusted.terminal_literal``: a class name or file name carrying
    escape sequences is printed as text, never acted on by the terminal (every command prints through it)."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        from ..untrusted import terminal_literal

        lead = "\r" if text.startswith("\r") else ""  # a progress line rewriting itself keeps its return
        self._stream.write(lead + terminal_literal(text[len(lead):]))
        return len(text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def main(argv: list[str] | None = None) -> int:
    import contextlib

    with contextlib.redirect_stdout(_Literal(sys.stdout)), contextlib.redirect_stderr(_Literal(sys.stderr)):
        return _main(argv)


def _main(argv: list[str] | None = None) -> int:
    from .. import cancel, userdata
    from ..models.openvino_backend import using

    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv  # what was asked, for commands that record it (an audit's command.txt), also from Python
    try:
        userdata.housekeeping()  # leftovers of killed writers go at every start
    except OSError:
        pass
    if args.timeout is not None and args.timeout <= 0:
        print("error: --timeout must be a positive number of seconds.", file=sys.stderr)
        return 2
    try:
        with cancel.limit(args.timeout), using(args.backend):
            return COMMANDS.get(args.command).run(args)
    except XAIError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so in one line unless asked for the traceback
        if args.debug:
            raise
        print(f"error: internal error ({type(exc).__name__}: {exc}); rerun with --debug for details",
              file=sys.stderr)
        return 1
