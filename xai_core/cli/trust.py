"""``trust``: is this map right? Faithfulness, localisation, randomisation and convergence of one map.

    python -m xai_core trust --model brain-basic-cnn --image synthetic-brain-mri:test:3 \\
        --method shap-partition --param max_evals=1000 --metrics deletion,insertion --json

For DATASET:SPLIT:INDEX images the dataset's lesion mask is used; ``--mask`` reads one from an image file
(non-zero = lesion). Without ``--metrics`` every registered metric runs (those that do not apply say n/a).
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import InputError
from ..params import refuse_unknown
from . import command
from ._shared import key_value, load_image_ref, table


def _arguments(p) -> None:
    from ..explainers import EXPLAINERS

    p.add_argument("--model", required=True, help="shipped model name, model folder or .keras file")
    p.add_argument("--image", required=True, help="image file, or DATASET:SPLIT:INDEX (its lesion mask is used)")
    p.add_argument("--method", default="shap-partition", choices=EXPLAINERS.names())
    p.add_argument("--param", action="append", type=key_value, default=[], metavar="NAME=VALUE",
                   help="a parameter of the method (repeatable), e.g. max_evals=2000")
    p.add_argument("--metrics", default=None, help="comma-separated metric names (default: all registered)")
    p.add_argument("--metric-param", action="append", type=key_value, default=[], metavar="METRIC.NAME=VALUE",
                   help="a metric's parameter (repeatable), e.g. convergence.doublings=2")
    p.add_argument("--mask", default=None, help="ground-truth mask image (non-zero = lesion)")
    p.add_argument("--output", default="margin", choices=["margin", "probability"])
    p.add_argument("--class", dest="klass", default=None, help="class name or index to explain (default: top-1)")
    p.add_argument("--no-cache", action="store_true", help="recompute even if cached results exist")
    p.add_argument("--json", action="store_true", help="print JSON {metric: {value, better, verdict, threshold}}")
    p.add_argument("--out", default=None, help="also write that JSON to this file")


def _method_params(method: str, pairs: list[tuple[str, str]]) -> dict:
    from ..explainers import EXPLAINERS

    cls = EXPLAINERS.get(method)
    declared = {p.name: p for p in cls.params}
    out = {}
    for name, value in pairs:
        refuse_unknown(cls.params, [name], method)
        if declared[name].type is dict:
            raise InputError(f"{name} cannot be set with --param; use the explain command.")
        out[name] = value
    return cls.validate(out)


def _metric_params(pairs) -> dict:
    from ..metrics import METRICS

    out: dict[str, dict] = {}
    for key, value in pairs:
        metric, dot, name = key.partition(".")
        if not dot:
            raise InputError(f"--metric-param takes METRIC.NAME=VALUE; got {key}={value}.")
        METRICS.get(metric)
        out.setdefault(metric, {})[name] = value
    return out


def _read_mask(path: str):
    import numpy as np

    from ..data.images import read_image

    if not Path(path).is_file():
        raise InputError(f"No mask file {path!r}.")
    m = np.asarray(read_image(path), np.float64)
    return (m.max(-1) if m.ndim == 3 else m) > 0


@command("trust", "faithfulness, localisation, randomisation and convergence evidence for one map", _arguments)
def run(args) -> int:
    from .. import api, trust

    params = _method_params(args.method, args.param)
    names = trust.parse_metrics(args.metrics)
    mparams = _metric_params(args.metric_param)
    for metric, p in mparams.items():
        from ..metrics import METRICS

        METRICS.get(metric).validate(p)
    image, title, _, mask = load_image_ref(args.image)
    if args.mask:
        mask = _read_mask(args.mask)
    cache = None if args.no_cache else api.DEFAULT_CACHE
    expl = api.explain(args.model, image, method=args.method, output=args.output,
                       top_k=None if args.klass else 1, classes=[args.klass] if args.klass else None,
                       cache=cache, **params)
    results = trust.card(args.model, expl.image, expl, names, mask=mask, params=mparams, cache=cache)
    summary = {name: r.summary() for name, r in results.items()}
    text = json.dumps(summary, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n")
    if args.json:
        print(text)
    else:
        print(f"{title}: {expl.method} map for class {expl.class_names[0]} ({expl.output_space})")
        print(table([{"metric": n, "value": "n/a" if r.summary()["value"] is None else f"{r.value:.3f}",
                      "verdict": r.verdict, "better": r.better, "meaning": r.meaning}
                     for n, r in results.items()], ["metric", "value", "verdict", "better", "meaning"]))
    return 0
