"""AppTest: the Audit page starts a small audit, then shows leaderboard, breakdowns, gallery and downloads."""

import json

from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

TIMEOUT = 600


def test_audit_page_starts_an_audit_and_reports_it(tmp_path, monkeypatch):
    monkeypatch.setenv("XAI_AUDITS_DIR", str(tmp_path / "audits"))
    at = AppTest.from_file(str(ROOT / "pages/audit.py"), default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("No audit yet" in i.value for i in at.info)
    at.number_input(key="aud_limit").set_value(4)  # test scan 1 is outside the domain: 3 maps to cluster
    at.number_input(key="aud_budget_shap-partition_max_evals").set_value(40)
    at.number_input(key="aud_budget_lime_num_samples").set_value(20)
    at.text_input(key="aud_name").set_value("../escape")
    at.button(key="aud_start").click().run()
    assert any("letters, digits" in e.value for e in at.error) and not (tmp_path / "escape").exists()
    at.text_input(key="aud_name").set_value("first")
    at.button(key="aud_start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Audit first finished" in s.value for s in at.success)
    # private to the session that ran it (issue 28): in its own area, not the shared audits folder
    from xai_core.audit import private_root

    assert not (tmp_path / "audits" / "first").exists()
    folder = private_root(tmp_path / "audits", at.session_state["_owner"]) / "first"
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["images"] == 4 and summary["rows"] == 8
    # the report: counts, leaderboard with intervals, breakdowns, distributions, gallery, downloads
    assert {m.label: m.value for m in at.metric}["Scans"] == "4"
    board = at.dataframe[0].value
    assert list(board["method"]) == ["shap-partition", "lime"] and board.iloc[:, 1:].stack().str.contains(r"\[").any()
    assert [s.value for s in at.subheader] == ["1. Leaderboard", "2. By class and outcome", "3. Distributions",
                                               "4. Worst cases", "5. Downloads",
                                               "6. Strategies: what the model does across the dataset"]
    assert any(m.value == "**Lowest focus**" for m in at.markdown)
    opens = [b for b in at.button if b.label == "Open"]
    assert len(opens) >= 3  # lowest focus holds every scored row (up to its size)
    # strategies of this audit's maps (3 in-domain scans: one cluster; the out-of-domain one withheld, as the
    # leaderboard leaves it out), then the shipped shortcut example with its flag
    assert any(m.value.startswith("**3 maps** of `shap-partition` fall into") and "Not clustered, outside the "
               "training domain: 1." in m.value for m in at.markdown)
    assert any(m.value.startswith("**Cluster 0**") for m in at.markdown)
    assert any("🚩 **suspicious**" in m.value and "top-right corner" in m.value for m in at.markdown)
    assert len(at.get("download_button")) == 3 + 2  # rows, parquet, summary + clusters CSV of each view
    # a case opens on the explanation page with that scan selected
    opens[0].click().run()
    assert not at.exception, at.exception
    ref = at.session_state["image_ref"]
    assert ref["dataset"] == "synthetic-brain-mri" and ref["split"] == "test" and 0 <= ref["index"] < 4
