"""Cross-domain tables and the out-of-domain score."""

import json

import numpy as np
import pytest

import xai_core as xc
from tests.cli_run import cli
from tests.conftest import tiny_loaded
from xai_core.cross_domain import cross_domain, default_groups, parse_groups
from xai_core.domain import domain_check, ood_detector

BRAIN_CLASSES = ["glioma", "meningioma", "no_tumor", "pituitary"]


@pytest.fixture(scope="module")
def brain_on_lung():
    return cross_domain("brain-basic-cnn", "synthetic-lung-ct", groups="tumor=glioma,meningioma,pituitary")


def test_table_columns_sum_and_group_like_the_papers_tables(brain_on_lung):
    t = brain_on_lung.table
    p = t[[f"p_{c}" for c in BRAIN_CLASSES]].to_numpy()
    np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-5)
    np.testing.assert_allclose(t["p_group_tumor"], p[:, [0, 1, 3]].sum(1), atol=1e-12)
    assert list(t["argmax"]) == [BRAIN_CLASSES[i] for i in p.argmax(1)]
    assert set(t["actual"]) == {"benign", "malignant", "normal"}
    assert len(t) == len(xc.load_dataset("synthetic-lung-ct").split("test"))
    m = brain_on_lung.confusion()
    assert m.to_numpy().sum() == len(t) and list(m.index) == ["benign", "malignant", "normal"]
    assert list(m.columns) == BRAIN_CLASSES


def test_out_of_domain_score_separates_brain_from_lung(brain_on_lung):
    ood = brain_on_lung.summary["ood"]
    assert ood["available"] and ood["method"] == "mahalanobis" and ood["reference_dataset"] == "synthetic-brain-mri"
    assert ood["auroc"] >= 0.9, ood
    assert ood["flagged_fraction"] >= 0.8
    assert ood["source_test_flagged_fraction"] <= 0.15  # the threshold is the 95th percentile of validation
    assert brain_on_lung.table["outside_domain"].mean() == pytest.approx(ood["flagged_fraction"])


def test_the_brain_model_is_confidently_wrong_on_lung_ct(brain_on_lung):
    """The paper's finding: the model answers with high confidence, so confidence cannot be the warning."""
    t = brain_on_lung.table
    assert t["max_probability"].median() > 0.9
    assert t["p_group_tumor"].mean() > 0.5
    det = ood_detector("brain-basic-cnn", "max-softmax")
    lung = cross_domain("brain-basic-cnn", "synthetic-lung-ct", ood="max-softmax").summary["ood"]
    assert lung["auroc"] < 0.7 and det.threshold > 0  # max-softmax fails where Mahalanobis succeeds


def test_mnist_model_on_sklearn_digits_is_flagged_and_fails():
    r = cross_domain("mnist-cnn", "sklearn-digits")
    acc = float((r.table["argmax"] == r.table["actual"]).mean())
    assert acc < 0.8  # real digits, another domain: the MNIST model (97% on MNIST) fails
    assert r.summary["ood"]["auroc"] >= 0.9


def test_domain_check_on_single_images(brain):
    lung = xc.load_dataset("synthetic-lung-ct")
    check = domain_check("brain-basic-cnn", [brain.image("test", 0), lung.image("test", 0)])
    assert list(check.flags) == [False, True]
    assert check.message(0) == "" and "outside this model's training domain" in check.message(1)
    # plain words: a rank against the model's own held-out scans, the jargon only in the technical form
    det = check.detector
    assert check.percentile(1) == 100.0 * np.mean(det.val_scores < check.scores[1])
    assert check.percentile(0) <= det.percentile <= check.percentile(1)
    assert "mahalanobis" not in check.message(1).lower() and "mahalanobis" in check.technical(1).lower()
    assert ("every one of the" in check.message(1)) == (check.percentile(1) == 100.0)


def test_same_dataset_has_no_auroc_and_few_flags():
    r = cross_domain("brain-basic-cnn", "synthetic-brain-mri")
    assert r.summary["ood"]["auroc"] is None
    assert r.summary["ood"]["flagged_fraction"] < 0.15


def test_a_model_without_a_training_dataset_has_no_ood_score_but_still_a_table():
    model = tiny_loaded(input_shape=(28, 28, 1), classes=10)
    r = cross_domain(model, "sklearn-digits", cache=None)
    assert not r.summary["ood"]["available"] and "does not say" in r.summary["ood"]["reason"]
    assert "ood_score" not in r.table


def test_groups_are_parsed_and_checked():
    assert parse_groups("tumor=glioma, meningioma,pituitary; other = no_tumor", BRAIN_CLASSES) == {
        "tumor": ["glioma", "meningioma", "pituitary"], "other": ["no_tumor"]}
    assert parse_groups("", BRAIN_CLASSES) == {}
    for bad, needle in [("tumor", "NAME="), ("tumor=lung", "not a class"), ("a=glioma;a=pituitary", "twice"),
                        ("t=", "no classes"), ("bad name=glioma", "NAME=")]:
        with pytest.raises(xc.InputError, match=needle):
            parse_groups(bad, BRAIN_CLASSES)
    assert default_groups(BRAIN_CLASSES) == "tumor=glioma,meningioma,pituitary"
    assert default_groups(["benign", "malignant", "normal"]) == "abnormal=benign,malignant"


def test_cli_writes_the_table_and_a_summary(tmp_path):
    out = tmp_path / "table.csv"
    r = cli("cross-domain", "--model", "brain-basic-cnn", "--dataset", "synthetic-lung-ct",
            "--group", "tumor=glioma,meningioma,pituitary", "--out", out)
    assert r.returncode == 0, r.stderr
    import pandas as pd

    t = pd.read_csv(out)
    assert list(t.columns[:2]) == ["index", "actual"]
    for col in [f"p_{c}" for c in BRAIN_CLASSES] + ["p_group_tumor", "argmax", "ood_score"]:
        assert col in t.columns
    np.testing.assert_allclose(t[[f"p_{c}" for c in BRAIN_CLASSES]].sum(1), 1, atol=1e-5)
    summary = json.loads(out.with_suffix(".json").read_text())
    assert summary["ood"]["auroc"] >= 0.9 and summary["images"] == len(t)
    bad = cli("cross-domain", "--model", "brain-basic-cnn", "--dataset", "synthetic-lung-ct",
              "--group", "tumor=lungs", "--out", tmp_path / "x.csv")
    assert bad.returncode == 2 and bad.stderr.strip().splitlines()[-1].startswith("error: Group 'tumor'")
