import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# One throw-away cache for the whole run (datasets are generated once into it), so nothing from a developer's
# own cache can make a test pass. Models, audits and data folders live in it too: a test run never reads or
# writes ~/.local/share/xai-dashboard. Under pytest-xdist each worker gets its own folders, so two tests
# running at once never see each other's models, audits or uploads.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_BASE = os.environ.get("XAI_TEST_CACHE_DIR")
_CACHE = (Path(_BASE) / _WORKER if _BASE else Path(tempfile.mkdtemp(prefix=f"xai-test-cache-{_WORKER}")))
_CACHE.mkdir(parents=True, exist_ok=True)
os.environ["XAI_CACHE_DIR"] = str(_CACHE)
for _var, _sub in (("XAI_USER_MODELS_DIR", "user-models"), ("XAI_AUDITS_DIR", "audits"),
                   ("XAI_DATA_ROOTS", "data")):
    if _WORKER or _var not in os.environ:  # (a worker inherits the controller's choice: its own is safer)
        os.environ[_var] = str(_CACHE / _sub)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Forward passes on TensorFlow unless a test asks for OpenVINO (tests/test_openvino_backend.py): under
# `auto` every model a test loads would be converted and probed first (seconds each).
os.environ.setdefault("XAI_FORWARD_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def cache_dir() -> Path:
    return _CACHE


@pytest.fixture(scope="session")
def brain():
    import xai_core as xc

    return xc.load_dataset("synthetic-brain-mri")


@pytest.fixture(scope="session")
def brain_model():
    import xai_core as xc

    return xc.load_model("brain-basic-cnn")


def tiny_cnn(input_shape=(16, 16, 1), classes=3, head="dense-softmax", seed=0):
    """A small CNN with a chosen kind of head, for head and explainer tests."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    inp = keras.Input(input_shape)
    h = layers.Conv2D(4, 3, activation="relu", padding="same")(inp)
    h = layers.MaxPooling2D()(h)
    h = layers.Flatten()(h)
    if head == "dense-softmax":
        out = layers.Dense(classes, activation="softmax")(h)
    elif head == "softmax-layer":
        out = layers.Softmax()(layers.Dense(classes)(h))
    elif head == "activation-softmax":
        out = layers.Activation("softmax")(layers.Dense(classes)(h))
    elif head == "sigmoid-1":
        out = layers.Dense(1, activation="sigmoid")(h)
    elif head == "raw":
        out = layers.Dense(classes)(h)
    else:
        raise ValueError(head)
    model = keras.Model(inp, out)
    # make the weights large enough that outputs are far from uniform
    for w in model.weights:
        w.assign(np.asarray(w) * 3.0)
    return model


def tiny_loaded(head="dense-softmax", input_shape=(16, 16, 1), classes=3, seed=0):
    from xai_core.models import LoadedModel, ModelMetadata

    n = 2 if head == "sigmoid-1" else classes
    meta = ModelMetadata(class_names=[f"c{i}" for i in range(n)], input_size=input_shape[:2],
                         input_channels=input_shape[2], input_scale="0-1")
    return LoadedModel(tiny_cnn(input_shape, classes, head, seed), meta, f"tiny-{head}",
                       file_hash=f"tiny-{head}-{input_shape}-{seed}")
