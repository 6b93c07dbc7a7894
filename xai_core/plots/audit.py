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


def _bars(fig, entries: list[dict], group: str, row: int, col: int, show_legend: bool) -> None:
    methods = list(dict.fromkeys(e["method"] for e in entries))
    for i, m in enumerate(methods):
        es = [e for e in entries if e["method"] == m and e["mean"] is not None]
        if not es:
            continue
        x = [str(e[group]) for e in es]
        y = np.array([e["mean"] for e in es])
        fig.add_trace(go.Bar(
            x=x, y=y, name=m, legendgroup=m, showlegend=show_legend, marker_color=PALETTE[i % len(PALETTE)],
            error_y=dict(type="data", symmetric=False, array=[e["hi"] - e["mean"] for e in es],
                         arrayminus=[e["mean"] - e["lo"] for e in es]),
            customdata=[[e["lo"], e["hi"], e["n"]] for e in es],
            hovertemplate=f"{m}<br>%{{x}}: mean %{{y:.3f}}<br>95% interval [%{{customdata[0]:.3f}}, "
                          "%{customdata[1]:.3f}]<br>n = %{customdata[2]}<extra></extra>"), row=row, col=col)


def grouped_figure(entries: list[dict], group: str, metrics: list[str], height: int = 320) -> go.Figure:
    """One panel per metric: the mean per ``group`` (metric, true class, outcome) and method, with
    bootstrap 95% intervals as error bars."""
    metrics = [m for m in metrics if any(e["metric"] == m for e in entries)] or metrics[:1]
    fig = make_subplots(rows=1, cols=max(1, len(metrics)), subplot_titles=metrics, horizontal_spacing=0.08)
    for j, metric in enumerate(metrics, start=1):
        _bars(fig, [e for e in entries if e["metric"] == metric], group, 1, j, j == 1)
        fig.update_yaxes(title_text=f"mean {metric}" if j == 1 else None, row=1, col=j)
    fig.update_layout(barmode="group", height=height, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=-0.2))
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
