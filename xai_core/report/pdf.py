"""The PDF writer (fpdf2: pure Python, no system package): lays out a ``Report``, decides nothing.

Text is set in DejaVu Sans, the TrueType font that ships inside
matplotlib, so every character the pages use (², σ, ×, −) prints and the
text stays extractable. Every string goes through ``Report.clean``.
"""

from __future__ import annotations

import io
from pathlib import Path

from ..metrics import verdict_word
from ..plots.base import palette
from ..untrusted import clip
from .content import Report
from .html import CELL, NAME


def _font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def _pdf_class():
    from fpdf import FPDF

    class _PDF(FPDF):
        footer_text = ""

        def footer(self):
            self.set_y(-12)
            self.set_font("Sans", "", 7)
            self.set_text_color(110)
            self.cell(0, 5, f"{self.footer_text}   page {self.page_no()}/{{nb}}", align="C")
            self.set_text_color(0)

    return _PDF


def _created(report: Report):
    import datetime as dt

    try:
        return dt.datetime.strptime(report.created, "%Y-%m-%d %H:%M UTC").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        return dt.datetime.now(dt.timezone.utc)


def _study(series, i: int, heading, para, image, table, width: float) -> None:
    """The study around the reported slice: the per-slice figure, then the most suspicious slices."""
    from .study import PDF_ROWS

    heading(f"Every {series.plane} slice of the study", 11)
    para(series.summary())
    image(f"case{i}-slices", width)
    rows, cols = series.rows(), series.columns()
    shown = rows[:PDF_ROWS] + [r for r in rows[PDF_ROWS:] if r["slice"].endswith("(reported)")]
    if len(shown) < len(rows):
        para(f"The {PDF_ROWS} most suspicious of {len(rows)} slices and the reported one; the HTML report lists "
             "every slice.", size=8)
    table(shown, cols, size=6.5 if len(cols) > 6 else None)


