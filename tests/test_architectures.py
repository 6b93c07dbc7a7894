"""Every registered architecture builds, trains a step, saves, and loads back as an explainable model."""

import numpy as np
import pytest

import xai_core as xc
from tests.test_openvino_backend import assert_openvino_matches
from xai_core.models.architectures import ARCHITECTURES, learning_rate


@pytest.fixture
def no_keras_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    return tmp_path / "keras-home"


@pytest.mark.parametrize("name", ARCHITECTURES.names())
def test_builds_trains_one_step_and_loads_safely(name, tmp_path, no_keras_weights):
    import keras

    from xai_core.models import LoadedModel, ModelMetadata, load_model

    keras.utils.set_random_seed(0)
    spec = ARCHITECTURES.get(name)
    shape = (32, 32, 1)
    model = spec.build(shape, 3)
    x = np.random.default_rng(0).uniform(0, 1, (4, *shape)).astype("float32")
    y = np.array([0, 1, 2, 0])
    out = np.asarray(model(x, training=False))
    assert out.shape == (4, 3)
    np.testing.assert_allclose(out.sum(1), 1, atol=1e-5)
    # one step, run eagerly: tracing InceptionV3's training graph for a single step cost ~40 s of CI (191 s vs
    # 7.5 s eager, measured under load); the gradients and the update are the same
    model.compile(optimizer=keras.optimizers.Adam(learning_rate(spec)), loss="sparse_categorical_crossentropy",
                  run_eagerly=True)
    before = [np.array(w) for w in model.trainable_weights]
    assert before, "nothing to train"
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    changed = sum(not np.array_equal(b, np.array(w)) for b, w in zip(before, model.trainable_weights))
    assert changed > 0
    # saves and loads back through safe_mode, and its margin head is verified
    path = tmp_path / "m.keras"
    model.save(path)
    meta = ModelMetadata(class_names=["a", "b", "c"], input_size=shape[:2], input_channels=1,
                         input_scale=spec.input_scale)
    meta.write(tmp_path / "metadata.json")
    lm = load_model(path)
    assert isinstance(lm, LoadedModel) and lm.head_error < 1e-4
    assert_openvino_matches(lm)  # the OpenVINO forward backend takes it, with TensorFlow's outputs
    if spec.augment is not None:
        aug = spec.augment((0.0, 1.0), 0)
        a, b = np.asarray(aug(x)), np.asarray(spec.augment((0.0, 1.0), 0)(x))
        np.testing.assert_array_equal(a, b)  # same seed, same draws
        assert a.shape == x.shape and not np.allclose(a, x) and a.min() >= 0 and a.max() <= 1


def test_transfer_without_local_weights_says_so_and_trains_everything(no_keras_weights):
    spec = ARCHITECTURES.get("transfer-mobilenetv2")
    notice = spec.notice()
    assert "not in the local Keras cache" in notice and "from scratch" in notice
    assert str(no_keras_weights) in notice
    assert learning_rate(spec) == 1e-3
    model = spec.build((32, 32, 1), 2)
    assert all(layer.trainable for layer in model.layers)


def test_transfer_uses_weights_from_the_local_keras_cache(no_keras_weights):
    """A weights file placed in the Keras cache is loaded (nothing downloaded) and the paper's first
    100 layers are frozen; the notice disappears and the learning rate drops to the paper's 3e-5."""
    import h5py
    import keras
    from keras.src.legacy.saving import legacy_h5_format

    keras.utils.set_random_seed(1)
    donor = keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(32, 32, 3))
    folder = no_keras_weights / "models"
    folder.mkdir(parents=True)
    with h5py.File(folder / "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5", "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, donor)
    spec = ARCHITECTURES.get("transfer-mobilenetv2")
    assert spec.notice() is None and learning_rate(spec) == 3e-5
    model = spec.build((32, 32, 1), 2)
    conv = model.get_layer("Conv1")
    np.testing.assert_array_equal(np.array(conv.kernel), np.array(donor.get_layer("Conv1").kernel))
    backbone = [layer for layer in model.layers if not layer.name.startswith(("head_", "output"))]
    frozen = [layer.name for layer in backbone if not layer.trainable]
    assert 95 <= len(frozen) <= 101 and backbone[-1].trainable


def test_training_writes_model_metadata_and_metrics(tmp_path):
    from xai_core.training import train

    epochs_seen, batches_seen = [], []
    meta = train("synthetic-brain-mri", "augmented-cnn", tmp_path / "m", epochs=2, limit=24, batch_size=8,
                 on_epoch=lambda e, n, logs: epochs_seen.append((e, n, sorted(logs))),
                 on_batch=lambda e, b, n: batches_seen.append((e, b, n)))
    assert (tmp_path / "m" / "model.keras").is_file() and (tmp_path / "m" / "metadata.json").is_file()
    assert [e for e, _, _ in epochs_seen] == [1, 2] and "val_loss" in epochs_seen[0][2]
    assert batches_seen[:3] == [(1, 1, 3), (1, 2, 3), (1, 3, 3)]
    assert meta.arch == "augmented-cnn" and meta.trained_with["augmented"] and meta.trained_with["limit"] == 24
    assert meta.test_metrics["n"] == 24 and meta.test_accuracy == meta.test_metrics["accuracy"]
    assert len(meta.history["loss"]) == 2 and "--limit 24" in meta.trained_with["command"]
    lm = xc.load_model(tmp_path / "m")
    probs = lm.predict_proba(xc.load_dataset("synthetic-brain-mri").split("test").images[:24])
    labels = xc.load_dataset("synthetic-brain-mri").split("test").labels[:24]
    assert abs(float((probs.argmax(1) == labels).mean()) - meta.test_accuracy) < 1e-9


def test_training_is_deterministic_for_a_seed(tmp_path):
    from xai_core.training import train

    a = train("sklearn-digits", "basic-cnn", tmp_path / "a", epochs=1, limit=32, seed=3)
    b = train("sklearn-digits", "basic-cnn", tmp_path / "b", epochs=1, limit=32, seed=3)
    assert a.history == b.history


@pytest.mark.parametrize("kwargs, needle", [
    (dict(epochs=0), "epochs"), (dict(limit=0), "limit"), (dict(arch="resnet-9000"), "Unknown architecture"),
])
def test_training_refuses_bad_settings(tmp_path, kwargs, needle):
    from xai_core.training import train

    args = dict(dataset="sklearn-digits", arch="basic-cnn", out=tmp_path / "x") | kwargs
    with pytest.raises(xc.InputError, match=needle):
        train(**args)
    assert not (tmp_path / "x").exists()
