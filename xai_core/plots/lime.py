"""LIME figures: segmentations, pro/con superpixels, "hide the rest", weight spread.

Pro/con colours follow lime's and the thesis's figures (green supports the
class, red speaks against it). Weight maps that are compared share one
symmetric colour scale, labelled in the output space's unit.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..explanation import Explanation
from ..segmenters import segment_stats
from .base import (FAINT_OPACITY, PRO_CON_COLORSCALE, UNITS, _rgb, approximate_note,  # noqa: F401  (PRO_CON re-exported)
                   faint)
SPREAD_COLORSCALE = "Viridis"


def _grid(n: int, cols: int, titles: list[str], height_per_row: int):
    rows = -(-n // cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, horizontal_spacing=0.02,
                        vertical_spacing=0.08)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, autorange="reversed",
                     scaleanchor="x", constrain="domain")
    for i in range(2, n + 1):
        fig.update_yaxes(scaleanchor=f"x{i}", row=(i - 1) // cols + 1, col=(i - 1) % cols + 1)
    fig.update_layout(height=rows * height_per_row + 40, margin=dict(l=10, r=10, t=50, b=10))
    return fig, [((i // cols) + 1, (i % cols) + 1) for i in range(n)]


def boundaries(image: np.ndarray, segments: np.ndarray) -> np.ndarray:
    from skimage.segmentation import mark_boundaries

    return (mark_boundaries(_rgb(image) / 255.0, segments, color=(1, 0.85, 0), mode="inner") * 255).astype(np.uint8)


def segmentation_figure(image: np.ndarray, segmentations: dict[str, np.ndarray], cols: int = 3,
                        height_per_row: int = 340) -> go.Figure:
    """Each segmenter's boundaries over the image; the title gives the count and size spread."""
    titles = []
    for name, seg in segmentations.items():
        s = segment_stats(seg)
        titles.append(f"{name}: {s['segments']} segments<br><sup>median {s['median_px']:.0f} px, "
                      f"largest {s['largest_share']:.0%} of the image</sup>")
    fig, cells = _grid(len(segmentations), cols, titles, height_per_row)
    for (row, col), (name, seg) in zip(cells, segmentations.items()):
        fig.add_trace(go.Image(z=boundaries(image, seg), hoverinfo="skip"), row=row, col=col)
        sizes = np.bincount(seg.ravel())
        fig.add_trace(go.Heatmap(z=seg, customdata=sizes[seg], showscale=False, opacity=0.0,
                                 colorscale="Greys",
                                 hovertemplate=(f"<b>{name}</b><br>segment %{{z}}<br>%{{customdata}} px"
                                                "<extra></extra>")), row=row, col=col)
    return fig


def class_position(expl: Explanation, class_index: int) -> int:
    hits = np.flatnonzero(expl.class_indices == class_index)
    if not len(hits):
        raise ValueError(f"class {class_index} was not explained")
    return int(hits[0])


