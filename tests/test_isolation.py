"""Issue 11, item 8: on a shared server, what one session adds is private until its owner shares it."""


import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import xai_core as xc
from tests import files
from tests.conftest import ROOT
from xai_core.data.archive import extract_zip, share_dataset
from xai_core.models.importing import share_model, update_adaptation

TIMEOUT = 300


def _keras_file(tmp_path):
    import keras
    from keras import layers

    inp = keras.Input((20, 20, 3))
    model = keras.Model(inp, layers.Dense(2, activation="softmax")(layers.GlobalAveragePooling2D()(
        layers.Conv2D(4, 3)(layers.Rescaling(1 / 255.0)(inp)))))
    model.save(tmp_path / "alice.keras")
    return (tmp_path / "alice.keras").read_bytes()


def _picker_options(at):
    return at.selectbox(key="_w_model").options


def test_two_sessions_do_not_see_or_edit_each_others_models(tmp_path):
    import uuid

    name = f"alice-private-model-{uuid.uuid4().hex[:8]}"  # the shared library outlives one test run
    alice = AppTest.from_file(str(ROOT / "pages/your_models_and_data.py"), default_timeout=TIMEOUT).run()
    alice.file_uploader(key="up_model").set_value(("alice.keras", _keras_file(tmp_path),
                                                  "application/octet-stream")).run()
    alice.text_area(key="up_names_alice.keras_").set_value("benign\nmalignant")
    alice.text_input(key="up_name_alice.keras").set_value(name)
    alice.button(key="up_add").click().run()
    assert not alice.exception and not alice.error, [e.value for e in alice.error]
    a_owner = alice.session_state["_owner"]
    assert name in [r["name"] for r in xc.list_models(owner=a_owner)]
    assert alice.selectbox(key="edit_pick").options == [name]

    bob = AppTest.from_file(str(ROOT / "pages/your_scan.py"), default_timeout=TIMEOUT).run()
    assert not bob.exception
    b_owner = bob.session_state["_owner"]
    assert b_owner != a_owner
    assert not any(name in o for o in _picker_options(bob))  # not in B's picker
    assert name not in [r["name"] for r in xc.list_models()]  # nor in the CLI's shared folder
    with pytest.raises(xc.InputError):
        xc.load_model(name, owner=b_owner)
    with pytest.raises(xc.InputError, match="not one of your models"):
        update_adaptation(name, "0-255", owner=b_owner)
    bob_models = AppTest.from_file(str(ROOT / "pages/your_models_and_data.py"), default_timeout=TIMEOUT)
    bob_models.session_state["_owner"] = b_owner
    bob_models.run()
    assert not bob_models.exception
    assert "edit_pick" not in [s.key for s in bob_models.selectbox]  # B has nothing to edit

    # A shares it: now B sees it, and still cannot edit it
    alice.button(key="share_model").click().run()
    assert not alice.exception and not alice.error, [e.value for e in alice.error]
    bob.run()
    assert any(name in o for o in _picker_options(bob))
    assert xc.load_model(name).class_names == ["benign", "malignant"]  # the CLI sees it too
    with pytest.raises(xc.InputError, match="not one of your models"):
        update_adaptation(name, "0-255", owner=b_owner)


def test_uploaded_dataset_zips_are_private_until_shared(tmp_path, monkeypatch):
    monkeypatch.setenv("XAI_DATA_ROOTS", str(tmp_path / "data"))
    alice, bob = "a" * 32, "b" * 32
    dest = extract_zip(files.class_tree_zip(tmp_path / "src", {"benign": 3, "malignant": 3}), "scans.zip",
                       owner=alice)
    mine = [n for n in xc.data.dataset_names(owner=alice) if n.startswith("folder:")]
    assert len(mine) == 1
    assert not [n for n in xc.data.dataset_names(owner=bob) if n.startswith("folder:")]
    assert not [n for n in xc.data.dataset_names() if n.startswith("folder:")]
    with pytest.raises(xc.InputError, match="yourself"):
        share_dataset(dest, bob)
    share_dataset(dest, alice)
    assert [n for n in xc.data.dataset_names(owner=bob) if n.startswith("folder:")] == ["folder:uploads/scans"]


def test_owner_ids_cannot_name_paths():
    from xai_core import config

    for bad in ("../x" * 4, "a/b/c/d/e", "short", ""):
        with pytest.raises(ValueError):
            config.user_models_dir(bad)
    assert config.user_models_dir("c" * 32).parent.name == config.SESSIONS
