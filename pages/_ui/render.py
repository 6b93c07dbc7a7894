"""Renderers shared by the pages: explanation rows, tables, downloads, errors."""

from __future__ import annotations

import contextlib

import pandas as pd
import streamlit as st

import xai_core as xc
from xai_core import plots


@contextlib.contextmanager
def user_errors(what: str = "This step"):
    """Turn an XAIError into one plain sentence; the rest of the page keeps working."""
    try:
        yield
    except xc.XAIError as exc:
        st.error(f"{what} could not be completed: {exc}")
    except Exception as exc:  # a bug: still one sentence, no traceback for the user
        st.error(f"{what} failed unexpectedly ({type(exc).__name__}). Please try other settings or report this.")


def npz_bytes(expl: xc.Explanation) -> bytes:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        p = expl.save(Path(d) / "explanation.npz")
        return p.read_bytes()


def additivity_frame(*expls: xc.Explanation) -> pd.DataFrame:
    rows = []
    for e in expls:
        for r in e.additivity_rows():
            rows.append({"space": e.output_space, **r})
    return pd.DataFrame(rows)


def explanation_row(expl: xc.Explanation, probabilities=None, key: str = "", title: str | None = None,
                    absolute: bool = False):
    """The maps of one explanation in a row, then one sentence per map that says nothing."""
    from xai_core.magnitude import negligible_message

    fig = plots.explanation_figure(expl, probabilities=probabilities, title=title, absolute=absolute)
    st.plotly_chart(fig, width="stretch", key=f"fig_{key}")
    for k in range(len(expl.class_names)):
        msg = negligible_message(expl, k)
        if msg:
            st.info(msg, icon=":material/blur_off:")
    return fig


def absolute_scale_toggle(key: str) -> bool:
    from xai_core.magnitude import ABSOLUTE_SHARE

    return st.toggle("Absolute colour scale", key=key,
                     help=f"Full colour means one pixel carries {ABSOLUTE_SHARE:g}x its even share of a whole "
                          "unit of output (1 probability, or 1 logit), the same on every map, so faint evidence "
                          "looks faint. Off: each row is scaled to its own largest values.")


def export_html(title: str, settings: dict, table: pd.DataFrame, fig=None) -> str:
    """A self-contained HTML export that describes itself: a title, every setting, the figure, the table."""
    import html

    rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                   for k, v in settings.items())
    figure = fig.to_html(include_plotlyjs=True, full_html=False) if fig is not None else ""
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
            "th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><h2>Settings</h2><table>{rows}</table>"
            f"<h2>Grid</h2>{figure}<h2>Table</h2>{table.to_html(index=False, na_rep='')}</body></html>")
