"""Model-report figures: training curves, feature maps, and the models-by-images SHAP grid."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .base import FAINT_OPACITY, SHAP_COLORSCALE, UNITS, _rgb, symmetric_limit


def curves_figure(history: dict, height: int = 300) -> go.Figure:
    """Loss and accuracy per epoch, training and validation, side by side."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("loss", "accuracy"), horizontal_spacing=0.08)
    styles = {"": ("training", "#1f77b4", "solid"), "val_": ("validation", "#ff7f0e", "dash")}
    for col, metric in enumerate(("loss", "accuracy"), start=1):
        for prefix, (label, colour, dash) in styles.items():
            ys = history.get(prefix + metric) or []
            if ys:
                fig.add_trace(go.Scatter(
                    x=list(range(1, len(ys) + 1)), y=ys, mode="lines+markers", name=label, legendgroup=label,
                    showlegend=col == 1, line=dict(color=colour, dash=dash),
                    hovertemplate=f"epoch %{{x}}<br>{label} {metric} %{{y:.4f}}<extra></extra>"), row=1, col=col)
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(title_text="cross-entropy", row=1, col=1)
    fig.update_yaxes(title_text="accuracy", tickformat=".0%", row=1, col=2)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.25))
    return fig


def feature_maps_figure(maps: np.ndarray, layer: str, max_channels: int = 16, cols: int = 8,
                        height_per_row: int = 110) -> go.Figure:
    """The first ``max_channels`` channels of one layer's (H, W, C) activations, on one shared scale."""
    maps = np.asarray(maps, np.float64)
    n = min(max_channels, maps.shape[-1])
    cols = min(cols, n)
    rows = int(np.ceil(n / cols))
    fig = make_subplots(rows=rows, cols=cols, horizontal_spacing=0.01, vertical_spacing=0.03,
                        subplot_titles=[f"ch {i}" for i in range(n)])
    lo, hi = float(maps[..., :n].min()), float(maps[..., :n].max())
    for i in range(n):
        fig.add_trace(go.Heatmap(z=maps[..., i], coloraxis="coloraxis",
                                 hovertemplate=f"{layer} ch {i}<br>x %{{x}}, y %{{y}}<br>"
                                               f"activation %{{z:.4g}}<extra></extra>"),
                      row=i // cols + 1, col=i % cols + 1)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, autorange="reversed")
    fig.update_annotations(font_size=9)
    fig.update_layout(height=40 + rows * height_per_row, margin=dict(l=0, r=0, t=25, b=0),
                      coloraxis=dict(colorscale="Viridis", cmin=lo, cmax=hi if hi > lo else lo + 1,
                                     colorbar=dict(title=dict(text="activation", side="right"), thickness=12)))
    return fig


def compare_grid_figure(cells: list[list[dict]], row_titles: list[str], output_space: str,
                        vmax: float | None = None, height_per_row: int = 320, label: str | None = None) -> go.Figure:
    """Models (rows) by images (columns). Each cell is ``{"map": (H, W), "image": (H, W, C), "title": str}``
    and optionally ``"says_nothing": True`` (drawn faintly, ``plots.faint``); one symmetric colour scale for
    the whole grid, so every map is read the same way."""
    n_rows, n_cols = len(cells), max(len(r) for r in cells)
    maps = np.stack([c["map"] for r in cells for c in r])
    vmax = symmetric_limit(maps) if vmax is None else float(vmax)
    label = label or f"SHAP value ({UNITS.get(output_space, output_space)})"  # the explainer's unit, if given
    titles = [c["title"] for r in cells for c in r]
    fig = make_subplots(rows=n_rows, cols=n_cols, subplot_titles=titles, horizontal_spacing=0.015,
                        vertical_spacing=0.06 if n_rows > 1 else 0.02, row_titles=row_titles)
    for i, row in enumerate(cells):
        for j, c in enumerate(row):
            fig.add_trace(go.Image(z=_rgb(c["image"]), hoverinfo="skip", opacity=0.85), row=i + 1, col=j + 1)
            fig.add_trace(go.Heatmap(z=c["map"], coloraxis="coloraxis",
                                     opacity=FAINT_OPACITY if c.get("says_nothing") else 1.0, hovertemplate=(
                f"<b>{row_titles[i]}</b><br>x %{{x}}, y %{{y}}<br>%{{z:.4g}} {label}<extra></extra>")),
                row=i + 1, col=j + 1)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, autorange="reversed")
    for k in range(1, n_rows * n_cols + 1):
        fig.update_yaxes(scaleanchor=f"x{k if k > 1 else ''}", row=(k - 1) // n_cols + 1, col=(k - 1) % n_cols + 1)
    fig.update_annotations(font_size=12)
    fig.update_layout(height=40 + n_rows * height_per_row, margin=dict(l=10, r=40, t=48, b=10),
                      coloraxis=dict(colorscale=SHAP_COLORSCALE, cmin=-vmax, cmax=vmax, cmid=0,
                                     colorbar=dict(title=dict(text=label.replace(" (", "<br>("), side="right"),
                                                   thickness=14)))
    return fig
