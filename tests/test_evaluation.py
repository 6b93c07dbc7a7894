"""Classification metrics: equal to scikit-learn and to hand-computed figures on a fixed example."""

import numpy as np
import pytest
from sklearn import metrics as skm

import xai_core as xc
from xai_core.evaluation import classification_report, evaluate

Y = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 1])
P = np.array([[.8, .1, .1], [.6, .3, .1], [.2, .7, .1], [.1, .8, .1], [.3, .4, .3],
              [.1, .1, .8], [.2, .2, .6], [.5, .2, .3], [.1, .1, .8], [.1, .6, .3]])


def test_report_matches_sklearn_and_hand_counts():
    r = classification_report(Y, P, ["a", "b", "c"])
    pred = P.argmax(1)  # 0 0 1 1 1 2 2 0 2 1
    assert r["confusion"] == [[2, 1, 0], [0, 3, 0], [1, 0, 3]]  # counted by hand
    assert r["accuracy"] == pytest.approx(8 / 10)
    assert r["confusion_normalized"][0] == pytest.approx([2 / 3, 1 / 3, 0])
    prec, rec, f1, _ = skm.precision_recall_fscore_support(Y, pred)
    for i, row in enumerate(r["per_class"]):
        assert row["precision"] == pytest.approx(prec[i]) and row["recall"] == pytest.approx(rec[i])
        assert row["f1"] == pytest.approx(f1[i]) and row["accuracy"] == pytest.approx(rec[i])
        assert row["auc_ovr"] == pytest.approx(skm.roc_auc_score(Y == i, P[:, i]))
    assert r["per_class"][1]["precision"] == pytest.approx(3 / 4)  # 3 of the 4 called "b" are b
    assert r["macro_auc_ovr"] == pytest.approx(skm.roc_auc_score(Y, P, multi_class="ovr", average="macro"))
    assert r["log_loss"] == pytest.approx(skm.log_loss(Y, P))
    assert r["log_loss"] == pytest.approx(-np.mean(np.log(P[np.arange(10), Y])))
    assert r["cohen_kappa"] == pytest.approx(skm.cohen_kappa_score(Y, pred))
    assert r["balanced_accuracy"] == pytest.approx((2 / 3 + 1 + 3 / 4) / 3)
    assert r["mse"] == pytest.approx(np.mean((P - np.eye(3)[Y]) ** 2))


def test_absent_class_has_no_auc_and_bad_shapes_are_refused():
    r = classification_report(np.array([0, 0, 1]), np.array([[.9, .1, 0], [.4, .6, 0], [.2, .8, 0]]), "abc")
    assert r["per_class"][2]["auc_ovr"] is None and r["per_class"][2]["support"] == 0
    with pytest.raises(xc.InputError, match="do not match"):
        classification_report(Y, P[:, :2], ["a", "b", "c"])


def test_evaluate_shipped_model_agrees_with_its_metadata(brain_model):
    r = evaluate(brain_model, "synthetic-brain-mri")
    assert r["n"] == 240 and r["accuracy"] == pytest.approx(brain_model.metadata.test_accuracy, abs=0.005)
    assert sum(map(sum, r["confusion"])) == 240 and r["macro_auc_ovr"] > 0.95


def test_evaluate_refuses_a_dataset_with_other_classes(brain_model):
    with pytest.raises(xc.InputError, match="same classes"):
        evaluate(brain_model, "synthetic-lung-ct")
