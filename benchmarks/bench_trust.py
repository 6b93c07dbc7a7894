"""The trust card's cost on brain-basic-cnn, against the map it judges, in one run.

Target (issue 13): the default card (cheap metrics: deletion, insertion, relevance mass, pointing
game, completeness) costs at most 3x a 1,000-evaluation SHAP Partition map, and about 1 s for a
gradient map. Also timed once: each costly check on the SHAP map (randomisation cascade, convergence,
max-sensitivity). Best of ``BENCH_REPEATS`` runs, no disk cache, the card timed cold (deletion and
insertion's shared random curves cleared first) and warm (another map of the same scan reuses them).
Run: ``python benchmarks/bench_trust.py`` (``BENCH_COSTLY=0`` skips the costly checks).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _timing  # noqa: E402

REPEATS = int(os.environ.get("BENCH_REPEATS", 3))
GRADIENT = os.environ.get("BENCH_GRADIENT_METHOD", "integrated-gradients")


def best_of(fn, repeats=REPEATS):
    return _timing.best_of(fn, repeats)


def main() -> None:
    import xai_core as xc
    from xai_core import trust
    from xai_core.metrics import _perturbation

    lm = xc.load_model("brain-basic-cnn")
    ds = xc.load_dataset("synthetic-brain-mri")
    i = trust.lesion_scans(ds, "test", 1)[0]
    image, mask = ds.image("test", i), ds.split("test").masks[i]
    rows = []
    for method, params in (("shap-partition", {"max_evals": 1000}), (GRADIENT, {})):
        if method not in xc.EXPLAINERS:
            print(f"{method} is not registered; skipped")
            continue
        xc.explain(lm, image, method=method, top_k=1, cache=None, **params)  # warm up (tracing, numba)
        t_map, e = best_of(lambda: xc.explain(lm, image, method=method, top_k=1, cache=None, **params))
        names = trust.card_metrics(e, mask)
        trust.card(lm, e.image, e, names, mask=mask, cache=None)

        def cold():  # the first card on this scan: deletion/insertion's shared random curves not yet scored
            getattr(_perturbation, "_SHARED", {}).clear()
            return trust.card(lm, e.image, e, names, mask=mask, cache=None)

        t_card, res = best_of(cold)
        t_warm, _ = best_of(lambda: trust.card(lm, e.image, e, names, mask=mask, cache=None))
        print(f"{method:22s} card with the scan's random curves already scored (another map of it): {t_warm:.2f} s")
        rows.append((method, t_map, t_card, names))
        print(f"{method:22s} map {t_map:6.2f} s   default card {t_card:5.2f} s   card/map {t_card / t_map:4.2f}x   "
              f"({', '.join(f'{n} {r.value:.2f} {r.verdict}' for n, r in res.items())})")
        if method == "shap-partition":
            shap_map, shap_e = t_map, e
    if os.environ.get("BENCH_COSTLY", "1") == "1":
        for name in trust.costly_metrics():
            t0 = time.perf_counter()
            r = trust.card(lm, shap_e.image, shap_e, [name], mask=mask, cache=None)[name]
            dt = time.perf_counter() - t0
            print(f"costly {name:22s} {dt:6.1f} s = {dt / shap_map:5.1f} SHAP maps   {r.verdict}: {r.meaning}")


if __name__ == "__main__":
    main()
