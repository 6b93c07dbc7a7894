"""Strategies (``xai_core.strategies``) as figures: the spectral embedding and each cluster's prototype.

Both take the JSON document ``Strategies.to_json()`` gives (what the CLI writes and the page ships), so a
shipped example and a fresh result draw the same way.
"""

from __future__ import annotations

import numpy as np

# the prototype is a distribution of *positive* evidence (what raised the class score): red, from white at 0
EVIDENCE_SCALE = [[0.0, "rgba(255,255,255,0.0)"], [1.0, "rgba(255,13,87,1.0)"]]
EVIDENCE_UNIT = "share of the positive evidence per cell"
COLOUR_BY = ("cluster", "true class", "predicted class", "correct")


def embedding_figure(doc: dict, colour_by: str = "cluster"):
    """Scatter of the 2-D spectral embedding, one point per map, coloured by cluster, class or correctness."""
    import plotly.graph_objects as go

    suspicious = {c["id"]: c["suspicious"] for c in doc["clusters"]}

    def key(m):
        i = m
        if colour_by == "cluster":
            return f"cluster {m['cluster']}" + (" (suspicious)" if suspicious.get(m["cluster"]) else "")
        if colour_by == "true class":
            return str(i.get("true_class"))
        if colour_by == "predicted class":
            return str(i.get("predicted_class"))
        return {True: "correct", False: "misclassified"}.get(i.get("correct"), "unknown")

    groups: dict[str, list] = {}
    for m in doc["members"]:
        groups.setdefault(key(m), []).append(m)
    fig = go.Figure()
    for name in sorted(groups):
        ms = groups[name]
        fig.add_trace(go.Scattergl(
            x=[m["x"] for m in ms], y=[m["y"] for m in ms], mode="markers", name=name,
            marker=dict(size=7, symbol="x" if "suspicious" in name else "circle"),
            text=[m["image_id"] for m in ms], customdata=[m["cluster"] for m in ms],
            hovertemplate="%{text}<br>cluster %{customdata}<extra>" + name + "</extra>"))
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=30, b=10), legend_title_text=colour_by,
                      title=dict(text="Maps by similarity (spectral embedding): nearby points share a strategy",
                                 font=dict(size=14)),
                      xaxis=dict(title="spectral coordinate 1", showticklabels=False, zeroline=False),
                      yaxis=dict(title="spectral coordinate 2", showticklabels=False, zeroline=False))
    return fig


def prototype_figure(cluster: dict, zmax: float | None = None, height: int = 220):
    """One cluster's mean evidence map as a heatmap, labelled in its unit, with hover values."""
    import plotly.graph_objects as go

    p = np.asarray(cluster["prototype"], np.float64)
    fig = go.Figure(go.Heatmap(z=p, colorscale=EVIDENCE_SCALE, zmin=0, zmax=zmax or float(p.max()) or 1.0,
                               colorbar=dict(title=dict(text="share", side="right"), thickness=10),
                               hovertemplate="row %{y}, col %{x}: %{z:.2%} of the evidence<extra></extra>"))
    fig.update_layout(height=height, margin=dict(l=0, r=0, t=24, b=0),
                      title=dict(text=f"cluster {cluster['id']}: prototype", font=dict(size=13)),
                      xaxis=dict(visible=False), yaxis=dict(visible=False, autorange="reversed", scaleanchor="x"))
    return fig
