"""Audit summary: the mean of every metric per method, with a bootstrap 95% interval.

Efron & Tibshirani (1993), "An Introduction to the Bootstrap": the interval is
the 2.5th and 97.5th percentiles of the mean over 2,000 resamples of the rows
(seeded, so a summary is reproducible). Rows where a metric is undefined
(NaN: no mask, no positive attribution, or withheld because the map says
nothing or the scan is outside the training domain, ``withheld``) are left
out of that metric and counted in ``n``. Reported overall, per true class, and for correctly and
wrongly classified images; error rows are counted, never averaged. A folder of
studies, audited slice by slice, is also summarised per case: its most
suspicious slice and that slice's score, prediction and out-of-domain verdict.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

RESAMPLES = 2000


def bootstrap_mean(values, resamples: int = RESAMPLES, seed: int = 0) -> dict:
    """{n, mean, lo, hi} of the finite values; lo/hi the bootstrap 95% percentile interval."""
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v)]
    if not len(v):
        return {"n": 0, "mean": None, "lo": None, "hi": None}
    mean = float(v.mean())
    if len(v) == 1:
        return {"n": 1, "mean": mean, "lo": mean, "hi": mean}
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, len(v), (resamples, len(v)))].mean(1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return {"n": int(len(v)), "mean": mean, "lo": float(lo), "hi": float(hi)}


def summarise(df: pd.DataFrame, methods, metrics, n_planned: int | None = None) -> dict:
    """The content of ``summary.json`` for an audit's rows."""
    methods, metrics = list(methods), list(metrics)
    if not len(df):
        return {"images": 0, "rows": 0, "methods": methods, "metrics": metrics, "overall": [], "by_class": [],
                "by_outcome": [], "errors": {"images": 0, "rows": 0, "examples": []}}
    failed = df["error"].fillna("") != ""
    ok = df[df["class_index"] >= 0]  # explained rows (a failed metric is NaN there, left out of its mean)
    by_image = df.drop_duplicates("image_id")
    unreadable = df[df["class_index"] < 0]
    out = {
        "images": int(df["image_id"].nunique()),
        "planned": n_planned,
        "rows": int(len(df)),
        "methods": methods,
        "metrics": metrics,
        "accuracy": _float(by_image["correct"].dropna().astype(float).mean()),
        "ood_flagged": int(by_image["ood_flag"].fillna(False).astype(bool).sum()),
        "errors": {"images": int(unreadable["image_id"].nunique()), "rows": int(failed.sum()),
                   "examples": [{"image_id": r.image_id, "method": r.method, "error": r.error}
                                for r in df[failed].head(20).itertuples()]},
        "overall": [], "by_class": [], "by_outcome": [],
        "withheld": _withheld(ok), "left_out": _left_out(ok, methods),
    }
    if "slice" in df and (df["slice"] > 0).any():
        out["cases"] = per_case(by_image)
    for method in methods:
        rows_m = ok[ok["method"] == method]
        for metric in metrics:
            if metric not in rows_m:
                continue
            out["overall"].append({"method": method, "metric": metric, **bootstrap_mean(rows_m[metric])})
            for cls, g in rows_m.groupby("true_class", sort=True):
                out["by_class"].append({"method": method, "metric": metric, "true_class": cls,
                                        **bootstrap_mean(g[metric])})
            for outcome, g in rows_m.groupby(rows_m["correct"].map({True: "correct", False: "misclassified"})):
                out["by_outcome"].append({"method": method, "metric": metric, "outcome": outcome,
                                          **bootstrap_mean(g[metric])})
    return out


def per_case(by_image: pd.DataFrame) -> list[dict]:
    """One entry per study (rows with a slice), most suspicious case first: slices audited, the top slice
    (highest suspicion; ties: the lower slice) with its score and prediction, and the slices flagged out of
    domain."""
    rows = by_image[by_image["slice"] > 0]
    out = []
    for case, g in rows.groupby("case", sort=True):
        read = g[g["suspicion"].notna()]
        entry = {"case": str(case), "true_class": _text(g["true_class"].dropna().iloc[0])
                 if g["true_class"].notna().any() else None,
                 "slices": int(g["slices"].max()), "audited": int(len(g)), "unreadable": int(len(g) - len(read)),
                 "study": _text(g["study"].iloc[0]), "plane": _text(g["plane"].iloc[0]),
                 "top_slice": None, "max_suspicion": None, "predicted_at_top": None, "top_out_of_domain": None,
                 "ood_flagged": int(read["ood_flag"].fillna(False).astype(bool).sum())}
        if len(read):
            top = read.sort_values(["suspicion", "slice"], ascending=[False, True], kind="stable").iloc[0]
            entry.update(top_slice=int(top["slice"]), max_suspicion=float(top["suspicion"]),
                         predicted_at_top=_text(top["predicted_class"]),
                         top_out_of_domain=None if pd.isna(top["ood_flag"]) else bool(top["ood_flag"]))
        out.append(entry)
    return sorted(out, key=lambda e: (-(e["max_suspicion"] if e["max_suspicion"] is not None else -1), e["case"]))


def _text(v):
    return None if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)


def _withheld(ok: pd.DataFrame) -> dict:
    """{reason: rows} of the rows whose values were withheld (``xai_core.gates``): they count in no mean."""
    if "withheld" not in ok:
        return {}
    why = ok["withheld"].fillna("")
    return {str(k): int(v) for k, v in why[why != ""].value_counts().items()}


def _left_out(ok: pd.DataFrame, methods) -> dict:
    """{method: one line} for methods every row of which was withheld: they are left out of the leaderboard."""
    out = {}
    if "withheld" not in ok:
        return out
    for method in methods:
        why = ok.loc[ok["method"] == method, "withheld"].fillna("")
        if len(why) and (why != "").all():
            out[method] = f"left out of the leaderboard: on every one of its {len(why)} maps {why.mode().iloc[0]}."
    return out


def _float(v):
    return None if v is None or not np.isfinite(v) else float(v)
