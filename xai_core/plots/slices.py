"""Figures for a study explained slice by slice: class probabilities and out-of-domain score per slice."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..untrusted import plotly_literal


def slice_scores_figure(scores, current: int | None = None, height: int = 300,
                        current_label: str | None = None) -> go.Figure:
    """Probability of every class along the slices (left axis) and the out-of-domain score (right axis,
    dotted, with the model's threshold when given); ``current`` (0-based) marks the slice on screen, with
    ``current_label`` written beside the mark."""
    order = np.argsort(scores.indices)
    x = scores.indices[order] + 1
    fig = make_subplots(specs=[[{"secondary_y": scores.ood_scores is not None}]])
    for k, name in enumerate(scores.class_names):
        name = plotly_literal(name)  # a class name from a user's model is text, never markup or a template
        fig.add_trace(go.Scatter(x=x, y=scores.probabilities[order, k], name=f"p({name})", mode="lines+markers",
                                 marker_size=5, hovertemplate=f"slice %{{x}}<br>p({name}) = %{{y:.3f}}<extra></extra>"))
    if scores.ood_scores is not None:
        fig.add_trace(go.Scatter(x=x, y=scores.ood_scores[order], name="out-of-domain score", mode="lines",
                                 line=dict(dash="dot", color="#555"),
                                 hovertemplate="slice %{x}<br>out-of-domain score %{y:.3g}<extra></extra>"),
                      secondary_y=True)
        flagged = scores.ood_flags[order]
        if flagged.any():
            fig.add_trace(go.Scatter(x=x[flagged], y=scores.ood_scores[order][flagged], mode="markers",
                                     name="out of domain", marker=dict(symbol="x", size=9, color="#b00"),
                                     hovertemplate="slice %{x}: out of domain<extra></extra>"), secondary_y=True)
        fig.update_yaxes(title_text="out-of-domain score", secondary_y=True)
    if current is not None:
        fig.add_vline(x=int(current) + 1, line=dict(color="#888", width=1, dash="dash" if current_label else None),
                      annotation_text=current_label, annotation_font_size=11)
    fig.update_yaxes(title_text="probability", range=[0, 1], secondary_y=False)
    fig.update_xaxes(title_text="slice (numbered from 1)")
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), legend=dict(orientation="h", y=-0.3),
                      hovermode="x unified")
    return fig
