"""``report``: a case report or class handout as PDF and/or self-contained HTML, de-identified by default."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import InputError
from . import command
from ._shared import IMAGE_REF, key_value
from .explain import explainer_params
from ..report.command import _flag


def _arguments(r) -> None:
    from ..report.handouts import HANDOUTS
    from ..report.scans import WINDOW_HELP

    r.add_argument("--model", action="append", required=True, help="a model (repeat to compare models)")
    r.add_argument("--image", action="append", required=True,
                   help="image or DICOM file, or DATASET:SPLIT:INDEX (repeat for several scans)")
    r.add_argument("--methods", default="shap-partition", help="comma-separated explainers (default shap-partition)")
    r.add_argument("--output", default="margin", help="margin, probability, or both comma-separated")
    r.add_argument("--top-k", type=int, default=None, help="explain the K most probable classes (default 4)")
    r.add_argument("--classes", default=None,
                   help="comma-separated class names, or 'true' (the scan's true class) or 'predicted'")
    for name, p in explainer_params().items():
        flag = _flag(name)  # the same spelling the regeneration command writes
        if p.type is dict:
            r.add_argument(flag.removesuffix("s"), dest=f"param_{name}", action="append",
                           type=key_value, default=None, metavar="NAME=VALUE", help=f"{p.help} (repeatable)")
        else:
            r.add_argument(flag, dest=f"param_{name}", type=p.type, default=None,
                           help=f"{p.help} (default {p.default})")
    r.add_argument("--job", action="append", default=None, metavar="JSON",
                   help='one map as JSON instead of --methods: {"method":..,"output":..,"classes":[..],"params":{..}}')
    r.add_argument("--window", default=None, help=f"DICOM display window: {WINDOW_HELP}")
    r.add_argument("--slice", default=None, metavar="PLANE:N",
                   help="for a study (series zip, NIfTI, multi-frame DICOM): the slice to report, numbered from 1, "
                        "e.g. axial:12; the report then also scores every slice of that plane")
    r.add_argument("--slices", default=None, metavar="all|A-B|A,B",
                   help="with --slice: also explain these slices (numbered from 1) with the first method and "
                        "show the maximum-intensity projection of their maps")
    r.add_argument("--slice-class", default=None, metavar="CLASS",
                   help="with --slices: the class of those maps (default: the study's most suspicious class)")
    r.add_argument("--handout", choices=sorted(HANDOUTS), default=None,
                   help="a class handout with plain-language notes, laid out for printing")
    r.add_argument("--include-identifiers", action="store_true",
                   help="print the DICOM identifiers in this one report (off: de-identified)")
    r.add_argument("--trust", action="store_true",
                   help="add each map's trust card (xai_core.trust's cheap metrics; takes longer)")
    r.add_argument("--figures", default=None, help="also write one PNG per figure into this folder")
    r.add_argument("--no-cache", action="store_true", help="recompute even if a cached result exists")
    r.add_argument("--out", action="append", required=True, help="FILE.pdf or FILE.html (repeat for both)")


def _convert(value: str):
    """A --segmenter-param value as the segmenter expects it (ints stay ints, 0.5 a float)."""
    for t in (int, float):
        try:
            return t(value)
        except ValueError:
            pass
    return value


def _jobs(args) -> list[dict]:
    """The maps to compute per model and scan: explain()'s keyword arguments, each with 'method'/'output'."""
    from ..explainers import EXPLAINERS

    if args.job:
        jobs = []
        for text in args.job:
            try:
                j = json.loads(text)
                jobs.append({"method": j["method"], "output": j.get("output", "margin"), "classes": j.get("classes"),
                             "top_k": j.get("top_k"), **dict(j.get("params") or {})})
            except (ValueError, KeyError, TypeError, AttributeError):
                raise InputError(f"--job must be a JSON object with at least a 'method'; got {text!r}.") from None
        return jobs
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    outputs = [o.strip() for o in args.output.split(",") if o.strip()]
    if not methods or not outputs:
        raise InputError("--methods and --output must each name at least one item.")
    for o in outputs:
        if o not in ("margin", "probability"):
            raise InputError(f"--output must be margin, probability or both; got {o!r}.")
    given = {k: getattr(args, f"param_{k}") for k in explainer_params() if getattr(args, f"param_{k}") is not None}
    given = {k: {a: _convert(b) for a, b in v} if isinstance(v, list) else v for k, v in given.items()}
    accepted = set()
    jobs = []
    for m in methods:
        names = {p.name for p in EXPLAINERS.get(m).params}
        accepted |= names
        for o in outputs:
            jobs.append({"method": m, "output": o, "top_k": args.top_k,
                         **{k: v for k, v in given.items() if k in names}})
    stray = sorted(set(given) - accepted)
    if stray:
        raise InputError(f"None of {', '.join(methods)} takes {', '.join(_flag(s) for s in stray)}.")
    return jobs


