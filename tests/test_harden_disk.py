"""Disk bombs and leftovers: zip ratio and budget limits, deleting what you added, nothing left by a kill."""

import io
import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile

import numpy as np
import pytest

import xai_core as xc
from tests import files
from tests.cli_run import cli
from tests.hostile import zip_bytes
from xai_core import userdata
from xai_core.data.archive import extract_zip


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("XAI_DATA_ROOTS", str(root))
    monkeypatch.setenv("XAI_USER_MODELS_DIR", str(tmp_path / "models"))
    # a cache of its own: the session's shared cache holds other tests' decoded folder copies, which count
    monkeypatch.setenv("XAI_CACHE_DIR", str(tmp_path / "cache"))
    return root


def _dataset_zip(tmp_path, name="ds", extra=None) -> bytes:
    files.class_tree(tmp_path / "src" / name, {"a": 3, "b": 3})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in sorted((tmp_path / "src" / name).rglob("*")):
            if f.is_file():
                zf.write(f, f.relative_to(tmp_path / "src").as_posix())
        for n, data in (extra or {}).items():
            zf.writestr(n, data, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def _nothing_unpacked(root):
    up = root / "uploads"
    return not up.exists() or not any(up.iterdir())


def test_zip_of_zeros_is_refused_by_its_expansion_ratio(data_root, tmp_path):
    data = _dataset_zip(tmp_path, extra={"ds/a/zeros.png": bytes(20 * 2**20)})  # 20 MB of zeros in ~20 KB
    assert len(data) < 2**20
    with pytest.raises(xc.InputError, match="expands more than 200 times"):
        extract_zip(data, "zeros.zip")
    assert _nothing_unpacked(data_root)


def test_a_zip_that_is_not_a_dataset_leaves_nothing_behind(data_root):
    with pytest.raises(xc.InputError, match="two class subfolders") as err:
        extract_zip(zip_bytes({"notes/readme.txt": b"hello"}), "notes.zip")
    assert ".unpacking" not in str(err.value) and "notes.zip" in str(err.value)
    assert _nothing_unpacked(data_root)


def test_long_member_name_says_the_name_is_too_long(data_root, tmp_path):
    data = _dataset_zip(tmp_path, extra={"ds/a/" + "x" * 300 + ".png": b"png"})
    with pytest.raises(xc.InputError, match="name is 304 characters long"):
        extract_zip(data, "long.zip")
    assert _nothing_unpacked(data_root)


def test_user_data_budget_refuses_with_a_way_out_and_delete_frees_it(data_root, tmp_path, monkeypatch, capsys):
    from xai_core.cli import main

    first = extract_zip(_dataset_zip(tmp_path, "one"), "one.zip")
    used = userdata.used_bytes()
    assert used > 0 and [i.name for i in userdata.items()] == ["one"]
    monkeypatch.setenv("XAI_USER_DATA_MAX_MB", str(used * 1.5 / 2**20))
    with pytest.raises(xc.InputError, match="no room.*delete something you added.*user-data --delete"):
        extract_zip(_dataset_zip(tmp_path, "two"), "two.zip")
    assert [p.name for p in (data_root / "uploads").iterdir()] == ["one"]
    assert main(["user-data", "--list"]) == 0
    listing = capsys.readouterr().out
    assert "one" in listing and "dataset" in listing and "XAI_USER_DATA_MAX_MB" in listing
    assert main(["user-data", "--delete", "one"]) == 0
    assert "deleted dataset one" in capsys.readouterr().out and not first.exists()
    assert main(["user-data", "--delete", "one"]) == 2
    assert "Nothing you added is called 'one'" in capsys.readouterr().err
    assert extract_zip(_dataset_zip(tmp_path, "two"), "two.zip").name == "two"  # room again


def test_deleting_forgets_the_copies_the_loaders_hold_in_memory(data_root, tmp_path):
    """userdata sits below the loaders: they register their public ``forget`` with it, and delete calls them."""
    from tests.conftest import tiny_cnn
    from xai_core import models
    from xai_core.data.folder import dataset_name

    name = dataset_name(extract_zip(_dataset_zip(tmp_path, "one"), "one.zip"))
    assert len(xc.load_dataset(name).split("train")) > 0
    folder = tmp_path / "models" / "tiny"
    folder.mkdir(parents=True)
    tiny_cnn().save(folder / "model.keras")
    assert xc.load_model("tiny").name == "tiny"
    userdata.delete("one")
    with pytest.raises(xc.InputError):  # not served from memory: the folder is gone
        xc.load_dataset(name)
    assert userdata.delete("tiny").kind == "model" and models.forget(folder) == 0  # already forgotten


def test_decoded_folder_copies_live_in_the_bounded_cache(data_root, tmp_path):
    from xai_core.cache import DECODED_KIND, DEFAULT_CACHE
    from xai_core.data.folder import load_folder

    dest = extract_zip(_dataset_zip(tmp_path, "dec"), "dec.zip")
    load_folder(dest)
    copies = list((DEFAULT_CACHE.root / DECODED_KIND).rglob("*.npz"))
    assert copies and not list((xc.config.cache_dir() / "datasets").glob("folder-*.npz"))
    assert any(i.kind == userdata.DECODED and i.bytes > 0 for i in userdata.items())  # counted in the budget
    assert load_folder(dest).class_names == ("a", "b")  # served from the copy


_KILLED_WRITER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, sys.argv[1])
    import numpy as np
    from xai_core.cache import DEFAULT_CACHE
    from xai_core.data.archive import extract_zip

    def slow_save(value, path):
        np.savez(path, v=value)
        print("WRITING", flush=True)
        time.sleep(600)  # killed here: the temporary file is on disk, the entry is not

    def slow_unpack(fraction, message):
        print("UNPACKING", flush=True)
        time.sleep(600)

    if sys.argv[2] == "cache":
        DEFAULT_CACHE.store("ef" * 32, "outputs", np.arange(10), slow_save)
    else:
        extract_zip(open(sys.argv[3], "rb").read(), "killed.zip", progress=slow_unpack)
