"""``trust``: is this map right? Faithfulness, localisation, randomisation and convergence of one map.

    python -m xai_core trust --model brain-basic-cnn --image synthetic-brain-mri:test:3 \\
        --method shap-partition --param max_evals=1000 --metrics deletion,insertion --json

For DATASET:SPLIT:INDEX images the dataset's lesion mask (and its artefact mask, e.g. a burned-in marker, where
it has one) is used; ``--mask`` reads a lesion mask and ``--artefact-mask`` an artefact mask from image files
(non-zero = inside). Each metric reads only its own region's mask (``xai_core.regions``). Without ``--metrics``
every registered metric runs (those that do not apply say n/a, with the reason).

A scan the model's out-of-domain check flags, a model whose output does not move and a negligible map earn no
verdict: every metric reads ``n/a`` with ``reason`` (for example "outside the training domain");
``--values-anyway`` adds the computed values under ``withheld_value``, for inspection, never as evidence.
"""

from __future__ import annotations

import json
from pathlib import Path

from .. import gates, regions
from ..errors import InputError
from ..metrics import verdict_word
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
    p.add_argument("--artefact-mask", default=None,
                   help="mask image of a suspected artefact such as a site marker (non-zero = artefact)")
    p.add_argument("--values-anyway", action="store_true",
                   help="for withheld results (out of domain, a map that says nothing) also print the computed value")
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


def _dataset_regions(ref: str) -> dict:
    """{region: mask} of a DATASET:SPLIT:INDEX reference (lesion and artefact); {} for files."""
    from ..data import DATASETS, load_dataset
    from ..data.refs import IMAGE_REF

    m = IMAGE_REF.match(ref)
    if not (m and (m["dataset"] in DATASETS or m["dataset"].startswith("folder:"))):
        return {}
    return regions.dataset_regions(load_dataset(m["dataset"]), m["split"], int(m["index"]))


def _out_of_domain(model, image, cache) -> bool:
    """The model's out-of-domain flag for the scan; False (and one line on stderr) where it has no check."""
    import sys

    from ..domain import domain_check
    from ..errors import XAIError

    try:
        return bool(domain_check(model, [image], cache=cache).flags[0])
    except XAIError as exc:
        print(f"Out-of-domain check unavailable: {exc}", file=sys.stderr)
        return False


def _summary(r, values_anyway: bool) -> dict:
    out = r.summary()
    why = gates.reason_of(r) or (r.meaning[len("Not applicable: "):].rstrip(".")
                                 if r.meaning.startswith("Not applicable: ") else "")
    if why:
        out["reason"] = f"not applicable: {why}"
    w = gates.withheld(r)
    if values_anyway and w is not None:
        out["withheld_value"] = w.summary()["value"]
    return out


@command("trust", "faithfulness, localisation, randomisation and convergence evidence for one map", _arguments)
def run(args) -> int:
    from .. import api, trust
    from ..models import as_model

    params = _method_params(args.method, args.param)
    names = trust.parse_metrics(args.metrics)
    mparams = _metric_params(args.metric_param)
    for metric, p in mparams.items():
        from ..metrics import METRICS

        METRICS.get(metric).validate(p)
    image, title, _, mask = load_image_ref(args.image)
    masks = _dataset_regions(args.image)
    if args.mask:
        mask = _read_mask(args.mask)
    if args.artefact_mask:
        masks[regions.ARTEFACT] = _read_mask(args.artefact_mask)
    cache = None if args.no_cache else api.DEFAULT_CACHE
    model = as_model(args.model)
    expl = api.explain(model, image, method=args.method, output=args.output,
                       top_k=None if args.klass else 1, classes=[args.klass] if args.klass else None,
                       cache=cache, **params)
    ood = _out_of_domain(model, expl.image, cache)
    results = trust.card(model, expl.image, expl, names, mask=mask, masks=masks, params=mparams, cache=cache,
                         out_of_domain=ood)
    summary = {name: _summary(r, args.values_anyway) for name, r in results.items()}
    text = json.dumps(summary, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n")
    if args.json:
        print(text)
    else:
        print(f"{title}: {expl.method} map for class {expl.class_names[0]} ({expl.output_space})")
        why = next((gates.reason_of(r) for r in results.values() if gates.reason_of(r)), "")
        if why:
            print(f"Not applicable: {why}. No metric earns a verdict on this map.")
        print(table([{"metric": n, "value": "n/a" if r.summary()["value"] is None else f"{r.value:.3f}",
                      "verdict": verdict_word(r.verdict), "better": r.better, "meaning": r.meaning}
                     for n, r in results.items()], ["metric", "value", "verdict", "better", "meaning"]))
    return 0
