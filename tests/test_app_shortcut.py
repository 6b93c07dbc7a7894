"""AppTest: the "find a shortcut" page runs its four steps and a tiny guided retraining."""

from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

TIMEOUT = 600


def test_shortcut_page_runs_four_steps_and_a_tiny_guided_retraining():
    at = AppTest.from_file(str(ROOT / "pages/shortcut.py"), default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    subheaders = [s.value for s in at.subheader]
    assert [h[:2] for h in subheaders] == ["1.", "2.", "3.", "4."]
    assert any("shortcut" in m.value for m in at.markdown if "recall falls" in m.value)
    assert any("reveals" in m.value or "hides" in m.value for m in at.markdown)  # shipped audit, at once
    # every map of step 2 carries a trust card (issue 13): one card, its picker offering each map
    assert any("Can this map be trusted?" in m.value for m in at.markdown)
    picker = [s for s in at.selectbox if s.label == "Trust card for the map"]
    assert picker and len(picker[0].options) == 3, [s.label for s in at.selectbox]
    table = at.dataframe[0].value
    assert list(table["model"][:3]) == ["brain-tagged-cnn", "brain-tagged-cnn-erasing", "brain-tagged-cnn-guided"]
    at.number_input(key="sc_epochs").set_value(1)
    at.number_input(key="sc_limit").set_value(8)
    at.number_input(key="sc_guide_images").set_value(2)
    at.button(key="sc_go").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Retrained" in s.value for s in at.success)
    assert "guided (this run)" in list(at.dataframe[0].value["role"])
    assert len(at.get("plotly_chart")) >= 4  # recall, gallery, audit and the live curves
