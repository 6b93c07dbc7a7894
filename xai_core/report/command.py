"""The CLI command that regenerates a report, derived from the explanations themselves.

Each map's method, output space, explained classes and validated parameters
(defaults filled in) are what ``explain`` used, so replaying them gives the
same cache key and, with a fixed seed, the same values bit for bit. When
every map of every case shares one set of parameters per method and one
class list (or a class rule such as "the true class"), the short form
``--methods a,b --output x`` with the explainers' own flags is written;
otherwise one ``--job`` JSON object per map.
"""

from __future__ import annotations

import json
import shlex

from ..models import openvino_backend

PROGRAM = "python -m xai_core report"


# The report's own options; an explainer parameter of the same name (occlusion's ``window``) is spelled
# ``--param-NAME`` so the DICOM ``--window`` keeps the meaning it has on the page.
RESERVED = frozenset({"window", "model", "image", "methods", "output", "classes", "job", "handout", "out",
                      "figures", "top_k", "no_cache", "include_identifiers"})


def _flag(name: str) -> str:
    return ("--param-" if name in RESERVED else "--") + name.replace("_", "-")


def _param_flags(params: dict) -> list[str]:
    out = []
    for name, value in sorted(params.items()):
        if isinstance(value, dict):  # --segmenter-param NAME=VALUE, as `explain` spells it
            flag = _flag(name).removesuffix("s")  # --segmenter-param NAME=VALUE
            for k, v in sorted(value.items()):
                out += [flag, f"{k}={v!r}" if isinstance(v, float) else f"{k}={v}"]
        elif value is not None:
            out += [_flag(name), repr(value) if isinstance(value, float) else str(value)]
    return out


def jobs_of(cases) -> list[dict]:
    """One job per map (``explain``'s keyword arguments), in report order."""
    return [{"method": m.explanation.method, "output": m.explanation.output_space,
             "classes": list(m.explanation.class_names), "params": dict(m.explanation.params)}
            for c in cases for m in c.maps]


def short_form(cases, classes_rule: str | None = None) -> list[str] | None:
    """``--methods ... --output ... --classes ... <flags>`` when the maps allow it, else None."""
    per_case = [[(m.explanation.method, m.explanation.output_space) for m in c.maps] for c in cases]
    if not per_case or not per_case[0] or any(p != per_case[0] for p in per_case):
        return None
    methods = list(dict.fromkeys(m for m, _ in per_case[0]))
    outputs = list(dict.fromkeys(o for _, o in per_case[0]))
    if per_case[0] != [(m, o) for m in methods for o in outputs]:
        return None
    params, merged = {}, {}
    classes = set()
    for job in jobs_of(cases):
        if params.setdefault(job["method"], job["params"]) != job["params"]:
            return None
        classes.add(tuple(job["classes"]))
    for p in params.values():
        for k, v in p.items():
            if merged.setdefault(k, v) != v:  # two methods disagree on a shared flag such as --seed
                return None
    if classes_rule is None:
        if len(classes) != 1:
            return None
        classes_rule = ",".join(next(iter(classes)))
    return (["--methods", ",".join(methods), "--output", ",".join(outputs), "--classes", classes_rule]
            + _param_flags(merged))


def regeneration_command(cases, models: list[str], window: str | None = None, kind: str = "case",
                         handout: str | None = None, include_identifiers: bool = False,
                         classes_rule: str | None = None, out_stem: str = "report",
                         flags: tuple[str, ...] = ()) -> str:
    args = []
    for m in models:
        args += ["--model", m]
    for src in dict.fromkeys(c.scan.source for c in cases):
        args += ["--image", src]
    if window:
        args += ["--window", window]
    approximate = next((m.explanation.backend for c in cases for m in c.maps
                        if openvino_backend.is_approximate(m.explanation.backend)), None)
    if approximate:  # bf16 maps differ from fp32 ones: the command must ask for the same precision
        args += ["--backend", openvino_backend.backend_request(approximate)]
    picked = {(c.scan.dicom.get("plane"), c.scan.dicom.get("slice")) for c in cases if c.scan.dicom.get("slice")}
    if len(picked) == 1:  # one slice of a study
        plane, n = next(iter(picked))
        args += ["--slice", f"{plane}:{n}"]
        from .study import flags_of

        args += next((flags_of(c.series) for c in cases if flags_of(c.series)), [])  # the map projection
    short = short_form(cases, classes_rule)
    if short is not None:
        args += short
    else:
        for job in jobs_of(cases[:1]):  # the CLI runs the same jobs on every model and scan
            args += ["--job", json.dumps(job, sort_keys=True, separators=(",", ":"))]
    if kind == "handout" and handout:
        args += ["--handout", handout]
    if include_identifiers:
        args.append("--include-identifiers")
    args += list(flags)
    args += ["--out", f"{out_stem}.pdf", "--out", f"{out_stem}.html"]
    return " ".join([PROGRAM, *(shlex.quote(a) for a in args)])
