"""Are the trust card's verdicts something to bet on? Chance rates and seed stability, old rule vs new.

On a shipped model and its scans (default ``brain-basic-cnn`` on ``synthetic-brain-mri``):

* **random maps**: a Gaussian-noise map on each of ``BENCH_RANDOM_SCANS`` test scans (default 20),
  scored by deletion, insertion and faithfulness correlation; the share earning pass or warn (target
  at most 5%);
* **seed stability**: maps of ``BENCH_METHODS`` on ``BENCH_SEED_SCANS`` lesion scans, each metric run
  with seeds 0-9; the share of (scan, method, metric) triples whose verdict agrees in at least 9 of 10
  seeds or reads inconclusive (target 100%), and how many distinct decided verdicts they show;
* the mean seconds per metric call.

With ``BENCH_COSTLY=1`` only the costly checks run instead, on ``mnist-cnn`` (28x28, so re-explaining is
cheap): each of ``COSTLY`` (metric, method) pairs on test digits 0 and 1 with the metric's seed 0-9
(randomisation: the weight draws; max-sensitivity: the noise) or the method's seed 0-9 (convergence, seed
stability), counting triples whose verdict agrees in 9 of 10 or reads inconclusive.

"Old rule" is the first wave's: fixed cut-offs (deletion/insertion pass >= 0.1, warn >= 0.02;
faithfulness correlation pass >= 0.3, warn >= 0.1) on the value at the old budgets (3 random
orderings, 64 subsets). "New rule" is the registry's default: 95% interval against this scan's chance
band, budget doubled while inconclusive. Run: ``python benchmarks/bench_verdicts.py`` (about 3 minutes
on an idle 2-core machine).
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MODEL = os.environ.get("BENCH_MODEL", "brain-basic-cnn")
DATASET = os.environ.get("BENCH_DATASET", "synthetic-brain-mri")
RANDOM_SCANS = int(os.environ.get("BENCH_RANDOM_SCANS", 20))
SEED_SCANS = int(os.environ.get("BENCH_SEED_SCANS", 2))
METHODS = os.environ.get("BENCH_METHODS", "saliency,integrated-gradients").split(",")
NAMES = ("deletion", "insertion", "faithfulness-correlation")
OLD_BUDGET = {"deletion": {"random_orders": 3, "max_random_orders": 3},
              "insertion": {"random_orders": 3, "max_random_orders": 3},
              "faithfulness-correlation": {"subsets": 64, "max_subsets": 64}}
OLD_CUTS = {"deletion": (0.1, 0.02), "insertion": (0.1, 0.02), "faithfulness-correlation": (0.3, 0.1)}


def old_verdict(name, value):
    p, w = OLD_CUTS[name]
    return "n/a" if value != value else "pass" if value >= p else "warn" if value >= w else "fail"


def run(metric, name, lm, e, rule, seed=0):
    t0 = time.perf_counter()
    if rule == "old":
        r = metric(lm, e.image, e, seed=seed, **OLD_BUDGET[name])
        return old_verdict(name, r.value), time.perf_counter() - t0
    r = metric(lm, e.image, e, seed=seed)
    return r.verdict, time.perf_counter() - t0


COSTLY = (("randomisation", "saliency", {}), ("randomisation", "integrated-gradients", {"steps": 16}),
          ("max-sensitivity", "saliency", {}), ("max-sensitivity", "integrated-gradients", {"steps": 16}),
          ("convergence", "smoothgrad", {}), ("superpixel-stability", "lime", {"num_samples": 200}),
          ("superpixel-stability", "lime", {"num_samples": 40}))


def costly() -> None:
    import numpy as np

    import xai_core as xc
    from xai_core.metrics import METRICS

    lm, ds = xc.load_model("mnist-cnn"), xc.load_dataset("mnist")
    print("| metric | method | digit | verdicts over seeds 0-9 | stable | s/call |")
    print("|---|---|---:|---|---|---:|")
    for name, method, params in COSTLY:
        for i in (0, 1):
            image = ds.image("test", i)
            metric_seed = name in ("randomisation", "max-sensitivity")
            fixed = xc.explain(lm, image, method=method, top_k=1, cache=None, **params) if metric_seed else None
            seen, t0 = [], time.perf_counter()
            for s in range(10):
                if metric_seed:
                    r = METRICS.get(name)(lm, fixed.image, fixed, seed=s)
                else:
                    e = xc.explain(lm, image, method=method, top_k=1, cache=None, seed=s, **params)
                    r = METRICS.get(name)(lm, e.image, e, doublings=2) if name == "convergence" else \
                        METRICS.get(name)(lm, e.image, e)
                seen.append(r.verdict)
            decided = Counter(v for v in seen if v != "inconclusive")
            top = decided.most_common(1)[0][0] if decided else "inconclusive"
            ok = sum(v in (top, "inconclusive") for v in seen) >= 9
            label = method + "".join(f" {k}={v}" for k, v in params.items())
            print(f"| {name} | {label} | {i} | {dict(Counter(seen))} | {'yes' if ok else 'NO'} | "
                  f"{(time.perf_counter() - t0) / 10:.2f} |", flush=True)


def main() -> None:
    import numpy as np

    import xai_core as xc
    from xai_core.metrics import METRICS
    from xai_core.trust import lesion_scans

    lm, ds = xc.load_model(MODEL), xc.load_dataset(DATASET)
    seconds = {(n, r): [] for n in NAMES for r in ("old", "new")}
    chance = {r: Counter() for r in ("old", "new")}
    for i in range(RANDOM_SCANS):
        x = lm.prepare(ds.image("test", i))
        out = lm.forward_image(x)[0]
        c = int(np.argmax(out))
        e = xc.Explanation(values=np.random.default_rng(100 + i).normal(size=x.shape)[None], base_values=[0.0],
                           output_values=[out[c]], class_indices=[c], class_names=[lm.class_names[c]],
                           output_space="margin", method="shap-partition", params={"masker": "blur(20,20)"},
                           image=x)
        for name in NAMES:
            for rule in ("old", "new"):
                v, s = run(METRICS.get(name), name, lm, e, rule)
                chance[rule][v] += 1
                seconds[(name, rule)].append(s)
    stable = {r: [] for r in ("old", "new")}
    for i in lesion_scans(ds, "test", SEED_SCANS):
        for method in METHODS:
            e = xc.explain(lm, ds.image("test", i), method=method, top_k=1, cache=None)
            for name in NAMES:
                for rule in ("old", "new"):
                    seen = []
                    for seed in range(10):
                        v, s = run(METRICS.get(name), name, lm, e, rule, seed)
                        seen.append(v)
                        seconds[(name, rule)].append(s)
                    decided = Counter(v for v in seen if v != "inconclusive")
                    top = decided.most_common(1)[0][0] if decided else "inconclusive"
                    ok = sum(v in (top, "inconclusive") for v in seen) >= 9
                    stable[rule].append((i, method, name, ok, len(decided), dict(Counter(seen))))
    print(f"model {MODEL}, {RANDOM_SCANS} random-map scans, seeds 0-9 on {SEED_SCANS} lesion scans x {METHODS}")
    print("| rule | random maps: pass or warn | seed-stable triples | triples with 2+ decided verdicts |")
    print("|---|---:|---:|---:|")
    for rule in ("old", "new"):
        n = sum(chance[rule].values())
        pw = chance[rule]["pass"] + chance[rule]["warn"]
        st = stable[rule]
        print(f"| {rule} | {pw}/{n} ({pw / n:.0%}) | {sum(t[3] for t in st)}/{len(st)} | "
              f"{sum(t[4] > 1 for t in st)}/{len(st)} |")
    print("| metric | old s/call | new s/call |")
    print("|---|---:|---:|")
    for name in NAMES:
        print(f"| {name} | {np.mean(seconds[(name, 'old')]):.2f} | {np.mean(seconds[(name, 'new')]):.2f} |")
    for rule in ("old", "new"):
        for t in stable[rule]:
            if not t[3] or t[4] > 1:
                print(rule, t)
    print("random-map verdicts:", {r: dict(c) for r, c in chance.items()})


if __name__ == "__main__":
    costly() if os.environ.get("BENCH_COSTLY") == "1" else main()
