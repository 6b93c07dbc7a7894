"""Cross-domain figures: the label-by-prediction matrix, overlaid distributions, and map grids."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..explanation import Explanation
from .base import FAINT_NOTE, FAINT_OPACITY, SHAP_COLORSCALE, _rgb, approximate_note, faint, symmetric_limit, value_label


def confusion_figure(matrix: pd.DataFrame, normalise: bool = False, height: int = 320) -> go.Figure:
    """Target label (rows) by predicted source class (columns): counts, or shares of each row."""
    counts = matrix.to_numpy(float)
    z = counts / np.maximum(counts.sum(1, keepdims=True), 1) if normalise else counts
    text = [[f"{v:.0%}" if normalise else f"{int(v)}" for v in row] for row in z]
    fig = go.Figure(go.Heatmap(
        z=z, x=[str(c) for c in matrix.columns], y=[str(r) for r in matrix.index], text=text,
        texttemplate="%{text}", colorscale="Blues", zmin=0, zmax=1 if normalise else None,
        customdata=counts, colorbar=dict(title="share of row" if normalise else "images"),
        hovertemplate="actual %{y}<br>predicted %{x}<br>%{customdata:.0f} images<extra></extra>"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10),
                      xaxis_title=matrix.columns.name, yaxis_title=matrix.index.name,
                      yaxis=dict(autorange="reversed"))
    return fig


def distributions_figure(series: dict[str, np.ndarray], title: str, threshold: float | None = None,
                         height: int = 280, nbins: int = 40, xaxis_title: str | None = None,
                         zero_note: str | None = None) -> go.Figure:
    """Overlaid, normalised histograms (e.g. source test vs target), with an optional threshold line."""
    fig = go.Figure()
    finite = [np.asarray(v, float)[np.isfinite(v)] for v in series.values()]
    lo = min((f.min() for f in finite if len(f)), default=0.0)
    hi = max((f.max() for f in finite if len(f)), default=1.0)
    size = (hi - lo) / nbins or 1.0
    for (name, values), f in zip(series.items(), finite):
        fig.add_trace(go.Histogram(x=f, name=f"{name} (n={len(f)})", opacity=0.6, histnorm="percent",
                                   xbins=dict(start=lo, end=hi + size, size=size),
                                   hovertemplate=f"{name}<br>%{{x}}: %{{y:.1f}}% of images<extra></extra>"))
    if threshold is not None:
        fig.add_vline(x=threshold, line_dash="dash", line_color="#d62728",
                      annotation_text="threshold (95th pct of source validation)", annotation_position="top")
    if zero_note:  # e.g. a standardised score: 0 is the typical training image, below 0 more typical still
        fig.add_vline(x=0, line_dash="dot", line_color="#7f8c8d", annotation_text=zero_note,
                      annotation_position="bottom left")
    fig.update_layout(barmode="overlay", height=height, margin=dict(l=10, r=10, t=40, b=10), title=title,
                      yaxis_title="% of images", xaxis_title=xaxis_title, legend=dict(orientation="h", y=-0.35))
    return fig


def panels_figure(rows: list[list[tuple[Explanation, int, str]]], row_titles: list[str] | None = None,
                  height_per_row: int = 260) -> go.Figure:
    """Grid of single-class maps (explanation, position of the class in it, panel title) on one shared
    symmetric colour scale, so maps from different images and domains can be compared."""
    cols = max(len(r) for r in rows)
    titles = [t + (FAINT_NOTE if e is not None and faint(e, k) else "") + approximate_note(e)
              for r in rows for e, k, t in r + [(None, 0, "")] * (cols - len(r))]
    fig = make_subplots(rows=len(rows), cols=cols, subplot_titles=titles, horizontal_spacing=0.02,
                        vertical_spacing=0.18, row_titles=row_titles)
    maps = [e.map(k) for r in rows for e, k, _ in r]
    vmax = symmetric_limit(np.stack(maps)) if maps else 1.0
    first = rows[0][0][0]
    label = value_label(first)
    n = 0
    for i, r in enumerate(rows):
        for j, (e, k, _) in enumerate(r):
            n += 1
            if e.image is not None:
                fig.add_trace(go.Image(z=_rgb(e.image), hoverinfo="skip", opacity=0.85), row=i + 1, col=j + 1)
            fig.add_trace(go.Heatmap(z=e.map(k), coloraxis="coloraxis",
                                     opacity=FAINT_OPACITY if faint(e, k) else 1.0, hovertemplate=(
                f"<b>{e.class_names[k]}</b><br>x %{{x}}, y %{{y}}<br>%{{z:.4g}} {label}<extra></extra>")),
                row=i + 1, col=j + 1)
            if n > 1:
                fig.update_yaxes(scaleanchor=f"x{n}", row=i + 1, col=j + 1)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, autorange="reversed", constrain="domain")
    fig.update_yaxes(scaleanchor="x", row=1, col=1)
    fig.update_annotations(font_size=12)  # titles of three lines (name, class, probability) stay apart
    fig.update_layout(height=len(rows) * height_per_row + 40, margin=dict(l=10, r=40, t=70, b=10),
                      coloraxis=dict(colorscale=SHAP_COLORSCALE, cmin=-vmax, cmax=vmax, cmid=0,
                                     colorbar=dict(title=dict(text=label.replace(" (", "<br>("), side="right"),
                                                   thickness=14)))
    return fig
