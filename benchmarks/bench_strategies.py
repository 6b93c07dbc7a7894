"""Strategies (SpRAy): is the marker strategy found without its mask, and what does clustering cost?

Two parts, one run:

* ``--validate``: audits the tagged test split (240 scans, integrated gradients, the predicted class) with
  ``brain-tagged-cnn`` (learned the marker) and ``brain-tagged-cnn-guided`` (retrained away from it), and the
  plain test split with ``brain-basic-cnn``; clusters each audit's maps with ``xai_core.strategies.from_audit``
  (which never reads ``tag_mask``), then *only to score the result* reads the marker mask: the cluster
  holding most marked scans that the model calls glioma, the share of those it holds (recall), the share of
  its members that carry the marker (purity), and whether a cluster is flagged for a corner.
  ``--ship`` writes each result to ``assets/strategies/MODEL.json`` (what the Audit page opens at once).
* scale (always): planted maps (``tests/test_strategies.planted``-style blobs, 32x32) clustered at 1,000,
  3,000 and 10,000 maps: seconds (best of 2), the k-NN graph's non-zeros and bytes, and a projection to
  100,000 maps (memory linear: k neighbours a map; time with the exponent measured between 3,000 and
  10,000, since the exact neighbour search is quadratic while the sparse spectral step is about linear).

Markdown tables on stdout (the README's); JSON to ``benchmarks/results/bench_strategies.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _timing import best_of  # noqa: E402

import numpy as np  # noqa: E402

CASES = (("brain-tagged-cnn", "synthetic-brain-mri-tagged"), ("brain-tagged-cnn-guided", "synthetic-brain-mri-tagged"),
         ("brain-basic-cnn", "synthetic-brain-mri"))
METHOD = "integrated-gradients"


def planted(n: int, groups: int = 6, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:32, :32]
    centres = rng.uniform(4, 28, (groups, 2))
    g = rng.integers(0, groups, n)
    shift = rng.integers(-2, 3, (n, 2))
    cy, cx = (centres[g] + shift).T
    maps = np.exp(-((y[None] - cy[:, None, None]) ** 2 + (x[None] - cx[:, None, None]) ** 2) / 18.0)
    return maps * rng.uniform(0.5, 2, (n, 1, 1)) + rng.normal(0, 0.02, maps.shape)


def scale() -> list[dict]:
    from xai_core.strategies import affinity, cluster_maps, evidence

    out = []
    for n in (1000, 3000, 10000):
        maps = planted(n)
        seconds, r = best_of(lambda: cluster_maps(maps), 2)
        p, _ = evidence(maps)
        A = affinity(np.sqrt(p.reshape(len(p), -1)))
        graph = A.data.nbytes + A.indices.nbytes + A.indptr.nbytes
        out.append({"maps": n, "seconds": round(seconds, 2), "k": r["k"], "graph_nnz": int(A.nnz),
                    "graph_mb": round(graph / 2**20, 2), "maps_mb": round(maps.astype(np.float32).nbytes / 2**20, 1)})
    # time: the exponent measured between the two largest runs (the exact neighbour search in 1,024
    # dimensions is quadratic; the sparse spectral part is about linear); memory: linear (k per map)
    prev, last = out[-2], out[-1]
    f = 100_000 / last["maps"]
    b = np.log(last["seconds"] / prev["seconds"]) / np.log(last["maps"] / prev["maps"])
    out.append({"maps": 100_000, "seconds": round(last["seconds"] * f ** b, 0), "exponent": round(float(b), 2),
                "k": None,
                "graph_nnz": int(last["graph_nnz"] * f), "graph_mb": round(last["graph_mb"] * f, 1),
                "maps_mb": round(last["maps_mb"] * f, 0), "projected": True})
    return out


def validate(audits: Path, ship: bool) -> list[dict]:
    from xai_core.audit import AuditSpec, run_audit
    from xai_core.data import load_dataset
    from xai_core.strategies import from_audit

    out = []
    for model, dataset in CASES:
        folder = audits / f"{model}-{dataset}"
        t0 = time.perf_counter()
        run_audit(AuditSpec(model, dataset, "test", methods=(METHOD,), metrics=("relevance-mass",)), folder,
                  batch_size=16)
        audit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        r = from_audit(folder, METHOD)
        strat_s = time.perf_counter() - t0
        doc = r.to_json()
        split = load_dataset(dataset).split("test")
        tags = split.mask("tag_mask")
        marked = {f"{dataset}:test:{i}" for i in range(len(split))
                  if tags is not None and tags[i].any()}
        called = {m["image_id"] for m in doc["members"] if m.get("predicted_class") == "glioma"}
        target = marked & called
        best = None
        for c in doc["clusters"]:
            ids = {m["image_id"] for m in doc["members"] if m["cluster"] == c["id"]}
            held = len(ids & target)
            if best is None or held > best[1]:
                best = (c, held, ids)
        c, held, ids = best
        corner_flags = [x for x in doc["clusters"] if x["suspicious"] and "corner" in x["reason"]]
        row = {"model": model, "dataset": dataset, "scans": len(doc["members"]) + doc["left_out"],
               "k": doc["k"], "audit_s": round(audit_s, 1), "strategies_s": round(strat_s, 2),
               "marked_called_glioma": len(target),
               "recall": round(held / len(target), 3) if target else None,
               "purity": round(len(ids & marked) / len(ids), 3) if target else None,
               "that_cluster_flagged": bool(c["suspicious"]) if target else None,
               "corner_flagged_clusters": len(corner_flags),
               "corner_reasons": [x["reason"] for x in corner_flags],
               "maps_npz_kb": round((folder / "maps.npz").stat().st_size / 1024, 1)}
        out.append(row)
        print(json.dumps(row), flush=True)
        if ship:
            dest = ROOT / "assets" / "strategies" / f"{model}.json"
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(json.dumps(doc, separators=(",", ":")))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--validate", action="store_true", help="run the three 240-scan audits (minutes)")
    ap.add_argument("--ship", action="store_true", help="write assets/strategies/MODEL.json")
    ap.add_argument("--audits", default=str(ROOT / "benchmarks" / "results" / "strategies-audits"))
    a = ap.parse_args()
    res = {}
    if a.validate:
        res["validate"] = validate(Path(a.audits), a.ship)
        print("\n| model | scans | strategies | marked scans called glioma | held by one cluster | its purity "
              "| that cluster flagged | clusters flagged for a corner |")
        print("|---|---:|---:|---:|---:|---:|---|---:|")
        for r in res["validate"]:
            pct = (lambda v: "—" if v is None else f"{v:.0%}")
            print(f"| `{r['model']}` | {r['scans']} | {r['k']} | {r['marked_called_glioma']} | {pct(r['recall'])} "
                  f"| {pct(r['purity'])} | {'—' if r['that_cluster_flagged'] is None else ('yes' if r['that_cluster_flagged'] else 'no')} "
                  f"| {r['corner_flagged_clusters']} |")
    res["scale"] = scale()
    print("\n| maps | clustering (s) | k | graph non-zeros | graph (MB) | maps (MB, float32) |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in res["scale"]:
        star = f" (projected, time ~ n^{r['exponent']})" if r.get("projected") else ""
        print(f"| {r['maps']:,}{star} | {r['seconds']} | {r['k'] or '—'} | {r['graph_nnz']:,} | {r['graph_mb']} "
              f"| {r['maps_mb']} |")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_strategies.json").write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