def _classes(spec, scan, lm, probs):
    """Class names to explain: a list, a comma string, 'true' (the scan's true class, else the prediction, as
    ``compare`` does), 'predicted', or None for the top-k."""
    import numpy as np

    if spec is None:
        return None
    if isinstance(spec, str):
        top = lm.class_names[int(np.argmax(probs))]
        if spec == "true":
            return [scan.true_class if scan.true_class in lm.class_names else top]
        if spec == "predicted":
            return [top]
        return [c.strip() for c in spec.split(",") if c.strip()]
    return list(spec)


@command("report", "a case report or class handout as PDF / self-contained HTML (de-identified)", _arguments)
def run(args) -> int:
    from .. import api, report
    from ..models import as_model
    from ..report.content import stored_trust

    outs = [Path(o) for o in args.out]
    for o in outs:
        if o.suffix.lower() not in (".pdf", ".html"):
            raise InputError(f"--out must name a .pdf or .html file; got {o.name!r}.")
    if len(args.model) > 4 or len(args.image) > 4:
        raise InputError("A report takes at most 4 models and 4 scans.")
    jobs = _jobs(args)
    if (args.slices or args.slice_class) and not args.slice:
        raise InputError("--slices and --slice-class need --slice PLANE:N (the slice the report is about).")
    rule = args.classes if args.classes in ("true", "predicted") else None
    cases, shown, guard, window_opt = [], {}, {}, None
    models = [as_model(m) for m in args.model]
    for lm in models:
        for ref in args.image:
            m = IMAGE_REF.match(ref)
            series = None
            if m and not Path(ref).is_file():
                scan = report.scan_from_dataset(lm, ref)
            else:
                p = Path(ref)
                if not p.is_file():
                    raise InputError(f"{ref!r} is neither an image file nor DATASET:SPLIT:INDEX.")
                from ..data.images import _read_bytes

                data = _read_bytes(p)
                scan, ids, found = report.scan_from_bytes(lm, data, p.name, args.window,
                                                          args.include_identifiers, source=str(ref),
                                                          slice=_slice(args.slice))
                if args.slice:
                    series = _series(lm, data, p.name, scan, _slice(args.slice), args, jobs[0])
                shown.update(ids or {})
                guard.update(found)
                window_opt = report.window_option(scan.window, scan.window_name) if scan.window else window_opt
            probs = lm.forward_image(scan.model_input)[1]
            expls = []
            for job in jobs:
                j = dict(job)
                spec = j.pop("classes", None)
                classes = _classes(spec if spec is not None else args.classes, scan, lm, probs)
                method, output, top_k = j.pop("method"), j.pop("output"), j.pop("top_k", None)
                expls.append(api.explain(lm, scan.model_input, method=method, output=output, top_k=top_k,
                                         classes=classes, cache=None if args.no_cache else api.DEFAULT_CACHE, **j))
            trust = stored_trust(lm, expls, compute=True) if args.trust else None
            cases.append(report.case(lm, scan, expls, trust=trust, series=series))
    kind = "handout" if args.handout else "case"
    rep = report.assemble(cases, models, kind=kind, handout=args.handout,
                          identifiers=shown if args.include_identifiers else None, guard=guard,
                          window=window_opt, classes_rule=rule, flags=("--trust",) if args.trust else ())
    figures = report.render_figures(rep)
    for o in outs:
        report.write(rep, o, figures)
        print(f"wrote {o}")
    if args.figures:
        print(f"wrote {len(report.write_pngs(rep, args.figures, figures))} PNG figures to {args.figures}")
    for c in cases:
        print(f"{c.model_name} on {c.scan.source}: predicts {c.predicted} ({c.probabilities.max():.1%}); "
              + ("outside the training domain" if c.verdict.flagged else "in domain" if c.verdict.flagged is False
                 else "no domain check"))
    print(f"regenerate with: {rep.command}")
    return 0


def _series(lm, data: bytes, filename: str, scan, picked, args, job: dict):
    """The study around the reported slice: every slice scored, and the ``--slices`` maps projected."""
    from ..data.study import read_volume
    from ..report.study import explain_series, series_of

    vol = read_volume(data, filename)
    plane, index = picked
    maps = None
    if args.slices:
        maps = explain_series(lm, vol, plane, scan.window, args.slices, job, args.slice_class)
    return series_of(lm, vol, plane, index, scan.window, maps)


def _slice(text: str | None):
    """(plane, 0-based index) from ``--slice PLANE:N`` (N from 1), or None."""
    if text is None:
        return None
    plane, _, n = text.partition(":")
    if not n.strip().isdigit() or int(n) < 1 or not plane.strip():
        raise InputError(f"--slice must be PLANE:N with N from 1 (e.g. axial:12); got {text!r}.")
    return plane.strip(), int(n) - 1
