"""The CLI: listing, explaining to .npz, and one-line errors with status 2."""

import json

import numpy as np
import pytest

from tests.cli_run import cli as run
from tests.cli_run import cli_process


def test_the_module_entry_point_runs_in_a_fresh_process(tmp_path):
    """The other tests call ``main`` in this process; this one runs ``python -m xai_core`` itself: its exit
    status and its one error line reach the shell."""
    bad = cli_process("explain", "--model", "no-such-model", "--image", "synthetic-brain-mri:test:0",
                      "--out", tmp_path / "e.npz")
    assert bad.returncode == 2, bad.stderr
    assert bad.stderr.strip().splitlines()[-1].startswith("error: No model named"), bad.stderr


def test_lists_are_machine_readable():
    ds = json.loads(run("datasets", "--json").stdout)
    assert "synthetic-brain-mri" in [d["name"] for d in ds]
    models = json.loads(run("models", "--json").stdout)
    brain = next(m for m in models if m["name"] == "brain-basic-cnn")
    assert brain["source"] == "shipped" and brain["test_accuracy"] >= 0.9
    ex = json.loads(run("explainers", "--json").stdout)
    assert "shap-partition" in [e["name"] for e in ex]
    assert "synthetic-brain-mri" in run("datasets").stdout


@pytest.mark.parametrize("output", ["margin", "probability"])
def test_explain_writes_the_documented_npz(tmp_path, output):
    out = tmp_path / "e.npz"
    r = run("explain", "--model", "brain-basic-cnn", "--image", "synthetic-brain-mri:test:0",
            "--method", "shap-partition", "--output", output, "--top-k", "2", "--max-evals", "300",
            "--masker", "blur(20,20)", "--seed", "3", "--out", str(out))
    assert r.returncode == 0, r.stderr
    with np.load(out, allow_pickle=False) as z:
        for key in ("values", "base_values", "output_values", "class_indices", "class_names",
                    "output_space", "method", "params"):
            assert key in z.files
        assert z["values"].shape == (2, 128, 128, 1)
        assert str(z["output_space"]) == output and str(z["method"]) == "shap-partition"
        params = json.loads(str(z["params"]))
        assert params == {"max_evals": 300, "masker": "blur(20,20)", "batch_size": 256, "seed": 3}
        total = z["base_values"] + z["values"].reshape(2, -1).sum(1)
        np.testing.assert_allclose(total, z["output_values"], rtol=1e-4, atol=1e-8)


def test_explain_with_lime_writes_segments_weights_and_fit(tmp_path):
    out = tmp_path / "lime.npz"
    r = run("explain", "--model", "brain-basic-cnn", "--image", "synthetic-brain-mri:test:4", "--method", "lime",
            "--segmenter", "felzenszwalb", "--segmenter-param", "scale=60", "--segmenter-param", "min_size=40",
            "--num-samples", "300", "--output", "probability", "--top-k", "2", "--seed", "5", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "fit R^2" in r.stdout
    with np.load(out, allow_pickle=False) as z:
        seg, w = z["segments"], z["weights"]
        assert seg.shape == (128, 128) and w.shape == (2, seg.max() + 1)
        for key in ("intercept", "score", "local_pred", "class_indices", "class_names", "params"):
            assert z[key].shape[:1] in ((2,), ()), key
        assert [str(c) for c in z["class_names"]] and str(z["method"]) == "lime"
        params = json.loads(str(z["params"]))
        assert params["segmenter"] == "felzenszwalb" and params["num_samples"] == 300 and params["seed"] == 5
        assert params["segmenter_params"] == {"scale": 60.0, "min_size": 40, "sigma": 0.5}


def test_explain_an_image_file(tmp_path):
    from PIL import Image

    import xai_core as xc

    img = xc.load_dataset("synthetic-brain-mri").image("test", 5)[..., 0]
    Image.fromarray(img).resize((256, 256)).convert("RGB").save(tmp_path / "scan.png")
    r = run("explain", "--model", "brain-basic-cnn", "--image", str(tmp_path / "scan.png"),
            "--max-evals", "200", "--top-k", "1", "--out", str(tmp_path / "e.npz"))
    assert r.returncode == 0, r.stderr
    with np.load(tmp_path / "e.npz") as z:
        assert z["values"].shape == (1, 128, 128, 1)


@pytest.mark.parametrize("args, needle", [
    (["--model", "no-such-model", "--image", "synthetic-brain-mri:test:0"], "No model named"),
    (["--model", "brain-basic-cnn", "--image", "missing.png"], "neither an image file"),
    (["--model", "brain-basic-cnn", "--image", "synthetic-brain-mri:test:99999"], "outside"),
    (["--model", "brain-basic-cnn", "--image", "synthetic-brain-mri:test:0", "--max-evals", "3"], "at least"),
    (["--model", "brain-basic-cnn", "--image", "synthetic-brain-mri:test:0", "--masker", "wobble"], "masker"),
    (["--model", "brain-basic-cnn", "--image", "synthetic-brain-mri:test:0", "--top-k", "9"], "top_k"),
    (["--model", "brain-basic-cnn", "--image", "synthetic-brain-mri:test:0", "--output", "logodds"], "invalid choice"),
    (["--model", "brain-basic-cnn", "--image", "synthetic-brain-mri:test:0", "--method", "lime",
      "--segmenter", "slico"], "Did you mean"),
    (["--model", "brain-basic-cnn", "--image", "synthetic-brain-mri:test:0", "--method", "lime",
      "--segmenter-param", "scale=10"], "no parameter 'scale'"),
    (["--model", "brain-basic-cnn", "--image", "synthetic-brain-mri:test:0", "--method", "lime",
      "--segmenter-param", "n_segments"], "NAME=VALUE"),
    (["--model", "brain-basic-cnn", "--image", "synthetic-brain-mri:test:0", "--segmenter", "slic"],
     "does not take --segmenter"),
])
def test_bad_input_exits_2_with_one_error_line(tmp_path, args, needle):
    r = run("explain", *args, "--out", str(tmp_path / "e.npz"))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and needle in last, r.stderr
    assert not (tmp_path / "e.npz").exists()


def test_a_non_image_file_is_refused(tmp_path):
    bad = tmp_path / "scan.png"
    bad.write_bytes(b"this is not a png at all")
    r = run("explain", "--model", "brain-basic-cnn", "--image", str(bad), "--out", str(tmp_path / "e.npz"))
    assert r.returncode == 2 and "not a readable image" in r.stderr.strip().splitlines()[-1]
