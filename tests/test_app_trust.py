"""AppTest: a trust card beside the maps, and the "Which method can I trust?" page."""

from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

TIMEOUT = 300


def test_shap_page_shows_a_trust_card_beside_each_map():
    at = AppTest.from_file(str(ROOT / "pages/shap_margin_vs_probability.py"), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    labels = [m.label for m in at.metric]
    for name in ("Deletion (faithfulness)", "Insertion (faithfulness)", "Relevance mass (lesion)",
                 "Pointing game", "Completeness (additivity)"):
        assert labels.count(name) == 2, (name, labels)  # margin and probability maps
    assert all(m.value.split()[0] in ("✅", "⚠️", "❌", "➖") for m in at.metric if m.label in labels)
    deeper = [b for b in at.button if b.label == "Run the deeper checks"]
    assert len(deeper) == 2 and all("ms here" in b.help for b in deeper), [b.help for b in deeper]  # timed
    at.toggle(key="trust_margin_curves").set_value(True).run()
    assert not at.exception and not at.error


def test_trust_page_ranks_methods_with_intervals_and_downloads():
    at = AppTest.from_file(str(ROOT / "pages/trust.py"), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    at.multiselect(key="trust_methods").set_value(["integrated-gradients", "grad-cam"])
    at.multiselect(key="trust_metrics").set_value(["deletion", "relevance-mass", "pointing-game"])
    at.slider(key="trust_n").set_value(2)
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    wide = at.dataframe[0].value
    assert list(wide.index) == ["grad-cam", "integrated-gradients"]
    assert set(wide.columns) == {"deletion", "relevance-mass", "pointing-game"}
    assert all("[" in str(c) for c in wide.to_numpy().ravel())  # mean [low, high]
    rows = at.dataframe[1].value
    assert len(rows) == 2 * 2 * 3 and set(rows["scan"]) == set(rows["scan"].unique()[:2])
    labels = [b.label for b in at.get("download_button")]
    assert {"Summary (.csv)", "Per-scan rows (.csv)", "Everything (.json)"} <= set(labels)
