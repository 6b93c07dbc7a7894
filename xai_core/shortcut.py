"""Find a shortcut: does a model score well for the wrong reason, and do its explanations show it?

Three questions, each answered from data the project already has:

1. ``recall_drop``: accuracy and per-class recall on a split with the
   suspected shortcut (``test``) and on the same kind of scans without it
   (``test-clean``). A class whose recall collapses is the class the model
   recognises by the shortcut.
2. ``clean_failures``: the scans the model gets wrong once the shortcut is
   gone (and, where the clean split holds the very same scans, right while it
   was there).
3. ``audit``: per explanation method, over the scans that carry the shortcut,
   the mean share of positive attribution on the shortcut's mask
   (``metrics/marker_share.py``) beside the share on the lesion
   (``metrics/focus.py``). A method that reveals the shortcut puts much of the
   credit on the marker; one that hides it spreads it elsewhere.

A dataset qualifies when it has a clean split (``meta["clean_split"]``) or
a second mask (``Split.extra_masks``); ``shortcut_setup`` finds both.
"""

from __future__ import annotations

import numpy as np

from .errors import InputError
from .metrics.focus import focus_score
from .metrics.marker_share import MASK_NAME, marker_share_score
from .params import Progress

AUDIT_PARAMS = {"shap-partition": {"max_evals": 1000}, "lime": {"num_samples": 1000}}


def shortcut_setup(ds) -> dict:
    """Which split is clean, which mask marks the shortcut, which class it favours (None where unknown)."""
    meta = ds.meta or {}
    clean = meta.get("clean_split")
    if clean is None:
        clean = next((s for s in ds.splits if s.endswith("-clean")), None)
    masks = sorted({k for s in ds.splits.values() for k in s.extra_masks})
    mask = meta.get("shortcut_mask") if meta.get("shortcut_mask") in masks else (masks[0] if masks else None)
    return {"clean_split": clean, "tagged_split": "test", "mask": mask, "class": meta.get("shortcut_class")}


def recall_drop(model, dataset: str, tagged: str = "test", clean: str | None = None, progress=None) -> dict:
    """Accuracy and per-class recall on ``tagged`` and ``clean`` splits, and the drop between them."""
    from .data import load_dataset
    from .evaluation import evaluate

    ds = load_dataset(dataset)
    clean = clean or shortcut_setup(ds)["clean_split"]
    if clean is None:
        raise InputError(f"{dataset} has no clean split to compare with; pick a dataset that has one "
                         "(for example synthetic-brain-mri-tagged).")
    a, b = evaluate(model, dataset, tagged, progress=progress), evaluate(model, dataset, clean, progress=progress)
    rows = [{"class": ra["class"], "recall_tagged": ra["recall"], "recall_clean": rb["recall"],
             "drop": ra["recall"] - rb["recall"]} for ra, rb in zip(a["per_class"], b["per_class"])]
    return {"model": a["model"], "dataset": dataset, "tagged_split": tagged, "clean_split": clean,
            "accuracy_tagged": a["accuracy"], "accuracy_clean": b["accuracy"],
            "drop": a["accuracy"] - b["accuracy"], "per_class": rows}


def clean_failures(model, dataset: str, tagged: str = "test", clean: str | None = None) -> list[dict]:
    """Clean-split scans the model gets wrong; ``right_when_tagged`` where the tagged split holds the same scan."""
    from .api import predict_split
    from .data import load_dataset

    ds = load_dataset(dataset)
    clean = clean or shortcut_setup(ds)["clean_split"]
    if clean is None:
        raise InputError(f"{dataset} has no clean split.")
    pc, sc = predict_split(model, dataset, clean), ds.split(clean)
    paired = len(ds.split(tagged)) == len(sc) and np.array_equal(ds.split(tagged).labels, sc.labels)
    pt = predict_split(model, dataset, tagged) if paired else None
    out = []
    for i in np.flatnonzero(pc.argmax(1) != sc.labels):
        out.append({"index": int(i), "label": ds.class_names[sc.labels[i]],
                    "predicted_clean": ds.class_names[int(pc[i].argmax())], "p_clean": float(pc[i].max()),
                    "predicted_tagged": None if pt is None else ds.class_names[int(pt[i].argmax())],
                    "right_when_tagged": None if pt is None else bool(pt[i].argmax() == sc.labels[i])})
    return out


