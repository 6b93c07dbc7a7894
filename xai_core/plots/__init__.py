"""Results in, Plotly figures out. Nothing here draws on global state.

Colour convention (shap's): red raises the class score, blue lowers it.
Scales are symmetric around zero and shared by every panel of a figure, so
panels can be compared; colour bars carry the explainer's declared unit
(``Explainer.unit``, kept in ``Explanation.info['unit']``).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..explanation import Explanation
from ..untrusted import plotly_literal
from .base import (FAINT_OPACITY, SHAP_COLORSCALE, UNITS, _rgb, approximate_note, faint, symmetric_limit,  # noqa: F401
                   value_label)
from .domain import confusion_figure, distributions_figure, panels_figure  # noqa: F401
from .methods import agreement_figure, method_map_figure  # noqa: F401
from .lime import pro_con_figure, segmentation_figure, spread_figure  # noqa: F401
from .report import compare_grid_figure, curves_figure, feature_maps_figure  # noqa: F401
from .spaces import spaces_figure  # noqa: F401


def explanation_figure(expl: Explanation, vmax: float | None = None, title: str | None = None,
                       probabilities: np.ndarray | None = None, height: int = 380,
                       absolute: bool = False) -> go.Figure:
    """One panel per explained class: the map over the image, one shared symmetric colour bar in the
    explainer's unit.

    ``absolute`` draws on the absolute scale of ``xai_core.magnitude``; without it the limit is the
    maps' own, except that maps which are all negligible are never stretched to full colour."""
    from ..magnitude import colour_limit, negligible

    maps = expl.maps()
    k = len(maps)
    vmax = colour_limit(expl, symmetric_limit(maps), absolute) if vmax is None else float(vmax)
    label = value_label(expl)
    small = negligible(expl)
    titles = []
    for i, name in enumerate(expl.class_names):
        extra = f" · p={probabilities[expl.class_indices[i]]:.1%}" if probabilities is not None else ""
        titles.append(f"{plotly_literal(name)}{extra}" + ("<br><sup>negligible: says nothing</sup>" if small[i] else "")
                      + approximate_note(expl))
    # at most 3 panels a row (4 classes: 2 x 2), so each map stays readable (about 300 px or more)
    cols = k if k <= 3 else int(np.ceil(k / 2))
    rows = int(np.ceil(k / cols))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, horizontal_spacing=0.03,
                        vertical_spacing=0.12 if rows > 1 else 0.02)
    bg = _rgb(expl.image) if expl.image is not None else None
    for i in range(k):
        r, c = i // cols + 1, i % cols + 1
        if bg is not None:
            fig.add_trace(go.Image(z=bg, hoverinfo="skip", opacity=0.85), row=r, col=c)
        fig.add_trace(go.Heatmap(
            z=maps[i], coloraxis="coloraxis", opacity=FAINT_OPACITY if small[i] else 1.0,
            hovertemplate=(f"<b>{plotly_literal(expl.class_names[i])}</b><br>x %{{x}}, y %{{y}}<br>"
                           f"%{{z:.4g}} {label}<extra></extra>")), row=r, col=c)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, autorange="reversed",
                     scaleanchor="x", constrain="domain")
    for i in range(2, k + 1):
        fig.update_yaxes(scaleanchor=f"x{i}", row=(i - 1) // cols + 1, col=(i - 1) % cols + 1)
    height = height * rows
    fig.update_layout(
        title=title, height=height, margin=dict(l=10, r=10, t=60 if title else 40, b=10),
        coloraxis=dict(colorscale=SHAP_COLORSCALE, cmin=-vmax, cmax=vmax, cmid=0,
                       colorbar=dict(title=dict(text=_wrap(label), side="right"),
                                     thickness=14)))
    return fig


def _wrap(label: str) -> str:
    """A colour-bar title on two lines: the name, then the unit in brackets."""
    head, sep, tail = label.partition(" (")
    return f"{head}<br>({tail}" if sep else label


def probability_figure(probabilities: np.ndarray, class_names, highlight: int | None = None,
                       height: int = 220) -> go.Figure:
    """Horizontal bars of the model's class probabilities."""
    p = np.asarray(probabilities, np.float64)
    order = np.argsort(p)
    colors = ["#ff0d57" if highlight is not None and i == highlight else "#7f8c8d" for i in order]
    # positions on the axis and the names as tick text: two names cut alike stay two bars
    fig = go.Figure(go.Bar(
        x=p[order], y=list(range(len(order))), orientation="h", marker_color=colors,
        customdata=[plotly_literal(class_names[i]) for i in order],
        text=[f"{v:.1%}" for v in p[order]], textposition="auto",
        hovertemplate="%{customdata}: %{x:.4f}<extra></extra>"))
    # ticks every 25% up to 100%, with room on the right so the last label is never cut off
    fig.update_layout(height=height, margin=dict(l=10, r=30, t=10, b=10),
                      xaxis=dict(range=[0, 1.0], tickvals=[0, 0.25, 0.5, 0.75, 1.0], tickformat=".0%",
                                 title="probability"),
                      yaxis=dict(tickvals=list(range(len(order))),
                                 ticktext=[plotly_literal(class_names[i]) for i in order]))
    return fig


def image_figure(image: np.ndarray, title: str | None = None, height: int = 260) -> go.Figure:
    fig = go.Figure(go.Image(z=_rgb(image), hovertemplate="x %{x}, y %{y}<extra></extra>"))
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False, scaleanchor="x")
    fig.update_layout(title=title, height=height, margin=dict(l=0, r=0, t=30 if title else 0, b=0))
    return fig
