"""The CLI with your own files: DICOM in, malformed files out with status 2, models and zips added safely."""

import io
import zipfile

import numpy as np

from tests import files
from tests.cli_run import cli as run


def last_line(r):
    return r.stderr.strip().splitlines()[-1]


def test_explain_a_real_dicom_slice(tmp_path):
    out = tmp_path / "ct.npz"
    r = run("explain", "--model", "brain-basic-cnn", "--image", str(files.pydicom_file("CT_small.dcm")),
            "--max-evals", "300", "--top-k", "1", "--out", str(out))
    assert r.returncode == 0, r.stderr
    z = np.load(out)
    assert z["values"].shape == (1, 128, 128, 1) and float(z["residuals"].max()) < 1e-4


def test_every_malformed_file_exits_2_with_one_line(tmp_path):
    cases = files.malformed()
    for case, (name, data, words) in cases.items():
        p = tmp_path / name
        p.write_bytes(data)
    results = [run("explain", "--model", "brain-basic-cnn", "--image", tmp_path / n, "--out", tmp_path / f"{n}.npz")
               for n, _, _ in cases.values()]
    assert [r.returncode for r in results] == [2] * len(cases), [r.stderr[-500:] for r in results]
    for r, (name, data, words) in zip(results, cases.values()):
        errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error: ")]
        assert len(errors) == 1 and "Traceback" not in r.stderr, (name, r.stderr)
        assert words in errors[0], (name, errors[0])
    assert not list(tmp_path.glob("*.npz"))


def test_import_model_refuses_lambda_and_adds_a_plain_model(tmp_path):
    import keras
    from keras import layers

    inp = keras.Input((16, 16, 1))
    evil = keras.Model(inp, layers.Dense(2, activation="softmax")(layers.Flatten()(layers.Lambda(lambda x: x)(inp))))
    evil.save(tmp_path / "evil.keras")
    r = run("import-model", "--file", str(tmp_path / "evil.keras"), "--name", "cli-evil")
    assert r.returncode == 2 and "Lambda" in last_line(r)
    good = keras.Model(inp, layers.Dense(3, activation="softmax")(layers.Flatten()(inp)))
    good.save(tmp_path / "good.keras")
    (tmp_path / "labels.txt").write_text("a\nb\nc\n")
    r = run("import-model", "--file", str(tmp_path / "good.keras"), "--name", "cli-good", "--labels",
            str(tmp_path / "labels.txt"), "--scale", "0-255")
    assert r.returncode == 0 and "a, b, c" in r.stdout, r.stderr
    r = run("explain", "--model", "cli-good", "--image", str(files.pydicom_file("MR_small.dcm")), "--max-evals",
            "100", "--out", str(tmp_path / "e.npz"))
    assert r.returncode == 0, r.stderr


def test_add_dataset_from_a_zip_and_refuse_a_folder_outside(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    files.class_tree(tmp_path / "src" / "ds", {"a": 4, "b": 4})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in (tmp_path / "src").rglob("*.png"):
            zf.write(f, f.relative_to(tmp_path / "src").as_posix())
    (tmp_path / "ds.zip").write_bytes(buf.getvalue())
    env = {"XAI_DATA_ROOTS": str(root)}
    r = run("add-dataset", "--zip", str(tmp_path / "ds.zip"), env=env)
    assert r.returncode == 0 and "folder:uploads/ds: classes a, b" in r.stdout, r.stderr
    r = run("datasets", env=env)
    assert "folder:uploads/ds" in r.stdout
    r = run("add-dataset", "--folder", str(tmp_path / "src"), env=env)
    assert r.returncode == 2 and "outside the data folders" in last_line(r)
