"""Bringing your own model: safe mode refuses code without running it; classifiers are checked and stored."""

import subprocess
import sys

import numpy as np
import pytest

import xai_core as xc
from tests.conftest import ROOT
from xai_core.models.importing import import_model, parse_labels, update_adaptation


def _cnn(input_shape=(32, 32, 1), classes=3, rescale=False):
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    inp = keras.Input(input_shape)
    h = layers.Rescaling(1 / 255.0)(inp) if rescale else inp
    h = layers.Conv2D(4, 3, activation="relu")(h)
    h = layers.GlobalAveragePooling2D()(h)
    return keras.Model(inp, layers.Dense(classes, activation="softmax")(h))


def _lambda_model(marker):
    """A model whose Lambda layer creates ``marker`` whenever its code runs."""
    import keras
    from keras import layers

    def side_effect(x, path=str(marker)):
        open(path, "w").write("code from the model file ran")
        return x

    inp = keras.Input((32, 32, 1))
    h = layers.Lambda(side_effect)(inp)
    h = layers.GlobalAveragePooling2D()(h)
    return keras.Model(inp, layers.Dense(2, activation="softmax")(h))


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_lambda_model_is_refused_without_running_its_code(tmp_path, suffix):
    marker = tmp_path / "ran.txt"
    model = _lambda_model(marker)
    path = tmp_path / f"evil{suffix}"
    model.save(path)
    marker.unlink()  # building the model ran the code once, here, on purpose
    with pytest.raises(xc.ModelError) as err:
        import_model(path.read_bytes(), path.name, "evil")
    assert "Lambda" in str(err.value) and "without running it" in str(err.value)
    with pytest.raises(xc.ModelError):
        xc.load_model(path)
    assert not marker.exists(), "loading the model file ran its code"
    assert not (xc.config.user_models_dir() / "evil").exists()


def test_custom_layer_is_refused_in_a_fresh_process(tmp_path):
    import keras
    from keras import layers

    @keras.saving.register_keras_serializable(package="test")
    class Doubler(layers.Layer):
        def call(self, x):
            return x * 2

    inp = keras.Input((16, 16, 1))
    out = layers.Dense(2, activation="softmax")(layers.Flatten()(Doubler()(inp)))
    path = tmp_path / "custom.keras"
    keras.Model(inp, out).save(path)
    r = subprocess.run([sys.executable, "-m", "xai_core", "explain", "--model", str(path), "--image",
                        "synthetic-brain-mri:test:0", "--out", str(tmp_path / "e.npz")],
                       capture_output=True, text=True, cwd=ROOT)
    last = r.stderr.strip().splitlines()[-1]
    assert r.returncode == 2 and last.startswith("error: ") and "custom layer" in last, r.stderr


@pytest.mark.parametrize("make, needle", [
    (lambda: __import__("keras").Sequential([__import__("keras").Input((16, 16, 1)),
                                             __import__("keras").layers.Conv2D(3, 1)]), "not a classification vector"),
    (lambda: _cnn((16, 16, 5)), "not an image"),
])
def test_models_that_cannot_be_adapted_are_refused(tmp_path, make, needle):
    path = tmp_path / "m.keras"
    make().save(path)
    with pytest.raises(xc.ModelError, match=needle):
        import_model(path.read_bytes(), "m.keras", "bad-shape")


def test_legacy_h5_classifier_is_accepted_stored_as_keras_with_labels(tmp_path):
    model = _cnn(rescale=True)
    path = tmp_path / "legacy.h5"
    model.save(path)
    names = parse_labels("# my classes\ncat\ndog\n\nbird\n", 3)
    dest = import_model(path.read_bytes(), "legacy.h5", "my-legacy", names)
    assert (dest / "model.keras").is_file()
    lm = xc.load_model("my-legacy")
    assert lm.class_names == ["cat", "dog", "bird"] and lm.metadata.input_scale == "0-255"  # found the Rescaling
    x = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 1)).astype("float32")
    np.testing.assert_allclose(lm.predict_proba(x), np.asarray(model(x)), atol=1e-5)
    row = next(r for r in xc.list_models() if r["name"] == "my-legacy")
    assert row["source"] == "user"


def test_input_adaptation_is_stored_and_editable(tmp_path):
    model = _cnn((24, 24, 3))
    path = tmp_path / "rgb.keras"
    model.save(path)
    import_model(path.read_bytes(), "rgb.keras", "my-rgb", input_scale="0-1")
    img = np.random.default_rng(1).uniform(0, 255, (40, 50)).astype("float32")  # grey, other size
    before = xc.load_model("my-rgb")
    p1 = before.predict_proba(before.prepare(img))
    np.testing.assert_allclose(p1, np.asarray(model(before.prepare(img)[None] / 255.0)), atol=1e-5)
    update_adaptation("my-rgb", "caffe", ["a", "b", "c"])
    after = xc.load_model("my-rgb")
    assert after.file_hash != before.file_hash and after.class_names == ["a", "b", "c"]
    x = after.prepare(img)[None]
    expect = np.asarray(model(x[..., ::-1] - np.array([103.939, 116.779, 123.68], np.float32)))
    np.testing.assert_allclose(after.predict_proba(x), expect, atol=1e-4)
    with pytest.raises(xc.InputError, match="not one of your models"):
        update_adaptation("brain-basic-cnn", "0-255")


def test_any_size_model_needs_a_size_and_names_must_match(tmp_path):
    model = _cnn((None, None, 1))
    path = tmp_path / "any.keras"
    model.save(path)
    with pytest.raises(xc.InputError, match="any size"):
        import_model(path.read_bytes(), "any.keras", "my-any")
    dest = import_model(path.read_bytes(), "any.keras", "my-any", input_size=(48, 40))
    assert xc.load_model(dest).input_shape == (48, 40, 1)
    with pytest.raises(xc.InputError, match="3 outputs"):
        parse_labels('["a", "b"]', 3)
    with pytest.raises(xc.InputError, match="shipped"):
        import_model(path.read_bytes(), "any.keras", "brain-basic-cnn")
    with pytest.raises(xc.ModelError, match="empty"):
        import_model(b"", "x.keras", "my-empty")
    with pytest.raises(xc.ModelError, match="not a readable Keras model"):
        import_model(b"PK\x03\x04 definitely not a model", "x.keras", "my-junk")
