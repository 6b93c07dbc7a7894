"""Work that can be stopped: time limits and stop flags end a computation within about one batch."""

import threading
import time

import numpy as np
import pytest

import xai_core as xc
from xai_core import cancel
from xai_core.errors import Cancelled
from tests.conftest import tiny_loaded


def slow(model, seconds=0.02):
    """Make ``model.forward`` sleep per call, like a big model on a small CPU; returns the call log."""
    calls = []
    inner = model.forward

    def forward(images, batch_size=256):
        calls.append(len(np.asarray(images).reshape(-1, *model.input_shape)))
        time.sleep(seconds)
        return inner(images, batch_size)

    model.forward = forward
    return calls


def test_limit_and_stop_flag_raise_cancelled_at_the_next_check():
    seen = []
    progress = cancel.guard(lambda f, msg: seen.append(f))
    progress(0.5, "half")  # no limit: passes through
    assert seen == [0.5]
    with cancel.limit(0.001):
        time.sleep(0.01)
        with pytest.raises(Cancelled, match="time limit of 0.001 s"):
            progress(0.6, "later")
        with cancel.limit(100):  # a nested, longer limit does not extend the outer one
            with pytest.raises(Cancelled):
                cancel.check()
    cancel.check()  # outside the scope again: nothing to stop
    stop = threading.Event()
    with cancel.stop_on(stop):
        cancel.check()
        stop.set()
        with pytest.raises(Cancelled, match="stopped"):
            progress(0.7, "after stop")
    assert seen == [0.5]  # the wrapped progress is not called once a stop is due


@pytest.mark.parametrize("method, params", [("shap-partition", {"max_evals": 2000}),
                                            ("lime", {"num_samples": 2000})])
def test_slow_explanation_stops_at_the_time_limit_within_a_batch(method, params):
    model = tiny_loaded()
    x = np.random.default_rng(0).uniform(0, 255, (16, 16, 1)).astype(np.float32)
    model.forward_image(x)  # the top-k pass, before the clock starts
    calls = slow(model)
    with cancel.limit(0.3), pytest.raises(Cancelled, match="time limit"):
        xc.explain(model, x, method=method, batch_size=20, cache=None, **params)
    done = sum(calls)
    assert 0 < done < 2000  # stopped early: 100 batches of 20 would take 2 s
    # the stop came within one batch of the first check past the deadline: at most one batch after it
    assert len(calls) <= int(0.3 / 0.02) + 2


def test_stop_button_from_another_thread_ends_the_compute():
    model = tiny_loaded()
    x = np.random.default_rng(1).uniform(0, 255, (16, 16, 1)).astype(np.float32)
    model.forward_image(x)
    calls = slow(model)
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    with cancel.stop_on(stop), pytest.raises(Cancelled, match="stopped"):
        xc.explain(model, x, max_evals=2000, batch_size=20, cache=None)
    assert 0 < sum(calls) < 2000


def test_default_time_limit_comes_from_the_environment(monkeypatch):
    model = tiny_loaded()
    x = np.random.default_rng(2).uniform(0, 255, (16, 16, 1)).astype(np.float32)
    model.forward_image(x)
    slow(model)
    monkeypatch.setenv("XAI_TIME_LIMIT_S", "0.2")
    with pytest.raises(Cancelled, match="XAI_TIME_LIMIT_S"):
        xc.explain(model, x, max_evals=2000, batch_size=20, cache=None)
    monkeypatch.setenv("XAI_TIME_LIMIT_S", "0")  # 0: no limit
    assert xc.explain(model, x, max_evals=60, batch_size=20, cache=None).values.shape[1:] == (16, 16, 1)


def test_cli_timeout_ends_a_slow_explanation_with_one_sentence(monkeypatch, capsys, tmp_path):
    from xai_core.cli import main
    from xai_core.models.loaded import LoadedModel

    inner = LoadedModel.forward

    def forward(self, images, batch_size=256):
        time.sleep(0.05)
        return inner(self, images, batch_size)

    monkeypatch.setattr(LoadedModel, "forward", forward)
    out = tmp_path / "e.npz"
    args = ["explain", "--model", "brain-basic-cnn", "--image", "synthetic-brain-mri:test:0", "--batch-size", "10",
            "--max-evals", "5000", "--no-cache", "--out", str(out)]
    for argv in (["--timeout", "1", *args], [*args, "--timeout", "1"]):  # before or after the command name
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: ") and "time limit of 1 s" in err[0], err
        assert not out.exists()
    assert main(["--timeout", "-1", *args]) == 2
    assert "positive" in capsys.readouterr().err