""")


def _kill_while(stage, env, *args):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    p = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, root, stage, *args], stdout=subprocess.PIPE,
                         env={**os.environ, **env, "TF_CPP_MIN_LOG_LEVEL": "3"}, text=True)
    assert p.stdout.readline().strip() in ("WRITING", "UNPACKING")
    p.send_signal(signal.SIGKILL)
    p.wait()


def test_kill_during_writes_leaves_nothing_the_next_start_does_not_clean(data_root, tmp_path):
    from xai_core.cli import main

    env = {"XAI_DATA_ROOTS": str(data_root), "XAI_CACHE_DIR": str(tmp_path / "cache")}
    (tmp_path / "ds.zip").write_bytes(_dataset_zip(tmp_path, "k"))
    _kill_while("unpack", env, str(tmp_path / "ds.zip"))  # (an unpack first sweeps older leftovers itself)
    _kill_while("cache", env)
    temps = list((tmp_path / "cache").rglob("*.tmp.npz"))
    partial = [p for p in (data_root / "uploads").iterdir() if p.name.startswith(".unpacking-")]
    assert len(temps) == 1 and len(partial) == 1  # what the kills left behind
    assert not list((tmp_path / "cache").rglob("efef*[0-9a-f].npz"))  # and no entry was half-written
    r = cli("user-data", "--list", env=env)
    assert r.returncode == 0, r.stderr
    assert not temps[0].exists() and not partial[0].exists()  # the next start removed both


def test_housekeeping_leaves_live_writers_alone(data_root, tmp_path, monkeypatch):
    monkeypatch.setenv("XAI_CACHE_DIR", str(tmp_path / "cache"))
    mine = tmp_path / "cache" / "results" / "outputs" / "ab" / f"{'ab' * 32}.{os.getpid()}.1.tmp.npz"
    mine.parent.mkdir(parents=True)
    np.savez(mine, v=np.arange(3))
    live = data_root / "uploads" / f".unpacking-{os.getpid()}-x"
    live.mkdir(parents=True)
    fresh = data_root / "uploads" / ".unpacking-no-pid"
    fresh.mkdir()
    old = data_root / "uploads" / ".unpacking-old"
    old.mkdir()
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    removed = userdata.housekeeping()
    assert mine.exists() and live.exists() and fresh.exists() and removed == [old]
