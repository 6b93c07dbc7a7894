"""Figures for the methods-side-by-side view: one map per method, and their rank agreement."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .base import FAINT_OPACITY, SHAP_COLORSCALE, _rgb, symmetric_limit


def method_map_figure(image: np.ndarray | None, m: np.ndarray, label: str, title: str,
                      vmax: float | None = None, height: int = 260, says_nothing: bool = False) -> go.Figure:
    """One map over the scan with its own symmetric colour bar labelled ``label`` (the method's unit).

    ``says_nothing`` (``plots.faint``): the map is drawn faintly and its title says so, never at full colour."""
    vmax = symmetric_limit(m) if vmax is None else float(vmax)
    if says_nothing:
        title += " · says nothing"
    fig = go.Figure()
    if image is not None:
        fig.add_trace(go.Image(z=_rgb(image), hoverinfo="skip", opacity=0.85))
    fig.add_trace(go.Heatmap(z=m, coloraxis="coloraxis", opacity=FAINT_OPACITY if says_nothing else 1.0,
                             hovertemplate=f"x %{{x}}, y %{{y}}<br>%{{z:.4g}} {label}<extra></extra>"))
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, autorange="reversed",
                     scaleanchor="x", constrain="domain")
    fig.update_layout(title=dict(text=title, font_size=13), height=height, margin=dict(l=0, r=0, t=32, b=0),
                      coloraxis=dict(colorscale=SHAP_COLORSCALE, cmin=-vmax, cmax=vmax, cmid=0,
                                     colorbar=dict(title=dict(text=label.replace(" (", "<br>("), side="right",
                                                              font_size=10), thickness=10)))
    return fig


def agreement_figure(matrix, height: int = 420) -> go.Figure:
    """The Spearman matrix as a heatmap: 1 = same pixel order, 0 = unrelated, -1 = reversed."""
    names = list(matrix.index)
    z = matrix.to_numpy()
    fig = go.Figure(go.Heatmap(
        z=z, x=names, y=names, zmin=-1, zmax=1, colorscale="RdBu", reversescale=True,
        text=[[("—" if np.isnan(v) else f"{v:.2f}") for v in row] for row in z], texttemplate="%{text}",
        hovertemplate="%{y} vs %{x}: Spearman %{z:.3f}<extra></extra>",
        colorbar=dict(title=dict(text="Spearman ρ", side="right"), thickness=12)))
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10))
    return fig
