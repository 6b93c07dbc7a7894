"""On a shared server one session's work never holds up another's, and a closed session's work stops."""

import threading
import time

import numpy as np
import pytest

import xai_core as xc
from pages._ui.liveness import SessionGone
from tests.conftest import tiny_cnn, tiny_loaded
from tests.test_harden_cancel import slow
from xai_core import cancel
from xai_core.errors import Cancelled


def test_a_model_load_waits_on_no_other_model(tmp_path, monkeypatch):
    """A's slow model is still loading (held here until B is done); B's other model loads meanwhile."""
    from xai_core import models

    for name, seed in (("slow-a", 0), ("quick-b", 1)):
        (tmp_path / name).mkdir()
        tiny_cnn((16, 16, 1), 3, seed=seed).save(tmp_path / name / "model.keras")
    release, a_started = threading.Event(), threading.Event()
    real = models._safe_load

    def safe_load(model_file):
        if model_file.parent.name == "slow-a":
            a_started.set()
            assert release.wait(120), "the test never released A"
        return real(model_file)

    monkeypatch.setattr(models, "_safe_load", safe_load)
    a = threading.Thread(target=xc.load_model, args=(tmp_path / "slow-a",), daemon=True)
    a.start()
    assert a_started.wait(60)
    b_done = threading.Event()
    b = threading.Thread(target=lambda: (xc.load_model(tmp_path / "quick-b"), b_done.set()), daemon=True)
    b.start()
    b.join(120)
    try:
        assert b_done.is_set() and a.is_alive()  # B finished while A was still loading: no global lock
    finally:
        release.set()
        a.join(120)
    assert xc.load_model(tmp_path / "slow-a").name == "slow-a"


def test_two_sessions_loading_the_same_model_share_one_load(tmp_path, monkeypatch):
    from xai_core import models

    (tmp_path / "m").mkdir()
    tiny_cnn((16, 16, 1), 3, seed=2).save(tmp_path / "m" / "model.keras")
    loads = []
    real = models._safe_load

    def counting(model_file):
        loads.append(model_file)
        time.sleep(0.2)  # long enough for the second session to arrive while the first loads
        return real(model_file)

    monkeypatch.setattr(models, "_safe_load", counting)
    got = []
    threads = [threading.Thread(target=lambda: got.append(xc.load_model(tmp_path / "m"))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(loads) == 1 and len(got) == 2 and got[0] is got[1]


class _Runtime:
    """Streamlit's runtime as the liveness flag sees it: which sessions are connected."""

    def __init__(self):
        self.active = {"alice", "bob"}

    def is_active_session(self, session_id: str) -> bool:
        return session_id in self.active


def test_a_closed_sessions_computation_stops_and_the_others_goes_on(monkeypatch):
    from streamlit.runtime import Runtime

    rt = _Runtime()
    monkeypatch.setattr(Runtime, "_instance", rt)
    alice, bob = SessionGone("alice"), SessionGone("bob")
    assert not alice.is_set() and not bob.is_set()
    model = tiny_loaded()
    x = np.random.default_rng(3).uniform(0, 255, (16, 16, 1)).astype(np.float32)
    model.forward_image(x)
    calls = slow(model)
    threading.Timer(0.2, rt.active.discard, args=("alice",)).start()  # A closes her tab mid-run
    with cancel.stop_on(alice), pytest.raises(Cancelled):
        xc.explain(model, x, max_evals=2000, batch_size=20, cache=None)
    assert 0 < sum(calls) < 2000 and alice.is_set() and not bob.is_set()
    with cancel.stop_on(bob):  # B, still connected, computes to the end
        assert xc.explain(model, x, max_evals=200, batch_size=50, cache=None) is not None
    assert not SessionGone(None).is_set()  # bare mode and AppTest: never set


def test_the_app_runs_every_page_under_the_liveness_flag():
    """app.py, not each page, puts the flag around the page: one seam covers every page."""
    import ast

    from tests.conftest import ROOT

    tree = ast.parse((ROOT / "app.py").read_text())
    withs = [n for n in ast.walk(tree) if isinstance(n, ast.With)]
    assert any("stop_on" in ast.unparse(w.items[0].context_expr) and "this_session" in ast.unparse(w)
               and "navigation" in ast.unparse(w.body[0]) for w in withs)
