"""Figures and labels a first-day user reads (issue 28): no cut or colliding names, no misleading axes."""

from types import SimpleNamespace

import numpy as np

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


def test_a_tie_reads_as_a_tie_and_a_clear_winner_with_its_probability():
    from xai_core.prediction import percentage_points, prediction_words, tied_top
    from xai_core.report.content import Case

    names = ["glioma", "meningioma", "no tumour", "pituitary"]
    assert prediction_words(names, [0.62, 0.2, 0.1, 0.08]) == "glioma (62.0%)"
    untrained = [0.25000003, 0.2499999, 0.25, 0.25000007]
    assert tied_top(untrained) == [0, 1, 2, 3]
    words = prediction_words(names, untrained)
    assert words.startswith("a tie: every class at 25.0% each") and "glioma" in words and "pituitary" in words
    assert prediction_words(names, [0.4, 0.4, 0.2, 0.0]) == "a tie: glioma and meningioma at 40.0% each"
    # the reports say it too (case report and class handout, HTML and PDF)
    case = SimpleNamespace(class_names=names, probabilities=np.array(untrained))
    assert Case.predicted_words.fget(case).startswith("a tie")
    assert percentage_points(-0.162) == "-16.2 pp" and percentage_points(0.05, 0) == "+5 pp"


def test_an_in_domain_verdict_is_said_in_words_not_as_a_raw_feature_distance():
    from xai_core.report.content import Verdict

    detector = SimpleNamespace(dataset="synthetic-brain-mri", model_name="brain-basic-cnn", threshold=1.21,
                               percentile=95.0, spec=SimpleNamespace(display_name="Feature distance (Mahalanobis)"),
                               val_scores=np.linspace(-2, 2, 200))
    check = SimpleNamespace(detector=detector, scores=np.array([-0.553]), flags=np.array([False]),
                            percentile=lambda i: 30.0)
    v = Verdict.from_check(check)
    assert v.flagged is False and v.score == -0.553
    assert "-0.553" not in v.text and "−0.553" not in v.text and "distance" not in v.text, v.text
    assert "more like them than 70% of that dataset's own held-out images" in v.text
    assert "95%" in v.text


def test_trust_exports_carry_and_name_their_settings():
    import json

    import pandas as pd

    from xai_core.trust import MethodsTable

    summary = pd.DataFrame([{"method": "lime", "metric": "deletion", "mean": 0.2, "low": 0.1, "high": 0.3,
                             "best": True}])
    rows = pd.DataFrame([{"method": "lime", "metric": "deletion", "index": 3, "value": 0.2}])
    table = MethodsTable(rows=rows, summary=summary, better={"deletion": "lower"})
    settings = {"model": "brain-basic-cnn", "dataset": "synthetic-brain-mri", "output space": "margin",
                "scans": ["test #3", "test #7"], "methods": ["lime", "grad-cam"], "metrics": ["deletion"]}
    files = table.exports(settings)
    names = sorted(files)
    assert all(n.startswith("trust_brain-basic-cnn_synthetic-brain-mri_2scans_margin_lime-grad-cam") for n in names)
    assert [n.rsplit("_", 1)[-1] for n in names if n.endswith(".csv")] == ["rows.csv", "summary.csv"]
    for name, text in files.items():
        if name.endswith(".csv"):
            frame = pd.read_csv(__import__("io").StringIO(text))
            assert frame["setting: model"].eq("brain-basic-cnn").all()
            assert frame["setting: scans"].eq("test #3, test #7").all()
            assert frame["setting: methods"].eq("lime, grad-cam").all()
            assert frame["setting: output space"].eq("margin").all()
        else:
            data = json.loads(text)
            assert data["settings"] == settings and data["summary"][0]["method"] == "lime"


def test_an_upload_is_named_by_its_hash_not_its_file_name():
    from pages._ui.widgets import upload_as_scan

    scan = upload_as_scan({"name": "Doe, Jane 1961-04-02.dcm", "sha": "0123456789abcdef" * 4,
                           "image": np.zeros((8, 8, 1), np.float32)})
    assert scan.slug == "scan-0123456789ab"


def test_pdf_never_strands_a_heading_or_the_closing_disclaimer(brain_model, tmp_path):
    """Reports of 1 to 4 scans (so page breaks fall in different places): no page ends on a heading, and
    the last page holds more than the disclaimer (every page's footer carries it anyway)."""
    import pypdf

    from tests.test_report import _fake_case
    from xai_core import report

    headings = {"Prediction", "Out-of-domain check", "Parameters", "Library versions", "Regenerate this report",
                "Disclaimer", "Model card", "Trust"}
    for n in (1, 2, 3, 4):
        rep = report.assemble([_fake_case(brain_model, index=i, spaces=("margin", "probability"))
                               for i in range(n)], [brain_model])
        pages = pypdf.PdfReader(str(report.write(rep, tmp_path / f"r{n}.pdf"))).pages
        for k, page in enumerate(pages):
            text = page.extract_text()
            lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
            # the footer (and the closing paragraph, which repeats it) left out
            body = [ln for ln in lines if "page " not in ln and not ln.startswith(rep.disclaimer[:30])]
            assert [ln for ln in body if ln != "Disclaimer"], \
                f"page {k + 1} of {len(pages)} holds nothing but the disclaimer ({n} scans)"
            if body[-1] == "Disclaimer":  # the closing section: its paragraph must follow on the same page
                assert text.count(rep.disclaimer[:40]) >= 2, f"page {k + 1}: the heading 'Disclaimer' alone"
            else:
                assert body[-1] not in headings, f"page {k + 1} of {n}-scan report ends on the heading {body[-1]!r}"
