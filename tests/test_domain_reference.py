"""Users' models get an out-of-domain reference from a folder of their training scans (issue 22, item 9)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests import files

OWNER = "refowner00000001"


def small_cnn():
    """A small untrained CNN with a pooled head (features of a few dozen numbers, as in most real models)."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    inp = keras.Input((32, 32, 1))
    h = layers.MaxPooling2D()(layers.Conv2D(8, 3, activation="relu", padding="same")(inp))
    h = layers.GlobalAveragePooling2D()(layers.Conv2D(16, 3, activation="relu", padding="same")(h))
    return keras.Model(inp, layers.Dense(4, activation="softmax")(layers.Dense(16, activation="relu")(h)))


@pytest.fixture(scope="module")
def reference_setup(tmp_path_factory, brain):
    """A small model imported as a user would, and a data folder holding 60 of its 'training' scans."""
    import xai_core as xc
    from xai_core.models.importing import import_model

    root = tmp_path_factory.mktemp("data-root")
    scans = root / "my-training-scans"
    scans.mkdir()
    train = brain.split("train")
    for i in range(60):
        (scans / f"scan{i:03d}.png").write_bytes(files.png(train.images[i][..., 0]))
    (scans / "notes.txt").write_text("not a scan")  # ignored, like any non-image file
    model_dir = tmp_path_factory.mktemp("model")
    small_cnn().save(model_dir / "tiny.keras")
    import_model((model_dir / "tiny.keras").read_bytes(), "tiny.keras", "tiny-with-reference",
                 ["glioma", "meningioma", "none", "pituitary"], "0-1", None, True, owner=OWNER)
    return {"root": root, "scans": scans, "model": xc.load_model("tiny-with-reference", owner=OWNER)}


def test_without_a_reference_every_page_says_how_to_add_one(reference_setup):
    from xai_core.domain import ood_detector
    from xai_core.errors import InputError

    with pytest.raises(InputError, match="Your models and data.*ood-reference"):
        ood_detector(reference_setup["model"])


def test_a_folder_of_training_scans_gives_an_uploaded_model_its_domain_check(reference_setup, brain, monkeypatch):
    import xai_core as xc
    from xai_core.domain import domain_check, ood_detector
    from xai_core.domain_reference import REFERENCE_FILE, describe, fit_reference

    monkeypatch.setenv("XAI_DATA_ROOTS", str(reference_setup["root"]))
    lm = reference_setup["model"]
    det = fit_reference(lm, "my-training-scans")  # relative to the data folder, as a user types it
    assert det.info["train_size"] == 60 and len(det.val_scores) == 60  # every scan held out once (5 folds)
    assert Path(lm.path).with_name(REFERENCE_FILE).is_file()  # stored beside the model
    fresh = xc.load_model("tiny-with-reference", owner=OWNER)  # another page, another process: read from disk
    assert ood_detector(fresh).threshold == det.threshold
    assert "60 scans from my-training-scans" in describe(fresh)
    # scans like the training ones pass, scans of another kind are flagged
    same = domain_check(fresh, list(brain.split("test").images[:40]))
    photos = [files.photo(n) for n in ("chelsea", "coffee", "astronaut", "camera")]
    noise = [np.random.default_rng(i).integers(0, 256, (64, 64, 1), dtype=np.uint8) for i in range(4)]
    other = domain_check(fresh, photos + noise)
    assert same.flags.mean() <= 0.2 and other.flags.all(), (same.flags.mean(), other.scores, det.threshold)


def test_too_few_scans_are_refused_in_one_sentence(reference_setup, tmp_path, monkeypatch, brain):
    from xai_core.domain_reference import MIN_SCANS, fit_reference
    from xai_core.errors import InputError

    few = tmp_path / "few"
    few.mkdir()
    for i in range(5):
        (few / f"s{i}.png").write_bytes(files.png(brain.split("train").images[i][..., 0]))
    monkeypatch.setenv("XAI_DATA_ROOTS", str(tmp_path))
    with pytest.raises(InputError, match=f"at least {MIN_SCANS}"):
        fit_reference(reference_setup["model"], str(few))
    with pytest.raises(InputError, match="outside the data folders"):
        fit_reference(reference_setup["model"], str(reference_setup["scans"]))


def test_the_cli_fits_a_reference_for_a_model_file(reference_setup, tmp_path, capsys, monkeypatch):
    from xai_core.cli import main
    from xai_core.domain_reference import REFERENCE_FILE

    folder = tmp_path / "cli-model"
    folder.mkdir()
    small_cnn().save(folder / "model.keras")
    (folder / "metadata.json").write_text('{"class_names": ["glioma", "meningioma", "none", "pituitary"], '
                                          '"input_size": [32, 32], "input_channels": 1, "input_scale": "0-1"}')
    monkeypatch.setenv("XAI_DATA_ROOTS", str(reference_setup["root"]))
    assert main(["ood-reference", "--model", str(folder), "--from", "my-training-scans"]) == 0
    assert "60 scans from my-training-scans" in capsys.readouterr().out
    assert (folder / REFERENCE_FILE).is_file()
    assert main(["trust", "--model", str(folder), "--image", "synthetic-brain-mri:test:0", "--method", "saliency",
                 "--metrics", "deletion", "--json", "--no-cache"]) == 0
    assert "unavailable" not in capsys.readouterr().err  # the check now runs for this model


def test_adjust_on_your_models_and_data_fits_the_reference_from_a_folder(reference_setup, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT
    from xai_core.domain_reference import REFERENCE_FILE

    monkeypatch.setenv("XAI_DATA_ROOTS", str(reference_setup["root"]))
    Path(reference_setup["model"].path).with_name(REFERENCE_FILE).unlink(missing_ok=True)
    at = AppTest.from_file(str(ROOT / "pages/your_models_and_data.py"), default_timeout=300)
    at.session_state["_owner"] = OWNER
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    pick = at.selectbox(key="edit_pick")
    if pick.value != "tiny-with-reference":
        pick.set_value("tiny-with-reference").run()
    assert any("No out-of-domain reference yet" in c.value for c in at.caption)  # one plain line says how
    at.radio(key="ref_kind_tiny-with-reference").set_value("a folder under the data folders").run()
    at.text_input(key="ref_folder_tiny-with-reference").input("my-training-scans").run()
    at.button(key="ref_fit_tiny-with-reference").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("60 scans from my-training-scans" in s.value for s in at.success)
