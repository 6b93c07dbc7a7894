"""Audit figures: the methods x metrics leaderboard, breakdowns by group, and distributions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")


def leaderboard_table(summary: dict) -> pd.DataFrame:
    """Methods as rows, metrics as columns: 'mean [lo, hi]' with the number of scored rows."""
    rows = {}
    for e in summary.get("overall", []):
        cell = "n/a" if e["mean"] is None else f"{e['mean']:.3f} [{e['lo']:.3f}, {e['hi']:.3f}] (n={e['n']})"
        rows.setdefault(e["method"], {})[e["metric"]] = cell
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.index.name = "method"
    return df.reset_index()


def _wrap(text, width: int) -> str:
    """Break ``text`` after spaces or hyphens into lines of at most about ``width`` characters (Plotly's <br>),
    so long metric and class names are shown whole instead of running into their neighbours or being cut."""
    import re

    lines = [""]
    for word in re.findall(r"[^\s-]+-?|\s", str(text)):
        if lines[-1].strip() and len(lines[-1]) + len(word) > width:
            lines.append("")
        lines[-1] += word
    return "<br>".join(line.strip() for line in lines)


def _bars(fig, entries: list[dict], group: str, row: int, col: int, shown: set, colours: dict) -> None:
    """One bar trace per method; each method enters the legend once, at its first facet with a value."""
    for m in dict.fromkeys(e["method"] for e in entries):
        es = [e for e in entries if e["method"] == m and e["mean"] is not None]
        if not es:
            continue
        x = [_wrap(e[group], 14) for e in es]
        y = np.array([e["mean"] for e in es])
        colour = colours.setdefault(m, PALETTE[len(colours) % len(PALETTE)])
        fig.add_trace(go.Bar(
            x=x, y=y, name=m, legendgroup=m, showlegend=m not in shown, marker_color=colour,
            error_y=dict(type="data", symmetric=False, array=[e["hi"] - e["mean"] for e in es],
                         arrayminus=[e["mean"] - e["lo"] for e in es]),
            customdata=[[e["lo"], e["hi"], e["n"], str(e[group])] for e in es],
            hovertemplate=f"{m}<br>%{{customdata[3]}}: mean %{{y:.3f}}<br>95% interval [%{{customdata[0]:.3f}}, "
                          "%{customdata[1]:.3f}]<br>n = %{customdata[2]}<extra></extra>"), row=row, col=col)
        shown.add(m)


def grouped_figure(entries: list[dict], group: str, metrics: list[str], height: int = 300,
                   columns: int = 3) -> go.Figure:
    """One panel per metric, at most ``columns`` a row: the mean per ``group`` (metric, true class, outcome)
    and method, with bootstrap 95% intervals as error bars. Each panel's own y axis says which metric's
    mean it shows; the legend names every method once."""
    metrics = [m for m in metrics if any(e["metric"] == m for e in entries)] or metrics[:1]
    cols = max(1, min(columns, len(metrics)))
    rows = int(np.ceil(len(metrics) / cols)) or 1
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[_wrap(m, 22) for m in metrics],
                        horizontal_spacing=0.12, vertical_spacing=0.3 / rows + 0.1)
    shown: set = set()
    colours: dict = {}
    for j, metric in enumerate(metrics):
        r, c = j // cols + 1, j % cols + 1
        _bars(fig, [e for e in entries if e["metric"] == metric], group, r, c, shown, colours)
        fig.update_yaxes(title_text=_wrap(f"mean {metric}", 22), title_font_size=11, row=r, col=c)
    fig.update_xaxes(automargin=True, tickfont_size=11)
    fig.update_yaxes(automargin=True)
    fig.update_annotations(font_size=13)
    fig.update_layout(barmode="group", height=height * rows, margin=dict(l=10, r=10, t=50, b=10),
                      legend=dict(title="method"))
    return fig


def distribution_figure(rows: pd.DataFrame, metric: str, height: int = 300) -> go.Figure:
    """Every row's value of one metric, one box (with the points) per method and true class."""
    fig = go.Figure()
    ok = rows[rows[metric].notna()] if metric in rows else rows.iloc[:0]
    for i, (method, g) in enumerate(ok.groupby("method", sort=False)):
        fig.add_trace(go.Box(
            x=g["true_class"].astype(str), y=g[metric], name=method, boxpoints="all", jitter=0.4, pointpos=0,
            marker=dict(color=PALETTE[i % len(PALETTE)], size=5), customdata=g[["image_id"]].to_numpy(),
            hovertemplate=f"{method}<br>%{{customdata[0]}}<br>{metric} %{{y:.3f}}<extra></extra>"))
    fig.update_layout(boxmode="group", height=height, margin=dict(l=10, r=10, t=30, b=10),
                      yaxis_title=metric, xaxis_title="true class", legend=dict(orientation="h", y=-0.25))
    return fig
