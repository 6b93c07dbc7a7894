"""``audit``: explain and score every scan of a dataset split, on this machine or a Ray cluster.

Writes ``rows.parquet``/``rows.csv``, ``summary.json``, ``spec.json`` and
``command.txt`` into ``--out``; a rerun into the same folder resumes.
"""

from __future__ import annotations

import shlex
import sys

from ..errors import InputError
from . import command
from ._shared import key_value


def _csv(text: str | None) -> tuple[str, ...]:
    return tuple(s.strip() for s in (text or "").split(",") if s.strip())


def _arguments(a) -> None:
    a.add_argument("--model", required=True, help="shipped model name, model folder or .keras file")
    a.add_argument("--dataset", required=True, help="registered dataset or folder:NAME")
    a.add_argument("--split", default="test", help="split name (default test)")
    a.add_argument("--methods", default="shap-partition,lime", help="comma-separated explainers")
    a.add_argument("--metrics", default=None, help="comma-separated metrics (default: every cheap metric)")
    a.add_argument("--classes", default="predicted", choices=["predicted", "true", "all"],
                   help="which classes to explain per image (default predicted)")
    a.add_argument("--output", default="margin", choices=["margin", "probability"])
    a.add_argument("--limit", type=int, default=None, help="audit only the first N images of the split")
    a.add_argument("--param", action="append", type=key_value, default=[], metavar="METHOD.NAME=VALUE",
                   help="a method or metric parameter, e.g. shap-partition.max_evals=500 (repeatable)")
    a.add_argument("--engine", default="local", choices=["local", "ray"])
    a.add_argument("--workers", type=int, default=None,
                   help="worker processes (local, default 1) or Ray actors (default: the cores)")
    a.add_argument("--address", default=None, help="Ray cluster address (or RAY_ADDRESS); default: start Ray here")
    a.add_argument("--batch-size", type=int, default=4, help="images per batch (the most a killed audit loses)")
    a.add_argument("--out", required=True, help="audit folder (created; a rerun into it resumes)")


def _params(pairs, methods, metrics) -> tuple[dict, dict]:
    from ..explainers import EXPLAINERS
    from ..metrics import METRICS

    by_method, by_metric = {}, {}
    for key, value in pairs:
        owner, _, name = key.rpartition(".")
        if not owner or not name:
            raise InputError(f"--param {key}={value}: write METHOD.NAME=VALUE, e.g. shap-partition.max_evals=500.")
        if owner in methods and owner in EXPLAINERS:
            by_method.setdefault(owner, {})[name] = value
        elif owner in METRICS and (not metrics or owner in metrics):
            by_metric.setdefault(owner, {})[name] = value
        else:
            raise InputError(f"--param {key}: {owner!r} is neither a method nor a metric of this audit.")
    return by_method, by_metric


@command("audit", "explain and score every scan of a dataset split (local or Ray)", _arguments)
def run(args) -> int:
    from ..audit import AuditSpec, run_audit

    methods, metrics = _csv(args.methods), _csv(args.metrics)
    method_params, metric_params = _params(args.param, methods, metrics)
    spec = AuditSpec(args.model, args.dataset, args.split, methods, metrics, args.classes, args.limit, args.output,
                     method_params, metric_params)
    cmd = "python -m xai_core " + " ".join(shlex.quote(a) for a in args.argv) if args.argv else ""

    def progress(f, msg):
        print(f"[{f:6.1%}] {msg}", file=sys.stderr, flush=True)

    r = run_audit(spec, args.out, engine=args.engine, workers=args.workers, address=args.address,
                  batch_size=args.batch_size, command=cmd or f"audit {args.model} {args.dataset}", progress=progress)
    s = r.summary
    print(f"{s['images']} images ({r.computed} computed now, {r.skipped} already done), {s['rows']} rows, "
          f"{s['errors']['images']} unreadable, {s['errors']['rows']} rows with errors; wrote {r.out}")
    for e in s["overall"]:
        if e["mean"] is not None:
            print(f"  {e['method']:<16} {e['metric']:<26} {e['mean']:.4f}  [{e['lo']:.4f}, {e['hi']:.4f}]  n={e['n']}")
    if s.get("cases"):  # a folder of studies: the most suspicious slice of each case, most suspicious case first
        from ..untrusted import terminal_literal

        print(f"{len(s['cases'])} studies, most suspicious first (case: top slice of its slices, score, prediction):")
        for c in s["cases"][:20]:
            top = (f"slice {c['top_slice']} of {c['slices']}, {c['max_suspicion']:.3f}, {c['predicted_at_top']}"
                   + (" (out of domain)" if c["top_out_of_domain"] else "")) if c["top_slice"] else "unreadable"
            print(f"  {terminal_literal(c['case'])}: {top}")
    return 0
