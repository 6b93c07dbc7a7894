"""Figures and labels a first-day user reads (issue 28): no cut or colliding names, no misleading axes."""

from xai_core.plots import audit as aplots


def _entries():
    out = []
    for metric in ("completeness", "faithfulness-correlation", "deletion", "superpixel-stability"):
        for method in ("shap-partition", "lime", "grad-cam"):
            for cls in ("glioma", "meningioma tumour", "no tumour", "pituitary"):
                # lime has no completeness (the first facet), so the legend must not be taken from that facet
                mean = None if (method == "lime" and metric == "completeness") else 0.5
                out.append({"method": method, "metric": metric, "true_class": cls, "mean": mean,
                            "lo": 0.4 if mean else None, "hi": 0.6 if mean else None, "n": 5})
    return out


def test_audit_facets_name_their_own_metric_list_every_method_once_and_keep_names_whole():
    metrics = ["completeness", "faithfulness-correlation", "deletion", "superpixel-stability"]
    fig = aplots.grouped_figure(_entries(), "true_class", metrics, columns=2)
    legend = [t.name for t in fig.data if t.showlegend is not False]
    assert sorted(legend) == ["grad-cam", "lime", "shap-partition"], legend  # each method once
    colours = {t.name: t.marker.color for t in fig.data}
    assert len(set(colours.values())) == 3  # one colour per method in every facet
    titles = [a.text for a in fig.layout.annotations]
    assert len(titles) == 4 and all(len(line) <= 22 for t in titles for line in t.split("<br>")), titles
    # no more than two facets a row in a half-width column, so titles have room
    xaxes = [k for k in fig.layout.to_plotly_json() if k.startswith("xaxis")]
    assert len({tuple(fig.layout[k].domain) for k in xaxes}) == 2
    # every facet's own y axis says its own metric (not "mean completeness" for all)
    for j, metric in enumerate(metrics, start=1):
        title = fig.layout[f"yaxis{'' if j == 1 else j}"].title.text
        assert title.replace("-<br>", "-").replace("<br>", " ") == f"mean {metric}", (j, title)
    # class names are wrapped, not cut: no tick label line longer than 14 characters
    for t in fig.data:
        assert all(len(line) <= 14 for x in t.x for line in x.split("<br>")), t.x
    assert "meningioma<br>tumour" in {x for t in fig.data for x in t.x}
