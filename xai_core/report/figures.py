"""Static figures for reports (matplotlib, Agg backend, no pyplot state): PNG bytes out.

The same conventions as the pages' Plotly figures (``xai_core.plots``):
shap's red raises the class score and blue lowers it (LIME's green/red
pro/con scale for LIME maps), one symmetric colour scale shared by every
panel of a figure (``symmetric_limit``), and a colour bar labelled with the
map's unit.
"""

from __future__ import annotations

import io
import re

import numpy as np

from ..untrusted import mathtext_literal

DPI = 100
LABEL = 40  # longest class name on a figure (cut with an ellipsis)


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _png(fig) -> bytes:
    buf = io.BytesIO()
    # no timestamps or software tags in the file: the same figure gives the same bytes
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def colormap(plotly_scale: list, name: str = "map"):
    """A matplotlib colour map (with transparency) from one of ``xai_core.plots``' Plotly colour scales."""
    from matplotlib.colors import LinearSegmentedColormap

    stops = []
    for pos, colour in plotly_scale:
        r, g, b, a = (float(v) for v in re.findall(r"[\d.]+", colour))
        stops.append((float(pos), (r / 255, g / 255, b / 255, a)))
    return LinearSegmentedColormap.from_list(name, stops)


def _scale_for(method: str):
    from ..plots.base import palette

    name, scale, _ = palette(method)
    return colormap(scale, name)


def _grey(image: np.ndarray) -> tuple[np.ndarray, str | None]:
    a = np.clip(np.asarray(image, np.float64), 0, 255).astype(np.uint8)
    if a.ndim == 3 and a.shape[-1] == 1:
        return a[..., 0], "gray"
    return a[..., :3], None


def _show(ax, image, title: str | None = None, alpha: float = 1.0):
    img, cmap = _grey(image)
    ax.imshow(img, cmap=cmap, vmin=0, vmax=255, alpha=alpha, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(mathtext_literal(title, 80), fontsize=9)


def scan_png(model_input: np.ndarray, original: np.ndarray | None = None, original_title: str = "",
             input_title: str = "as the model saw it") -> bytes:
    """The scan as the model saw it, beside the original (with its window) when there is one."""
    panels = [(original, original_title or "original")] if original is not None else []
    panels.append((model_input, input_title))
    fig = _figure(3.0 * len(panels), 3.2)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (img, title) in zip(axes, panels):
        _show(ax, img, title)
    return _png(fig)


def probability_png(probabilities: np.ndarray, class_names: list[str]) -> bytes:
    """Horizontal bars of the class probabilities, the predicted class in red (as on the pages)."""
    p = np.asarray(probabilities, np.float64)
    order = np.argsort(p)
    top = int(np.argmax(p))
    fig = _figure(5.0, 0.45 * len(p) + 0.8)
    ax = fig.subplots()
    colours = ["#ff0d57" if i == top else "#7f8c8d" for i in order]
    # positions, not names, on the axis: two long names cut alike stay two bars; "$" is not read as TeX
    ax.barh(np.arange(len(order)), p[order], color=colours)
    ax.set_yticks(np.arange(len(order)), [mathtext_literal(class_names[i], LABEL) for i in order])
    for y, v in enumerate(p[order]):
        ax.text(min(v + 0.01, 0.85), y, f"{v:.1%}", va="center", fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability")
    return _png(fig)


def map_png(expl, unit: str, probabilities: np.ndarray | None = None, vmax: float | None = None) -> bytes:
    """One panel per explained class over the scan, one shared symmetric colour scale, a labelled colour bar."""
    from ..plots import symmetric_limit

    maps = expl.maps()
    k = len(maps)
    vmax = symmetric_limit(maps) if vmax is None else float(vmax)
    cmap = _scale_for(expl.method)
    fig = _figure(2.3 * k + 1.2, 2.8)
    axes = fig.subplots(1, k, squeeze=False)[0]
    im = None
    for i, ax in enumerate(axes):
        if expl.image is not None:
            _show(ax, expl.image, alpha=0.85)
        im = ax.imshow(maps[i], cmap=cmap, vmin=-vmax, vmax=vmax, interpolation="nearest")
        p = "" if probabilities is None else f" · p={probabilities[expl.class_indices[i]]:.1%}"
        ax.set_title(f"{mathtext_literal(expl.class_names[i], LABEL)}{p}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    bar = fig.colorbar(im, ax=list(axes), shrink=0.9)
    bar.set_label(unit, fontsize=8)
    bar.ax.tick_params(labelsize=7)
    return _png(fig)


def slices_png(series) -> bytes:
    """A study along its slices: each class's probability (left axis) and the out-of-domain score (right axis,
    dotted, crosses where flagged) with the reported slice marked, beside the maps' projection when there is one."""
    from ..plots import symmetric_limit

    s, maps = series.scores, series.maps
    order = np.argsort(s.indices)
    x = s.indices[order] + 1
    fig = _figure(9.0 if maps is not None else 6.5, 3.0)
    grid = fig.add_gridspec(1, 2, width_ratios=[2.2, 1]) if maps is not None else fig.add_gridspec(1, 1)
    ax = fig.add_subplot(grid[0, 0])
    for k, name in enumerate(s.class_names):
        ax.plot(x, s.probabilities[order, k], marker="o", markersize=2.5, linewidth=1.2,
                label=f"p({mathtext_literal(name, LABEL)})")
    ax.axvline(series.chosen + 1, color="#444", linewidth=1, linestyle="--")
    ax.text(series.chosen + 1, 1.02, f" reported: {series.chosen + 1}", fontsize=7, va="bottom",
            transform=ax.get_xaxis_transform())
    ax.set_ylim(0, 1)
    ax.set_xlabel(f"{series.plane} slice (numbered from 1)", fontsize=8)
    ax.set_ylabel("probability", fontsize=8)
    ax.tick_params(labelsize=7)
    if s.ood_scores is not None:
        ax2 = ax.twinx()
        ax2.plot(x, s.ood_scores[order], linestyle=":", color="#555", linewidth=1.2, label="out-of-domain score")
        flagged = np.asarray(s.ood_flags)[order]
        if flagged.any():
            ax2.plot(x[flagged], s.ood_scores[order][flagged], "x", color="#b00", markersize=6,
                     label="out of domain")
        ax2.set_ylabel("out-of-domain score", fontsize=8)
        ax2.tick_params(labelsize=7)
        handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    else:
        handles = ax.get_legend_handles_labels()[0]
    ax.legend(handles=handles, fontsize=6.5, loc="upper left", bbox_to_anchor=(0, -0.2), ncol=3, frameon=False)
    if maps is not None:
        mip = maps.mip()
        vmax = symmetric_limit(mip)
        mx = fig.add_subplot(grid[0, 1])
        if series.scan_mip is not None:
            _show(mx, series.scan_mip, alpha=0.85)
        im = mx.imshow(mip, cmap=_scale_for(maps.method), vmin=-vmax, vmax=vmax, interpolation="nearest")
        mx.set_xticks([])
        mx.set_yticks([])
        mx.set_title(f"projection over {len(maps.indices)} slices, {mathtext_literal(maps.class_name, LABEL)}",
                     fontsize=8)
        bar = fig.colorbar(im, ax=mx, shrink=0.9)
        bar.set_label(maps.unit, fontsize=7)
        bar.ax.tick_params(labelsize=6)
    return _png(fig)
