"""What one session adds, trains or audits never reaches another; nothing under a root links out of it.

Two AppTest sessions play the two users of a shared server (each gets its own random owner id)."""

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import xai_core as xc
from tests import files
from tests.conftest import ROOT
from xai_core import config
from xai_core.audit import AuditSpec, AuditStore, audit_folder, list_audits, private_root, share_audit

TIMEOUT = 300
ALICE, BOB = "a1" * 16, "b2" * 16


def _session(page: str, owner: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / page), default_timeout=TIMEOUT)
    at.session_state["_owner"] = owner
    return at


def test_read_the_folder_refuses_other_sessions_uploads(tmp_path, monkeypatch):
    from xai_core.data.archive import extract_zip, upload_dir
    from xai_core.data.folder import scan_folder

    monkeypatch.setenv("XAI_DATA_ROOTS", str(tmp_path / "data"))
    dest = extract_zip(files.class_tree_zip(tmp_path / "src", {"benign": 3, "malignant": 3}), "scans.zip", owner=ALICE)
    bob = _session("pages/your_models_and_data.py", BOB).run()
    for typed in ("uploads/.sessions", f"uploads/.sessions/{ALICE}", str(dest), "uploads/../uploads/.sessions"):
        bob.text_input(key="ds_folder").set_value(typed).run()
        bob.button(key="ds_read").click().run()
        assert not bob.exception
        assert [e.value for e in bob.error] and all("hidden or private" in e.value for e in bob.error), typed
        assert not bob.success  # nothing of A's was read
    # a link planted in the shared area that points into A's private one is refused as well
    os.symlink(dest, upload_dir() / "innocent")
    with pytest.raises(xc.InputError, match="hidden or private"):
        scan_folder("uploads/innocent")
    # A reads her own upload by its path; her dataset loads by the name only she is shown
    alice = _session("pages/your_models_and_data.py", ALICE).run()
    alice.text_input(key="ds_folder").set_value(str(dest)).run()
    alice.button(key="ds_read").click().run()
    assert not alice.error and alice.success, [e.value for e in alice.error]
    mine = [n for n in xc.data.dataset_names(owner=ALICE) if n.startswith("folder:")]
    assert xc.load_dataset(mine[0]).class_names == ("benign", "malignant")


def _audit(folder: Path, dataset: str = "synthetic-brain-mri", model: str = "brain-basic-cnn") -> None:
    AuditStore(folder).start(AuditSpec(model, dataset, limit=2), command="(test)")


def test_audits_are_private_until_their_owner_shares_them(tmp_path, monkeypatch):
    root = tmp_path / "audits"
    monkeypatch.setenv("XAI_AUDITS_DIR", str(root))
    _audit(private_root(root, ALICE) / "alice-audit")
    _audit(private_root(root, ALICE) / "alice-private-data", dataset=f"folder:uploads/.sessions/{ALICE}/scans")
    assert {a["name"] for a in list_audits(root, ALICE)} == {"alice-audit", "alice-private-data"}
    assert list_audits(root, BOB) == [] and list_audits(root) == []
    for who in (BOB, None):
        with pytest.raises(xc.InputError):
            audit_folder(root, "alice-audit", who)
    with pytest.raises(xc.InputError):
        audit_folder(root, f".sessions/{ALICE}/alice-audit")  # not by a path either
    with pytest.raises(xc.InputError):
        share_audit(root, "alice-audit", BOB)  # only the owner shares

    bob = _session("pages/audit.py", BOB).run()
    assert not bob.exception
    assert "aud_open" not in [s.key for s in bob.selectbox]  # B's page lists no audit at all
    alice = _session("pages/audit.py", ALICE).run()
    assert not alice.exception
    assert sorted(o.split(" ")[0] + (" private" if "(yours, private)" in o else "")
                  for o in alice.selectbox(key="aud_open").options) == ["alice-audit private",
                                                                         "alice-private-data private"]

    # an audit of A's private data cannot be shared (its dataset would not open for B, its path would show)
    with pytest.raises(xc.InputError, match="private"):
        share_audit(root, "alice-private-data", ALICE)
    share_audit(root, "alice-audit", ALICE)
    bob.run()
    assert [o.split(" ")[0] for o in bob.selectbox(key="aud_open").options] == ["alice-audit"]
    assert "private" not in bob.selectbox(key="aud_open").options[0]
    assert ALICE not in (root / "alice-audit" / "spec.json").read_text()