def audit_indices(ds, split: str, mask: str, n: int, seed: int = 0, shortcut_class: str | None = None) -> np.ndarray:
    """Up to ``n`` scans of ``split`` that carry the shortcut: mostly of the shortcut's class, a quarter others."""
    s = ds.split(split)
    m = s.mask(mask)
    if m is None:
        raise InputError(f"{ds.name}:{split} has no mask {mask!r}.")
    carry = np.flatnonzero(m.any((1, 2)))
    rng = np.random.default_rng([seed, 16])
    if shortcut_class in ds.class_names:
        c = ds.class_names.index(shortcut_class)
        own, rest = carry[s.labels[carry] == c], carry[s.labels[carry] != c]
        n_rest = min(len(rest), n // 4)
        picks = np.concatenate([rng.permutation(own)[:n - n_rest], rng.permutation(rest)[:n_rest]])
    else:
        picks = rng.permutation(carry)[:n]
    return np.sort(picks.astype(np.int64))


def audit(model, dataset: str, methods: list[str], split: str = "test", n: int = 12, mask: str | None = None,
          params: dict | None = None, seed: int = 0, progress: Progress | None = None) -> dict:
    """Mean marker share and lesion focus of each method's top-class maps over ``n`` shortcut-carrying scans.

    Explanations go through ``api.explain`` and its disk cache, so a second audit costs nothing.
    """
    from .api import explain
    from .data import load_dataset
    from .models import as_model

    lm = as_model(model)
    ds = load_dataset(dataset)
    setup = shortcut_setup(ds)
    mask = mask or setup["mask"] or MASK_NAME
    idx = audit_indices(ds, split, mask, n, seed, setup["class"])
    if len(idx) == 0:
        raise InputError(f"No scan of {dataset}:{split} carries the {mask!r} shortcut.")
    s = ds.split(split)
    rows, per_image = [], []
    steps = len(methods) * len(idx)
    for mi, method in enumerate(methods):
        p = dict(AUDIT_PARAMS.get(method, {}), **(params or {}).get(method, {}))
        shares, focus = [], []
        for j, i in enumerate(idx):
            expl = explain(lm, s.images[i], method=method, top_k=1, **p)
            share = marker_share_score(expl.map(0), s.mask(mask)[i])
            f = focus_score(expl.map(0), s.masks[i]) if s.masks is not None and s.masks[i].any() else float("nan")
            shares.append(share)
            focus.append(f)
            per_image.append({"method": method, "index": int(i), "label": ds.class_names[s.labels[i]],
                              "explained": lm.class_names[int(expl.class_indices[0])], "marker_share": share,
                              "lesion_focus": f})
            if progress is not None:
                progress((mi * len(idx) + j + 1) / steps, f"{method}: scan {j + 1} of {len(idx)}")
        rows.append({"method": method, "marker_share": float(np.nanmean(shares)),
                     "lesion_focus": float(np.nanmean(focus)) if np.isfinite(focus).any() else float("nan"),
                     "marker_area": float(s.mask(mask)[idx].mean()), "images": int(len(idx)),
                     "params": p})
    backend = lm.backend()  # "openvino-bf16" figures are approximate: the page and the CSV say so
    return {"model": lm.name, "model_hash": lm.file_hash, "dataset": dataset, "split": split, "mask": mask,
            "indices": idx.tolist(), "backend": backend,
            "methods": [dict(r, backend=backend) for r in rows], "per_image": per_image}
