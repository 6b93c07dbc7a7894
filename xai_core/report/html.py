"""The self-contained HTML writer: one file, no external URL, images inline as data URIs, opens offline.

It lays out a ``Report`` and decides nothing; every string is escaped
after passing through ``Report.clean``, attribute values included. The
print style sheet keeps figures whole and starts each case on a new page.
"""

from __future__ import annotations

import base64
import html

from ..metrics import verdict_word
from ..plots.base import palette
from ..untrusted import clip
from .content import Report

NAME, CELL = 200, 600  # longest name, longest table cell shown (users' files may hold anything)

CSS = """
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;max-width:60rem;margin:1.5rem auto;padding:0 1rem;
color:#111;line-height:1.4;font-size:15px}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;border-bottom:1px solid #ccc;margin-top:1.6rem}
h3{font-size:1.05rem;margin-bottom:.3rem}
.disclaimer{font-weight:bold;border:2px solid #b00;padding:.4rem .6rem;margin:.6rem 0}
.small{font-size:.85rem;color:#444}figure{margin:.4rem 0}figure img{max-width:100%;height:auto}
table{border-collapse:collapse;margin:.4rem 0;max-width:100%}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left;
vertical-align:top;overflow-wrap:anywhere}h2,h3,p{overflow-wrap:anywhere}code,pre{font-family:"DejaVu Sans Mono",monospace;font-size:.85rem}
pre{white-space:pre-wrap;word-break:break-all;background:#f5f5f5;padding:.5rem}
.flag{color:#b00;font-weight:bold}
body.handout{font-size:17px}
@media print{body{max-width:none;margin:0}.case{break-before:page}figure,table,pre{break-inside:avoid}}
"""


def _img(png: bytes | None, alt: str) -> str:
    if not png:
        return ""
    data = base64.b64encode(png).decode("ascii")
    return f'<figure><img src="data:image/png;base64,{data}" alt="{alt}"></figure>'


def _plotly(fig, with_library: bool) -> str:
    """A Plotly figure as inline HTML; the plotly.js library is inlined once, with the first figure, so the
    file still opens offline and loads nothing from anywhere."""
    return fig.to_html(include_plotlyjs=with_library, full_html=False,
                       config={"displaylogo": False, "responsive": True})


def _study_figures(report: Report, series) -> list:
    """The per-slice plot with the reported slice marked, and the maps' projection over the scan's."""
    from ..plots.methods import method_map_figure
    from ..plots.slices import slice_scores_figure
    from ..untrusted import plotly_literal

    out = [slice_scores_figure(series.scores, current=series.chosen, height=340,
                               current_label=f"reported slice {series.chosen + 1}")]
    m = series.maps
    if m is not None:
        title = report.clean(f"Maximum-intensity projection over {len(m.indices)} slices: {m.class_name}, "
                             f"{m.method} ({m.output})")
        out.append(method_map_figure(series.scan_mip, m.mip(), plotly_literal(m.unit, 120),
                                     plotly_literal(title, 200), height=360))
    return out


