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


def test_a_folder_audit_member_opens_on_methods_as_that_scan(tmp_path, monkeypatch):
    """Members of a ``folder:`` audit (a loose file, a slice of a series as ``<case>:<slice>``) open on Methods
    as the folder dataset's test scan with the same pixels, named by their audit id."""
    import numpy as np

    from tests import volumes
    from tests.files import png
    from xai_core.audit import AuditSpec, run_audit
    from xai_core.data.folder import load_folder

    root = tmp_path / "data"
    monkeypatch.setenv("XAI_DATA_ROOTS", str(root))
    monkeypatch.setenv("XAI_AUDITS_DIR", str(tmp_path / "audits"))
    scans = root / "scans"
    series = scans / "test" / "glioma" / "patient1"
    series.mkdir(parents=True)
    for i, p in enumerate(volumes.brain_slices(2, lesion=(0, 1), seed=3)):
        (series / f"IM{i}.dcm").write_bytes(volumes.mr_file(p, i, 5.0 * i))
    (scans / "test" / "no_tumor").mkdir(parents=True)
    (scans / "test" / "no_tumor" / "noise.png").write_bytes(  # outside the domain: a "worst case" to open
        png(np.random.default_rng(0).integers(0, 256, (128, 128)).astype(np.uint8)))
    for c in ("glioma", "no_tumor"):
        (scans / "train" / c).mkdir(parents=True)
        (scans / "train" / c / "0.png").write_bytes(png(volumes.brain_slices(1, lesion=(), seed=13)[0]))
    from xai_core.metrics import METRICS

    focus = "focus" if "focus" in METRICS else "relevance-mass"  # needs a mask, so free on a folder
    spec = AuditSpec("brain-basic-cnn", "folder:scans", "test", methods=("grad-cam",), metrics=(focus,))
    run_audit(spec, tmp_path / "audits" / "clinic")

    at = AppTest.from_file(str(ROOT / "pages/audit.py"), default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any(m.value.startswith("**2 studies**") or m.value.startswith("**1 studies**") for m in at.markdown)
    opens = [b for b in at.button if b.label == "Open"]
    assert opens, "a folder audit's members can be opened"
    opens[0].click().run()
    assert not at.exception, at.exception
    ref = at.session_state["image_ref"]
    assert ref["dataset"] == "folder:scans" and ref["split"] == "test" and ref["member"] in (
        "test/glioma/patient1:1", "test/glioma/patient1:2", "test/no_tumor/noise.png")
    # Methods, with what the button left in the session (a fresh page: AppTest keeps the old page's widgets)
    methods = AppTest.from_file(str(ROOT / "pages/methods.py"), default_timeout=TIMEOUT)
    for k in ("image_ref", "model", "dataset"):
        methods.session_state[k] = at.session_state[k]
    methods.session_state["methods_set"] = ["grad-cam"]  # one cheap method
    methods.run()
    assert not methods.exception and not methods.error, [e.value for e in methods.error]
    from pages._ui.literal import lit

    said = f"Audit member **{lit(ref['member'], 200)}** of {lit('folder:scans', 100)}."
    assert said in [c.value for c in methods.caption], [c.value for c in methods.caption]
    from xai_core.audit.batch import ImageSource

    ds = load_folder(scans)
    np.testing.assert_array_equal(ds.split("test").images[methods.session_state["_w_index"]],
                                  ImageSource(spec).load(ref["member"])[0])