def pro_con(weights: np.ndarray, top: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``top`` superpixels with the largest positive and the largest negative weights."""
    order = np.argsort(-weights, kind="stable")
    pro = [i for i in order[:top] if weights[i] > 0]
    con = [i for i in order[::-1][:top] if weights[i] < 0]
    return np.array(pro, np.int64), np.array(con, np.int64)


def lime_weight_limit(expls, class_index: int) -> float:
    w = [np.abs(e.extras["weights"][class_position(e, class_index)]).max(initial=0) for e in expls]
    return float(max(w, default=0.0)) or 1e-12


def pro_con_figure(expls: dict[str, Explanation], class_index: int, top: int = 5, hide_rest: bool = False,
                   cols: int = 3, height_per_row: int = 340, extra_titles: dict[str, str] | None = None) -> go.Figure:
    """Per segmenter: the top pro (green) and con (red) superpixels, or only the pro ones with the rest hidden."""
    first = next(iter(expls.values()))
    unit = UNITS.get(first.output_space, first.output_space)
    vmax = lime_weight_limit(expls.values(), class_index)
    # narrow panels: "Watershed (sobel)" on two lines, so neighbouring titles never run into each other
    titles = [f"{name.replace(' (', '<br>(') if cols > 3 else name}{(extra_titles or {}).get(name, '')}"
              f"{approximate_note(e, cols > 3)}" for name, e in expls.items()]
    if cols > 3:  # and the fit line at the title's size: a <sup> line is about 7 px, too small to read
        titles = [t.replace("<sup>", "").replace("</sup>", "") for t in titles]
    fig, cells = _grid(len(expls), cols, titles, height_per_row)
    if cols > 3:
        fig.update_annotations(font=dict(size=12, color="#111"))
        fig.update_layout(margin=dict(l=0, r=0, t=58, b=0))
    for (row, col), (name, e) in zip(cells, expls.items()):
        seg = e.extras["segments"]
        w = e.extras["weights"][class_position(e, class_index)]
        pro, con = pro_con(w, top)
        rgb = _rgb(e.image)
        chosen = np.isin(seg, pro if hide_rest else np.concatenate([pro, con]))
        if hide_rest:
            rgb = np.where(chosen[..., None], rgb, np.uint8(235))
        fig.add_trace(go.Image(z=boundaries(rgb, np.where(chosen, seg, -1)), hoverinfo="skip"), row=row, col=col)
        z = np.where(chosen, w[seg], np.nan) if not hide_rest else np.full(seg.shape, np.nan)
        fig.add_trace(go.Heatmap(
            z=z, customdata=np.stack([seg, w[seg]], -1), coloraxis="coloraxis",
            opacity=FAINT_OPACITY if faint(e, class_position(e, class_index)) else 1.0,
            hovertemplate=(f"<b>{name}</b><br>segment %{{customdata[0]}}<br>"
                           f"weight %{{customdata[1]:.4g}} {unit}<extra></extra>")), row=row, col=col)
        if hide_rest:  # an invisible layer so hovering still shows the weights
            fig.add_trace(go.Heatmap(z=w[seg], customdata=seg, opacity=0.0, showscale=False, colorscale="Greys",
                                     hovertemplate=(f"<b>{name}</b><br>segment %{{customdata}}<br>"
                                                    f"weight %{{z:.4g}} {unit}<extra></extra>")),
                          row=row, col=col)
    fig.update_layout(coloraxis=dict(
        colorscale=PRO_CON_COLORSCALE, cmin=-vmax, cmax=vmax, cmid=0,
        colorbar=dict(title=dict(text=f"LIME weight<br>({unit})", side="right"), thickness=14)))
    return fig


def spread_figure(expls: dict[str, Explanation], stds: dict[str, np.ndarray], class_index: int, cols: int = 3,
                  height_per_row: int = 340, extra_titles: dict[str, str] | None = None) -> go.Figure:
    """Per segmenter: each superpixel's weight standard deviation across seeds (one shared scale)."""
    first = next(iter(expls.values()))
    unit = UNITS.get(first.output_space, first.output_space)
    vmax = max((float(np.max(s)) for s in stds.values()), default=0.0) or 1e-12
    titles = [f"{name}{(extra_titles or {}).get(name, '')}{approximate_note(e)}" for name, e in expls.items()]
    fig, cells = _grid(len(expls), cols, titles, height_per_row)
    for (row, col), (name, e) in zip(cells, expls.items()):
        seg = e.extras["segments"]
        fig.add_trace(go.Image(z=_rgb(e.image), hoverinfo="skip", opacity=0.6), row=row, col=col)
        fig.add_trace(go.Heatmap(
            z=stds[name][seg], customdata=seg, coloraxis="coloraxis", opacity=0.75,
            hovertemplate=(f"<b>{name}</b><br>segment %{{customdata}}<br>std %{{z:.3g}} {unit}"
                           "<extra></extra>")), row=row, col=col)
    fig.update_layout(coloraxis=dict(colorscale=SPREAD_COLORSCALE, cmin=0, cmax=vmax, colorbar=dict(
        title=dict(text=f"std of weight<br>across seeds ({unit})", side="right"), thickness=14)))
    return fig