def to_html(report: Report, figures: dict[str, bytes]) -> str:
    def e(text, limit: int | None = None) -> str:
        """Escaped; ``limit``: names from users' files (a 10,000-character class name) are cut with an ellipsis."""
        return html.escape(clip(report.clean(text), limit) if limit else report.clean(text), quote=True)

    def table(rows, cols):
        head = "".join(f"<th>{e(c, NAME)}</th>" for c in cols)
        body = "".join("<tr>" + "".join(f"<td>{e(r.get(c, ''), CELL)}</td>" for c in cols) + "</tr>" for r in rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    handout = report.kind == "handout"
    library = [True]  # plotly.js goes in with the first interactive figure only
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{e(report.title)}</title><style>{CSS}</style></head>",
           f'<body class="{"handout" if handout else "report"}">',
           f"<h1>{e(report.title)}</h1>",
           f'<p class="small">{e(report.created)} · xai_core {e(report.version)}</p>',
           f'<p class="disclaimer">{e(report.disclaimer)}</p>', f'<p class="small">{e(report.privacy)}</p>']
    for h, text in report.notes:
        out.append(f"<h3>{e(h)}</h3><p>{e(text)}</p>")
    for i, c in enumerate(report.cases):
        out.append(f'<section class="case"><h2>{e(c.model_name, NAME)} on {e(c.scan.source, NAME)}</h2>')
        out.append(_img(figures.get(f"case{i}-scan"), e(f"the scan {c.scan.source}")))
        facts = [f"Scan: {c.scan.source}, SHA-256 {c.scan.sha256}."]
        if c.scan.window is not None:
            facts.append(f"Original shown with {c.scan.window_text()}.")
        if c.scan.dicom:
            dm = c.scan.dicom
            r = dm.get("rescale", (1, 0))
            facts.append(f"DICOM {dm.get('modality', '')}, {dm.get('photometric', '')}, rescale ×{r[0]:g} {r[1]:+g}.")
            if dm.get("slice"):
                facts.append(f"{str(dm.get('plane', '')).capitalize()} slice {dm['slice']} of {dm.get('slices')} "
                             f"of the study.")
        if c.scan.true_class:
            facts.append(f"True class: {clip(c.scan.true_class, NAME)}.")
        out.append(f'<p class="small">{e(" ".join(facts))}</p>')
        # the verdict first: it qualifies the answer below it
        cls = ' class="flag"' if c.verdict.flagged else ""
        out.append(f"<h3>Out-of-domain check</h3><p{cls}>{e(c.verdict.text)}</p>")
        out.append(f"<h3>Prediction</h3><p>{e(c.model_name, NAME)} predicts <b>{e(c.predicted_words, NAME)}</b>.</p>")
        out.append(_img(figures.get(f"case{i}-probabilities"), "class probabilities"))
        out.append(table([{"class": n, "probability": f"{p:.4f}"} for n, p in zip(c.class_names, c.probabilities)],
                         ["class", "probability"]))
        for j, m in enumerate(c.maps):
            colours = palette(m.explanation.method)[2]
            out.append(f"<h3>{e(m.title, NAME)}</h3>")
            out.append(f'<p class="small">Unit: {e(m.unit)}; {e(colours)}. {e(m.quality)}. '
                       f"Map SHA-256 <code>{e(m.fingerprint)}</code>.</p>")
            out.append(_img(figures.get(f"case{i}-map{j}"), e(f"{m.title} map", NAME)))
            if m.trust:
                out.append(table([{"metric": r.metric, "value": f"{r.value:.3g}",
                                   "verdict": verdict_word(r.verdict),
                                   "rule": r.threshold, "meaning": r.meaning} for r in m.trust],
                                 ["metric", "value", "verdict", "rule", "meaning"]))
        if c.series is not None:
            out.append(f"<h3>Every {e(c.series.plane)} slice of the study</h3><p>{e(c.series.summary())}</p>")
            for fig in _study_figures(report, c.series):
                out.append(_plotly(fig, library[0]))
                library[0] = False
            out.append('<p class="small">Every slice, most suspicious first:</p>')
            out.append(table(c.series.rows(), c.series.columns()))
        out.append("</section>")
    if not handout:
        out.append("<h2>Model card</h2>")
        for card in report.model_cards:
            out.append(table([{"field": k, "value": v} for k, v in card.items()], ["field", "value"]))
        out.append("<h2>Parameters</h2>")
        cols = list(report.parameters[0]) if report.parameters else []
        out.append(table(report.parameters, cols))
        out.append("<h2>Library versions</h2>")
        out.append(table([{"library": k, "version": v} for k, v in report.versions.items()], ["library", "version"]))
    out.append("<h2>Regenerate this report</h2><p>This command recomputes every map bit for bit "
               "(compare the map SHA-256 values):</p>")
    out.append(f"<pre>{e(report.command)}</pre>")
    if report.identifiers:
        out.append("<h2>Identifiers (included at the user's request)</h2>")
        out.append(table([{"attribute": k, "value": v} for k, v in report.identifiers.items()],
                         ["attribute", "value"]))
    out.append(f'<p class="disclaimer">{e(report.disclaimer)}</p></body></html>')
    return "\n".join(x for x in out if x)
