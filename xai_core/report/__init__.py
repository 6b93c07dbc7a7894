"""Case reports and class handouts: PDF, self-contained HTML and one PNG per figure, de-identified by default.

UI-free. The pages and the ``report`` CLI command hand over what they
already hold (the scan with its window, the explanations, the out-of-domain
verdict, trust results) and get files back::

    from xai_core import report
    scan = report.scan_from_dataset("brain-basic-cnn", "synthetic-brain-mri:test:0")
    c = report.case("brain-basic-cnn", scan, [explanation])
    r = report.assemble([c], ["brain-basic-cnn"])
    report.write(r, "case.pdf"); report.write(r, "case.html")

Modules: ``content`` (what a report says), ``figures`` (static matplotlib
figures), ``pdf`` and ``html`` (writers), ``deid`` (DICOM PS3.15 identifiers),
``command`` (the regeneration command), ``scans``, ``study`` (a slice's place
in its series or volume), ``handouts``.
"""

from __future__ import annotations

from pathlib import Path

from .command import regeneration_command
from .content import DISCLAIMER, Case, MapEntry, Report, Scan, Verdict, case, check_domain
from .handouts import HANDOUTS
from .scans import parse_window, scan_from_bytes, scan_from_dataset, window_option

FORMATS = ("pdf", "html")


def assemble(cases: list[Case], models: list, kind: str = "case", handout: str | None = None,
             identifiers: dict | None = None, guard: dict | None = None, window: str | None = None,
             classes_rule: str | None = None, title: str | None = None, now=None, flags: tuple = ()) -> Report:
    """A ``Report`` from cases, with the command that regenerates it.

    ``identifiers``: shown, only when the user ticked "include identifiers" for this report. ``guard``:
    identifier values to scrub from every string otherwise. ``window``: the ``--window`` value of the
    scans; ``classes_rule``: ``true``/``predicted`` when each scan's classes follow a rule.
    """
    from ..models import as_model
    from .content import build

    names = list(dict.fromkeys(as_model(m).name for m in models))
    notes = HANDOUTS[handout]["notes"] if kind == "handout" and handout in HANDOUTS else []
    title = title or (HANDOUTS[handout]["title"] if notes else "Case report")
    rep = build(cases, models, command="", title=title, kind=kind, notes=notes, identifiers=identifiers,
                guard=guard, now=now)
    rep.command = regeneration_command(cases, names, window=window, kind=kind, handout=handout,
                                       include_identifiers=bool(identifiers), classes_rule=classes_rule,
                                       out_stem=rep.file_stem(), flags=tuple(flags))
    return rep


def render_figures(report: Report) -> dict[str, bytes]:
    """Every figure of the report as PNG bytes, by name (``case0-scan``, ``case0-map1``, ...)."""
    from . import figures

    out = {}
    for i, c in enumerate(report.cases):
        out[f"case{i}-scan"] = figures.scan_png(
            c.scan.model_input, c.scan.original,
            original_title=("original, " + c.scan.window_text().split(" (")[0]) if c.scan.window else "original")
        out[f"case{i}-probabilities"] = figures.probability_png(c.probabilities, c.class_names)
        for j, m in enumerate(c.maps):
            out[f"case{i}-map{j}"] = figures.map_png(m.explanation, m.unit, c.probabilities)
        if c.series is not None:
            out[f"case{i}-slices"] = figures.slices_png(c.series)
    return out


def to_bytes(report: Report, fmt: str, figures: dict[str, bytes] | None = None) -> bytes:
    from .html import to_html
    from .pdf import to_pdf

    figures = render_figures(report) if figures is None else figures
    if fmt == "pdf":
        return to_pdf(report, figures)
    if fmt == "html":
        return to_html(report, figures).encode("utf-8")
    raise ValueError(f"format must be one of {FORMATS}, not {fmt!r}")


def write(report: Report, path: str | Path, figures: dict[str, bytes] | None = None) -> Path:
    """Write ``path`` (.pdf or .html), atomically."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    data = to_bytes(report, fmt, figures)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


def write_pngs(report: Report, folder: str | Path, figures: dict[str, bytes] | None = None) -> list[Path]:
    """One PNG per figure, named ``<report stem>-<figure>.png``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    figures = render_figures(report) if figures is None else figures
    out = []
    for name, png in figures.items():
        p = folder / f"{report.file_stem()}-{name}.png"
        p.write_bytes(png)
        out.append(p)
    return out


__all__ = ["DISCLAIMER", "FORMATS", "HANDOUTS", "Case", "MapEntry", "Report", "Scan", "Verdict", "assemble",
           "case", "check_domain", "parse_window", "regeneration_command", "render_figures", "scan_from_bytes",
           "scan_from_dataset", "to_bytes", "window_option", "write", "write_pngs"]
