"""The CLI for every method: generic --param, the method list as JSON, one-line errors with status 2."""

import json

import numpy as np
import pytest

from xai_core.cli import main

IMAGE = ["--model", "brain-basic-cnn", "--image", "synthetic-brain-mri:test:0", "--top-k", "1", "--no-cache"]


def test_explainers_json_lists_every_method_with_unit_family_and_params(capsys):
    assert main(["explainers", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) >= 14
    for r in rows:
        assert r["unit"] and r["family"] in ("gradient", "CAM", "perturbation", "SHAP")
        assert isinstance(r["additive"], bool) and isinstance(r["params"], dict)
    by = {r["name"]: r for r in rows}
    assert by["integrated-gradients"]["params"]["steps"] == 64 and by["integrated-gradients"]["additive"]
    assert by["grad-cam"]["unit"] == "Grad-CAM, relative"


def test_generic_param_reaches_the_method(tmp_path, capsys):
    out = tmp_path / "ig.npz"
    assert main(["explain", *IMAGE, "--method", "integrated-gradients", "--param", "steps=16",
                 "--param", "baseline=blurred", "--out", str(out)]) == 0
    assert "IG attribution (logit)" in capsys.readouterr().out
    with np.load(out) as z:
        assert json.loads(str(z["params"]))["steps"] == 16 and z["values"].shape == (1, 128, 128, 1)
    out2 = tmp_path / "sg.npz"
    assert main(["explain", *IMAGE, "--method", "smoothgrad", "--param", "magnitude=false", "--samples", "2",
                 "--out", str(out2)]) == 0
    with np.load(out2) as z:
        assert json.loads(str(z["params"]))["magnitude"] is False


@pytest.mark.parametrize("extra, needle", [
    (["--method", "integrated-gradients", "--param", "steps=abc"], "steps must be a int"),
    (["--method", "integrated-gradients", "--param", "nope=1"], "has no parameter 'nope'"),
    (["--method", "saliency", "--max-evals", "100"], "does not take --max-evals"),
    (["--method", "smoothgrad", "--param", "magnitude=maybe"], "true or false"),
    (["--method", "occlusion", "--param", "fill=purple"], "fill must be one of"),
])
def test_bad_parameters_exit_2_with_one_line(extra, needle, tmp_path, capsys):
    assert main(["explain", *IMAGE, *extra, "--out", str(tmp_path / "x.npz")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and needle in err and len(err.splitlines()) == 1
