"""Classification metrics of a model on a dataset split: the numbers of the model report.

The source paper (figs. 11-12) and thesis (Table 4.2) report per-class
precision, recall and F1, confusion matrices and accuracy; this adds what an
analyst comparing models needs next to them: one-vs-rest ROC AUC, log loss,
Cohen's kappa, balanced accuracy and the mean squared error between the
probabilities and the one-hot truth (the Brier score). scikit-learn computes
every figure, so they match it by construction; tests pin them on a fixed
example.
"""

from __future__ import annotations

import numpy as np

from .cache import DEFAULT_CACHE, DiskCache
from .errors import InputError


def classification_report(y_true, probs, class_names) -> dict:
    """Every metric for true labels (N,) and predicted probabilities (N, K), as plain JSON-able values."""
    from sklearn import metrics as skm

    y = np.asarray(y_true, np.int64)
    p = np.asarray(probs, np.float64)
    k = len(class_names)
    if p.ndim != 2 or p.shape != (len(y), k):
        raise InputError(f"Probabilities of shape {p.shape} do not match {len(y)} labels and {k} classes.")
    if len(y) == 0:
        raise InputError("There are no images to evaluate.")
    labels = np.arange(k)
    pred = p.argmax(1)
    cm = skm.confusion_matrix(y, pred, labels=labels)
    support = cm.sum(1)
    prec, rec, f1, _ = skm.precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    onehot = np.eye(k)[y]
    auc = []
    for c in labels:  # one-vs-rest, per class; undefined when a class is absent or alone
        auc.append(float(skm.roc_auc_score(onehot[:, c], p[:, c])) if 0 < support[c] < len(y) else None)
    present = [a for a in auc if a is not None]
    row_sums = np.maximum(support, 1)[:, None]
    per_class = [
        {"class": str(n), "support": int(support[i]), "accuracy": float(cm[i, i] / support[i]) if support[i] else None,
         "precision": float(prec[i]), "recall": float(rec[i]), "f1": float(f1[i]), "auc_ovr": auc[i]}
        for i, n in enumerate(class_names)]
    return {
        "n": int(len(y)),
        "accuracy": float(skm.accuracy_score(y, pred)),
        "balanced_accuracy": float(skm.balanced_accuracy_score(y, pred)) if support.any() else None,
        "cohen_kappa": float(skm.cohen_kappa_score(y, pred, labels=labels)),
        "log_loss": float(skm.log_loss(y, p / p.sum(1, keepdims=True), labels=labels)),
        "mse": float(np.mean((p - onehot) ** 2)),
        "macro_f1": float(np.mean(f1)),
        "macro_auc_ovr": float(np.mean(present)) if present else None,
        "per_class": per_class,
        "confusion": cm.astype(int).tolist(),
        "confusion_normalized": (cm / row_sums).tolist(),
        "class_names": [str(n) for n in class_names],
    }


def evaluate(model, dataset: str, split: str = "test", cache: DiskCache | None = DEFAULT_CACHE,
             progress=None) -> dict:
    """``classification_report`` of a model (name or LoadedModel) on a registered dataset split."""
    from .api import predict_split
    from .models import as_model
    from .data import load_dataset

    lm = as_model(model)
    ds = load_dataset(dataset)
    if list(ds.class_names) != list(lm.class_names):
        raise InputError(f"{lm.name} predicts {', '.join(lm.class_names)}, but {dataset} is labelled "
                         f"{', '.join(ds.class_names)}; a report needs the same classes. Use the cross-domain "
                         f"view to run a model on another dataset.")
    probs = predict_split(lm, dataset, split, cache=cache, progress=progress)
    out = classification_report(ds.split(split).labels, probs, lm.class_names)
    out.update(model=lm.name, dataset=dataset, split=split)
    return out