def test_symlinks_never_lead_out_of_the_audits_folder(tmp_path):
    root, outside = tmp_path / "audits", tmp_path / "secret.txt"
    outside.write_text("password")
    _audit(root / "a")
    (root / "a" / "rows.csv").symlink_to(outside)
    (root / "a" / "command.txt").unlink()
    (root / "a" / "command.txt").symlink_to(outside)
    store = AuditStore(audit_folder(root, "a"))
    with pytest.raises(xc.InputError, match="outside"):
        store.file("rows.csv")
    with pytest.raises(xc.InputError, match="outside"):
        store.commands()
    # a whole audit folder that is a link: neither listed nor opened
    _audit(tmp_path / "elsewhere")
    (root / "b").symlink_to(tmp_path / "elsewhere")
    assert [a["name"] for a in list_audits(root)] == ["a"]
    with pytest.raises(xc.InputError):
        audit_folder(root, "b")


def test_symlinks_never_lead_out_of_the_user_model_folder(tmp_path, monkeypatch, brain_model):
    monkeypatch.setenv("XAI_USER_MODELS_DIR", str(tmp_path / "models"))
    real = tmp_path / "elsewhere" / "m"
    real.mkdir(parents=True)
    (real / "model.keras").write_bytes(Path(brain_model.path).read_bytes())
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "linked").symlink_to(real)
    assert "linked" not in [r["name"] for r in xc.list_models()]
    with pytest.raises(xc.InputError):
        xc.load_model("linked")


def _live_target_script():
    import streamlit as st

    from pages._ui import shortcut

    st.text(str(shortcut.live_target("brain-tagged-cnn")))


def test_shortcut_live_retraining_is_saved_in_each_sessions_private_area():
    targets = {}
    for who in (ALICE, BOB):
        at = AppTest.from_function(_live_target_script, default_timeout=TIMEOUT)
        at.session_state["_owner"] = who
        at.run()
        assert not at.exception
        targets[who] = Path(at.text[0].value)
    assert targets[ALICE] == config.user_models_dir(ALICE) / "brain-tagged-cnn-guided-live"
    assert targets[BOB] == config.user_models_dir(BOB) / "brain-tagged-cnn-guided-live"  # never A's file
    assert not targets[ALICE].is_relative_to(config.user_models_dir()) or \
        config.SESSIONS in targets[ALICE].relative_to(config.user_models_dir()).parts  # not the shared library


def test_a_shared_models_training_command_shows_no_private_folder(tmp_path, monkeypatch, brain_model):
    from xai_core.models.importing import share_model
    from xai_core.models.metadata import ModelMetadata

    monkeypatch.setenv("XAI_USER_MODELS_DIR", str(tmp_path / "models"))
    mine = config.user_models_dir(ALICE) / "alice-trained"
    mine.mkdir(parents=True)
    (mine / "model.keras").write_bytes(Path(brain_model.path).read_bytes())
    meta = ModelMetadata.from_dict(dict(brain_model.metadata.__dict__))  # a copy: the fixture is shared
    meta.trained_with = {"command": f"python -m xai_core train --dataset folder:uploads/.sessions/{ALICE}/scans "
                                    f"--out {mine.as_posix()}"}
    meta.write(mine / "metadata.json")
    share_model("alice-trained", ALICE)
    command = ModelMetadata.read(config.user_models_dir() / "alice-trained" / "metadata.json").trained_with["command"]
    assert ALICE not in command and "(private)" in command
    assert f"--out {(config.user_models_dir() / 'alice-trained').as_posix()}" in command