def to_pdf(report: Report, figures: dict[str, bytes]) -> bytes:
    t = report.clean
    pdf = _pdf_class()(format="A4")
    d = _font_dir()
    pdf.add_font("Sans", "", str(d / "DejaVuSans.ttf"))
    pdf.add_font("Sans", "B", str(d / "DejaVuSans-Bold.ttf"))
    pdf.add_font("Mono", "", str(d / "DejaVuSansMono.ttf"))
    pdf.footer_text = t(report.disclaimer)
    pdf.set_title(t(report.title))
    pdf.set_creator(f"xai_core {report.version}")
    pdf.set_creation_date(_created(report))  # the report's own time, not the moment of writing
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_page()
    width = pdf.epw
    handout = report.kind == "handout"
    body = 11 if handout else 9.5

    def heading(text, size=13, keep=30):
        # never a heading alone at the foot of a page: it starts the next page unless ``keep`` mm of what
        # follows it fit below it
        if pdf.will_page_break(size * 0.5 + 2 + keep):
            pdf.add_page()
        pdf.ln(2)
        pdf.set_font("Sans", "B", size)
        pdf.multi_cell(0, size * 0.5, clip(t(text), NAME), new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.set_font("Sans", "", body)

    def para(text, size=None, mono=False):
        pdf.set_font("Mono" if mono else "Sans", "", size or body)
        pdf.multi_cell(0, (size or body) * 0.48, t(text), new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.ln(1)
        pdf.set_font("Sans", "", body)

    def image(key, w):
        png = figures.get(key)
        if png:
            if pdf.will_page_break(w * 0.5):
                pdf.add_page()
            pdf.image(io.BytesIO(png), w=w)
            pdf.ln(1)

    def table(rows, cols, widths=None, size=None):
        pdf.set_font("Sans", "", size or body - 1)
        with pdf.table(col_widths=widths, text_align="LEFT", line_height=(size or body - 1) * 0.5) as tb:
            head = tb.row()
            for c in cols:
                head.cell(clip(t(c), NAME))
            for r in rows:
                row = tb.row()
                for c in cols:  # a cell taller than a page stops fpdf ("row too high"): cut long names
                    row.cell(clip(t(r.get(c, "")), CELL))
        pdf.ln(2)
        pdf.set_font("Sans", "", body)

    pdf.set_font("Sans", "B", 17)
    pdf.multi_cell(0, 8, t(report.title), new_x="LMARGIN", new_y="NEXT", align="L")
    para(f"{report.created} · xai_core {report.version}")
    pdf.set_font("Sans", "B", body)
    pdf.multi_cell(0, body * 0.5, t(report.disclaimer), new_x="LMARGIN", new_y="NEXT", align="L")
    para(report.privacy, size=body - 1.5)

    for h, text in report.notes:
        heading(h, 12)
        para(text)

    for i, c in enumerate(report.cases):
        heading(f"{c.model_name} on {c.scan.source}")
        image(f"case{i}-scan", min(width, 65 * (2 if c.scan.original is not None else 1)))
        facts = [f"Scan: {c.scan.source}, SHA-256 {c.scan.sha256}"]
        if c.scan.window is not None:
            facts.append(f"Original shown with {c.scan.window_text()}.")
        if c.scan.dicom:
            dm = c.scan.dicom
            facts.append(f"DICOM {dm.get('modality', '')}, {dm.get('photometric', '')}, "
                         f"rescale ×{dm.get('rescale', (1, 0))[0]:g} {dm.get('rescale', (1, 0))[1]:+g}.")
            if dm.get("slice"):
                facts.append(f"{str(dm.get('plane', '')).capitalize()} slice {dm['slice']} of {dm.get('slices')} "
                             f"of the study.")
        if c.scan.true_class:
            facts.append(f"True class: {clip(c.scan.true_class, NAME)}.")
        para(" ".join(facts), size=body - 1)
        # the verdict first: it qualifies the answer below it
        heading("Out-of-domain check", 11)
        para(c.verdict.text)
        heading("Prediction", 11)
        para(f"{clip(c.model_name, NAME)} predicts {clip(c.predicted_words, NAME)}.")
        table([{"class": n, "probability": f"{p:.4f}"} for n, p in zip(c.class_names, c.probabilities)],
              ["class", "probability"], widths=(3, 1))
        for j, m in enumerate(c.maps):
            heading(m.title, 11)
            colours = palette(m.explanation.method)[2].capitalize()
            para(f"Unit: {m.unit}. {colours}. {m.quality}. Map SHA-256 {m.fingerprint}.", size=body - 1)
            image(f"case{i}-map{j}", width)
            if m.trust:
                table([{"metric": r.metric, "value": f"{r.value:.3g}",
                        "verdict": verdict_word(r.verdict),
                        "rule": r.threshold, "meaning": r.meaning} for r in m.trust],
                      ["metric", "value", "verdict", "rule", "meaning"], widths=(2, 1, 1, 2, 4))
        if c.series is not None:
            _study(c.series, i, heading, para, image, table, width)

    if not handout:
        heading("Model card")
        for card in report.model_cards:
            table([{"field": k, "value": v} for k, v in card.items()], ["field", "value"], widths=(1, 3))
        heading("Parameters")
        for r in report.parameters:
            para("; ".join(f"{k}: {v}" for k, v in r.items()), size=body - 2)
        heading("Library versions")
        para(", ".join(f"{k} {v}" for k, v in report.versions.items()), size=body - 1)
    heading("Regenerate this report")
    para("This command recomputes every map bit for bit (compare the map SHA-256 values):", size=body - 1)
    para(report.command, size=8, mono=True)
    if report.identifiers:
        heading("Identifiers (included at the user's request)")
        table([{"attribute": k, "value": v} for k, v in report.identifiers.items()], ["attribute", "value"],
              widths=(1, 2))
    # the closing disclaimer, unless it would make a last page of its own: every page's footer carries it
    closing = pdf.multi_cell(0, body * 0.48, t(report.disclaimer), dry_run=True, output="HEIGHT") + 12
    if not pdf.will_page_break(closing):
        heading("Disclaimer", 11, keep=0)
        para(report.disclaimer)
    return bytes(pdf.output())
