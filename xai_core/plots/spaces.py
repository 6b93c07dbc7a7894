"""Margin and probability maps of the same classes, side by side per class (thesis figs. 4.19 to 4.21).

The SHAP page's headline: for each class, its margin (logit) map and its probability map next to each
other, so the two readings of one class are compared at a glance, two classes a row. Each space keeps
its own symmetric colour scale (logits and probabilities are different units) with its own colour bar.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..explanation import Explanation
from .base import SHAP_COLORSCALE, _rgb, approximate_note, symmetric_limit, value_label


def spaces_figure(margin: Explanation, probability: Explanation, probabilities: np.ndarray | None = None,
                  classes_per_row: int = 2, panel_height: int = 170, absolute: bool = False) -> go.Figure:
    """Per class a (margin, probability) pair of maps, ``classes_per_row`` pairs a row."""
    from ..magnitude import colour_limit

    k = min(len(margin.class_names), len(probability.class_names))
    per_row = max(1, min(classes_per_row, k))
    rows = int(np.ceil(k / per_row))
    titles = []
    for i in range(k):
        p = f" (p={probabilities[margin.class_indices[i]]:.0%})" if probabilities is not None else ""
        titles += [f"{margin.class_names[i]}{p}: margin{approximate_note(margin, True)}",
                   f"{margin.class_names[i]}: probability{approximate_note(probability, True)}"]
    fig = make_subplots(rows=rows, cols=2 * per_row, subplot_titles=titles, horizontal_spacing=0.02,
                        vertical_spacing=0.1 if rows > 1 else 0.02)
    limits = {}
    for axis, e in (("coloraxis", margin), ("coloraxis2", probability)):
        maps = e.maps()[:k]
        limits[axis] = colour_limit(e, symmetric_limit(maps), absolute)
    bg_m = _rgb(margin.image) if margin.image is not None else None
    for i in range(k):
        for j, (axis, e) in enumerate((("coloraxis", margin), ("coloraxis2", probability))):
            r, c = i // per_row + 1, 2 * (i % per_row) + j + 1
            if bg_m is not None:
                fig.add_trace(go.Image(z=bg_m, hoverinfo="skip", opacity=0.85), row=r, col=c)
            fig.add_trace(go.Heatmap(
                z=e.map(i), coloraxis=axis,
                hovertemplate=(f"<b>{e.class_names[i]}, {e.output_space}</b><br>x %{{x}}, y %{{y}}<br>"
                               f"%{{z:.4g}} {value_label(e)}<extra></extra>")), row=r, col=c)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, autorange="reversed",
                     scaleanchor="x", constrain="domain")
    for n in range(2, 2 * per_row * rows + 1):
        fig.update_yaxes(scaleanchor=f"x{n}", row=(n - 1) // (2 * per_row) + 1, col=(n - 1) % (2 * per_row) + 1)
    fig.update_annotations(font=dict(size=13, color="#111"))  # dark enough for a projector
    bar = dict(thickness=12, len=0.9, y=0.5, yanchor="middle", tickfont=dict(size=12, color="#222"))
    fig.update_layout(
        height=panel_height * rows + 40, margin=dict(l=0, r=0, t=28, b=0),
        coloraxis=dict(colorscale=SHAP_COLORSCALE, cmin=-limits["coloraxis"], cmax=limits["coloraxis"], cmid=0,
                       colorbar=dict(title=dict(text="margin<br>(logit)", side="right", font=dict(color="#111")), x=1.0, **bar)),
        coloraxis2=dict(colorscale=SHAP_COLORSCALE, cmin=-limits["coloraxis2"], cmax=limits["coloraxis2"], cmid=0,
                        colorbar=dict(title=dict(text="probability", side="right", font=dict(color="#111")), x=1.09, **bar)))
    return fig
