"""Trust figures: deletion/insertion curves, the randomisation cascade, convergence, and the methods chart.

Results (``MetricResult.details``, ``MethodsTable.summary``) in, Plotly figures out; hover shows values.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..metrics import MetricResult

MAP_COLOUR, RANDOM_COLOUR, SECOND_COLOUR = "#d62728", "#7f7f7f", "#1f77b4"


def deletion_insertion_figure(results: dict[str, MetricResult], height: int = 280,
                              names: tuple[str, ...] = ("deletion", "insertion")) -> go.Figure:
    """Deletion and insertion: the class score as pixels go in the map's order and in random order."""
    shown = [n for n in names if n in results and "curve" in results[n].details]
    fig = make_subplots(rows=1, cols=max(1, len(shown)), subplot_titles=[
        f"{n.capitalize()}: {results[n].value:+.3f} vs random" for n in shown] or [""])
    for col, name in enumerate(shown, 1):
        d = results[name].details
        x = 100 * np.asarray(d["fractions"], float)
        verb = "revealed" if d.get("insertion", name == "insertion") else "removed"
        unit = d.get("output_space", "score")
        for ys, label, colour, dash in ((d["curve"], "in the map's order", MAP_COLOUR, "solid"),
                                        (d["random_curve"], "in random order", RANDOM_COLOUR, "dash")):
            fig.add_trace(go.Scatter(
                x=x, y=np.asarray(ys, float), mode="lines", name=f"pixels {verb} {label}",
                line=dict(color=colour, dash=dash), legendgroup=label, showlegend=col == 1,
                hovertemplate=f"%{{x:.0f}}% of pixels {verb}<br>{unit} %{{y:.4g}}<extra>{label}</extra>"),
                row=1, col=col)
        fig.update_xaxes(title_text=f"% of pixels {verb}", row=1, col=col)
        fig.update_yaxes(title_text=f"class score ({unit})", row=1, col=col)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.3))
    return fig


def randomisation_figure(result: MetricResult, height: int = 280) -> go.Figure:
    """Similarity with the original map as the weights are randomised from the top layer down."""
    d = result.details
    steps = [f"top {i + 1}: {name}" for i, name in enumerate(d.get("layers", []))]
    fig = go.Figure()
    for key, label, colour in (("ssim", "SSIM of |map|", MAP_COLOUR), ("spearman", "Spearman of |map|", SECOND_COLOUR)):
        fig.add_trace(go.Scatter(x=steps, y=d.get(key, []), mode="lines+markers", name=label,
                                 line=dict(color=colour),
                                 hovertemplate=f"randomised down to %{{x}}<br>{label} %{{y:.3f}}<extra></extra>"))
    if steps:
        at = int(d.get("verdict_step", 1)) - 1
        fig.add_vline(x=at, line_dash="dot", line_color="#555")
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), yaxis=dict(range=[-0.2, 1.05],
                      title="similarity with the original map"), xaxis=dict(title="layers randomised (top down)"),
                      title=dict(text="Model randomisation cascade (a map that explains the model falls)",
                                 font=dict(size=13)), legend=dict(orientation="h", y=-0.45))
    return fig


def convergence_figure(result: MetricResult, height: int = 260) -> go.Figure:
    """Agreement between the maps at each budget and at twice that budget."""
    d = result.details
    budgets = d.get("budgets", [])
    fig = go.Figure(go.Scatter(
        x=[f"{a:,} vs {b:,}" for a, b in zip(budgets, budgets[1:])], y=d.get("spearman", []),
        mode="lines+markers", line=dict(color=MAP_COLOUR),
        hovertemplate=f"{d.get('budget_param', 'budget')} %{{x}}<br>Spearman %{{y:.3f}}<extra></extra>"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10),
                      yaxis=dict(title="Spearman of the two maps", range=[0, 1.02]),
                      xaxis=dict(title=d.get("budget_param", "budget")),
                      title=dict(text="Convergence: does doubling the budget still change the map?",
                                 font=dict(size=13)))
    return fig


def methods_figure(summary, better: dict[str, str], height_per_row: int = 240) -> go.Figure:
    """One bar chart per metric: each method's mean with its bootstrap 95% interval; the best is red."""
    metrics = list(dict.fromkeys(summary["metric"]))
    cols = min(3, max(1, len(metrics)))
    rows = -(-len(metrics) // cols) if metrics else 1
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[
        f"{m} ({better.get(m, 'higher')} is better)" for m in metrics] or [""])
    for i, metric in enumerate(metrics):
        g = summary[summary["metric"] == metric]
        colours = [MAP_COLOUR if b else RANDOM_COLOUR for b in g["best"]]
        fig.add_trace(go.Bar(
            x=list(g["method"]), y=list(g["mean"]), marker_color=colours, showlegend=False,
            error_y=dict(type="data", symmetric=False, array=list(g["high"] - g["mean"]),
                         arrayminus=list(g["mean"] - g["low"])),
            customdata=np.stack([g["low"], g["high"]], -1),
            hovertemplate=f"%{{x}}<br>{metric} %{{y:.3f}}<br>95% interval %{{customdata[0]:.3f}} to "
                          "%{customdata[1]:.3f}<extra></extra>"), row=i // cols + 1, col=i % cols + 1)
    fig.update_layout(height=rows * height_per_row + 40, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def _curves(results: dict[str, MetricResult], names: list[str]) -> go.Figure | None:
    return deletion_insertion_figure(results, names=tuple(names)) \
        if any("curve" in results[n].details for n in names) else None


# A metric names the figure that draws its details (``Metric.figure``); metrics that share a kind share one
# figure (deletion and insertion side by side). A new metric with curves adds one entry here, no page edit.
FIGURES = {
    "deletion-insertion": _curves,
    "randomisation": lambda results, names: randomisation_figure(results[names[0]])
    if results[names[0]].details.get("ssim") else None,
    "convergence": lambda results, names: convergence_figure(results[names[0]])
    if results[names[0]].details.get("budgets") else None,
}


def metric_figures(results: dict[str, MetricResult]) -> list[tuple[str, go.Figure]]:
    """[(figure kind, figure)] for the results whose metrics declare a figure, one per kind, in card order."""
    from ..metrics import METRICS

    kinds: dict[str, list[str]] = {}
    for name, r in results.items():
        kind = METRICS.get(name).figure if name in METRICS else None
        if kind in FIGURES and r.verdict != "n/a":
            kinds.setdefault(kind, []).append(name)
    out = []
    for kind, names in kinds.items():
        fig = FIGURES[kind](results, names)
        if fig is not None:
            out.append((kind, fig))
    return out
