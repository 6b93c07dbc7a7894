"""A cache that cannot be written must not break anything; an entry is served only for its own key."""

import errno
import logging
import os
import shutil

import numpy as np
import pytest

import xai_core as xc
from xai_core import cache as cache_mod
from xai_core.cache import DiskCache, stored_key
from tests.conftest import tiny_loaded


def _read_only(monkeypatch, root):
    """What a read-only file system under ``root`` does to the calls the cache makes (tests run as root, so
    chmod won't bite); elsewhere (the system's temporary folder) writing still works."""
    root = str(root)

    def refusing(real):
        def call(*args, **kw):
            if any(str(a).startswith(root) for a in args[:2]):
                raise OSError(errno.EROFS, "Read-only file system")
            return real(*args, **kw)
        return call

    for name in ("utime", "replace", "unlink", "mkdir", "rename"):
        monkeypatch.setattr(os, name, refusing(getattr(os, name)))


def _image(seed):
    return np.random.default_rng(seed).uniform(0, 255, (16, 16, 1)).astype(np.float32)


def test_warm_read_only_cache_serves_hits_and_returns_fresh_results(tmp_path, monkeypatch, caplog):
    model = tiny_loaded()
    cache = DiskCache(tmp_path)
    first = xc.explain(model, _image(0), max_evals=100, cache=cache)
    _read_only(monkeypatch, tmp_path)
    again = xc.explain(model, _image(0), max_evals=100, cache=cache)
    assert again.cached and cache.hits == 1
    np.testing.assert_array_equal(again.values, first.values)
    with caplog.at_level(logging.WARNING, logger="xai_core.cache"):
        a = xc.explain(model, _image(1), max_evals=100, cache=cache)  # misses: computed, not kept
        b = xc.explain(model, _image(2), max_evals=100, cache=cache)
    assert not a.cached and not b.cached and cache.write_errors == 2
    assert len([r for r in caplog.records if "cannot be written" in r.getMessage()]) == 1  # logged once
    monkeypatch.undo()
    assert not list(tmp_path.rglob("*.tmp.npz"))


def test_failed_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    model = tiny_loaded()
    cache = DiskCache(tmp_path)

    def refuse(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    e = xc.explain(model, _image(3), max_evals=100, cache=cache)
    monkeypatch.undo()
    assert e.values.shape == (3, 16, 16, 1) and cache.write_errors == 1
    assert not list(tmp_path.rglob("*.npz"))


def test_a_folder_where_the_entry_should_be_is_a_miss(tmp_path):
    model = tiny_loaded()
    cache = DiskCache(tmp_path)
    first = xc.explain(model, _image(4), max_evals=100, cache=cache)
    (entry,) = tmp_path.rglob("*.npz")
    entry.unlink()
    entry.mkdir()
    again = xc.explain(model, _image(4), max_evals=100, cache=cache)
    assert not again.cached and cache.write_errors == 1  # the folder cannot be replaced by a file
    np.testing.assert_array_equal(again.values, first.values)


def test_an_entry_swapped_for_another_valid_entry_is_not_served(tmp_path):
    model = tiny_loaded()
    cache = DiskCache(tmp_path)
    a = xc.explain(model, _image(5), max_evals=100, cache=cache)
    b = xc.explain(model, _image(6), max_evals=100, cache=cache)
    entries = {stored_key(p): p for p in tmp_path.rglob("*.npz")}
    assert len(entries) == 2 and all(p.stem == k for k, p in entries.items())  # the key is inside the entry
    pa, pb = sorted(entries.values(), key=lambda p: p.stat().st_mtime_ns)
    shutil.copyfile(pb, pa)  # a's file now holds b's (valid) result
    again = xc.explain(model, _image(5), max_evals=100, cache=cache)
    assert not again.cached and cache.errors == 1
    np.testing.assert_array_equal(again.values, a.values)
    assert not np.array_equal(again.values, b.values)


def test_every_cache_writer_goes_through_a_temporary_name(tmp_path):
    cache = DiskCache(tmp_path)
    written = []

    def save(value, path):
        written.append(path.name)
        np.savez(path, v=value)

    cache.get_or_compute("ab" * 32, "outputs", lambda: np.arange(3), lambda p: np.load(p)["v"], save)
    assert written[0].endswith(".tmp.npz") and f".{os.getpid()}." in written[0]
    value, hit = cache.get_or_compute("ab" * 32, "outputs", lambda: None, lambda p: np.load(p)["v"], save)
    assert hit and value.tolist() == [0, 1, 2]


def test_split_outputs_are_written_atomically(tmp_path, monkeypatch):
    """domain.py used to write straight to the final name; now a kill mid-write leaves only a temporary file."""
    from xai_core import domain

    names = []
    real = np.savez

    def spy(path, *a, **k):
        names.append(str(path))
        return real(path, *a, **k)

    monkeypatch.setattr(np, "savez", spy)
    model = tiny_loaded()
    images = np.random.default_rng(0).uniform(0, 255, (4, 16, 16, 1)).astype(np.float32)
    cache = DiskCache(tmp_path)
    out, hit = cache.get_or_compute("cd" * 32, "outputs", lambda: domain.image_outputs(model, images),
                                    lambda p: dict(np.load(p)), lambda v, p: np.savez(p, **v))
    assert names and all(n.endswith(".tmp.npz") for n in names)


def test_cli_serves_a_warm_read_only_cache(tmp_path, monkeypatch, capsys):
    from xai_core.cli import main

    out = tmp_path / "e.npz"
    args = ["explain", "--model", "brain-basic-cnn", "--image", "synthetic-brain-mri:test:1", "--max-evals", "100",
            "--out", str(out)]
    assert main(args) == 0
    capsys.readouterr()
    out.unlink()
    utime = os.utime

    def refuse(*a, **k):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(os, "utime", refuse)
    monkeypatch.setattr(os, "unlink", refuse)
    monkeypatch.setattr(cache_mod.DiskCache, "store", lambda *a, **k: pytest.fail("a hit must not write"))
    assert main(args) == 0, capsys.readouterr().err
    assert "cached" in capsys.readouterr().out and out.exists()
    assert utime is not os.utime


def test_app_serves_a_warm_read_only_cache(monkeypatch):
    """The page that broke ("Loading the model failed unexpectedly (OSError)") with a warm read-only cache."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    page = str(ROOT / "pages/shap_margin_vs_probability.py")
    at = AppTest.from_file(page, default_timeout=300).run()  # warms the disk cache
    assert not at.exception and not at.error, [e.value for e in at.error]
    st.cache_data.clear()  # the next visit must come from disk, not from Streamlit's memory
    hits = cache_mod.DEFAULT_CACHE.hits
    _read_only(monkeypatch, cache_mod.DEFAULT_CACHE.root.parent)
    at = AppTest.from_file(page, default_timeout=300).run()
    monkeypatch.undo()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert cache_mod.DEFAULT_CACHE.hits >= hits + 2  # both explanations came from the read-only cache
    assert "Margin (logit) space" in [s.value for s in at.subheader]
