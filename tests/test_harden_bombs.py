"""Memory bombs are refused before their bytes are expanded, in one sentence, within 1.5x a normal run's memory.

Each hostile file is built here and run through the CLI in a fresh wrapper process, whose
``RUSAGE_CHILDREN`` gives the CLI's peak resident memory; a normal run of the same command and size
is the yardstick. Limits are set low through the environment so that small files still exceed them.
"""

import numpy as np
import pytest

from tests.conftest import tiny_cnn
from tests.hostile import cli_peak, deep_json, dicom_bytes, error_lines, keras_bytes


@pytest.fixture(scope="module")
def env(tmp_path_factory, cache_dir):
    d = tmp_path_factory.mktemp("bombs")
    return {"XAI_CACHE_DIR": str(cache_dir), "XAI_USER_MODELS_DIR": str(d / "models"),
            "XAI_DICOM_MAX_MB": "8", "XAI_MODEL_CONFIG_MAX_MB": "1"}


def _refused_in_one_line(r, needle):
    assert r["rc"] == 2, r["stderr"][-2000:]
    errors = error_lines(r["stderr"])
    assert len(errors) == 1 and needle in errors[0], r["stderr"][-2000:]


def test_deflated_dicom_bomb_is_refused_while_inflating(tmp_path, env):
    from xai_core.data.dicom import check_inflated_size

    bomb = dicom_bytes(private_bytes=64 * 2**20, deflated=True)  # ~65 KB on disk, 64 MB inflated
    assert len(bomb) < 2**20
    check_inflated_size(bomb, limit=2**30)  # control: under a 1 GB limit it is a valid file
    (tmp_path / "bomb.dcm").write_bytes(bomb)
    (tmp_path / "scan.dcm").write_bytes(dicom_bytes(deflated=True))
    args = ["explain", "--model", "brain-basic-cnn", "--max-evals", "100", "--no-cache", "--out"]
    normal = cli_peak([*args, str(tmp_path / "n.npz"), "--image", str(tmp_path / "scan.dcm")], env)
    assert normal["rc"] == 0, normal["stderr"][-2000:]
    hostile = cli_peak([*args, str(tmp_path / "b.npz"), "--image", str(tmp_path / "bomb.dcm")], env)
    _refused_in_one_line(hostile, "would expand to more than 8 MB")
    assert hostile["peak_mb"] <= 1.5 * normal["peak_mb"], (hostile["peak_mb"], normal["peak_mb"])


@pytest.fixture(scope="module")
def keras_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("keras")
    model = tiny_cnn((32, 32, 1))
    files = {"normal": keras_bytes(model), "huge-config": keras_bytes(model, pad_config_bytes=32 * 2**20),
             "deep-json": keras_bytes(model, config_json=deep_json(100_000))}
    for name, data in files.items():
        (d / f"{name}.keras").write_bytes(data)
    assert max(len(b) for b in files.values()) < 2**20  # each under 1 MB on disk
    return d


def test_huge_config_and_deep_json_keras_files_are_refused(keras_files, env):
    def run(name):
        return cli_peak(["import-model", "--file", str(keras_files / f"{name}.keras"), "--name", name], env)

    normal = run("normal")
    assert normal["rc"] == 0, normal["stderr"][-2000:]
    huge, deep = run("huge-config"), run("deep-json")
    _refused_in_one_line(huge, "declares a config.json of 32 MB; the limit is 1 MB")
    _refused_in_one_line(deep, "nested 100,001 levels deep")
    for r in (huge, deep):
        assert r["peak_mb"] <= 1.5 * normal["peak_mb"], (r["peak_mb"], normal["peak_mb"])


def test_deep_json_is_one_sentence_everywhere_it_is_read():
    from xai_core import InputError
    from xai_core.limits import json_depth, json_loads
    from xai_core.models.importing import parse_labels

    text = deep_json(100_000)
    assert json_depth(text) == 100_001 and json_depth('{"a": "[[[[", "b": [1, {"c": 2}]}') == 3
    with pytest.raises(InputError, match="nested 100,001 levels deep"):
        json_loads(text, "This file")
    with pytest.raises(InputError, match="labels file is nested"):
        parse_labels("[" * 50_000 + "]" * 50_000)
    assert json_loads('{"a": [1, 2]}', "x") == {"a": [1, 2]}


def test_batches_are_sized_by_bytes_against_the_memory_budget(monkeypatch):
    from xai_core import config
    from xai_core.models import LoadedModel, ModelMetadata

    monkeypatch.setenv("XAI_BATCH_MEMORY_MB", "4")
    assert config.batch_size_for(2**20) == 4 and config.batch_size_for(2**20, 2) == 2
    assert config.batch_size_for(2**30) == 1  # never zero
    assert config.batch_size_for(1) == 256  # small images: the usual count
    meta = ModelMetadata(class_names=["a", "b", "c"], input_size=(64, 64), input_channels=3, input_scale="0-1")
    lm = LoadedModel(tiny_cnn((64, 64, 3)), meta, "wide", file_hash="wide")
    # input 48 KB + conv 64 KB + pool 16 KB + flatten 16 KB + dense: about 145 KB per image
    assert 140_000 < lm.per_image_bytes < 150_000
    assert lm.batch_size_for() == 4 * 2**20 // lm.per_image_bytes
    calls = []
    inner = lm._fn
    lm._fn = lambda x: calls.append(len(x)) or inner(x)
    x = np.random.default_rng(0).uniform(0, 255, (100, 64, 64, 3)).astype(np.float32)
    m, p = lm.forward(x)  # asked for 256 a batch; the budget allows 28
    assert max(calls) == lm.batch_size_for() and sum(calls) == 100 and m.shape == (100, 3)
    monkeypatch.setenv("XAI_BATCH_MEMORY_MB", "512")
    calls.clear()
    m2, _ = lm.forward(x)
    assert calls == [100]
    np.testing.assert_allclose(m, m2, rtol=1e-5, atol=1e-5)  # same results, only the batching differs
