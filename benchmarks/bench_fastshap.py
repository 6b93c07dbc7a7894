"""The amortised explainer (``fastshap``) on brain-basic-cnn: agreement with the truth, speed, break-even.

1. 16 players (4x4 grid): against exact Shapley values from all 2^16 coalitions (the game of
   ``shap_superpixel.exact_shapley``, hidden patches showing the SHAP masker's blur(20,20)), on held-out
   test scans, every class: mean and worst Spearman correlation over the 16 values, relative L2 error.
2. 64 players (8x8 grid): against SHAP Partition at 20,000 evaluations and Kernel SHAP at 20,000 coalitions
   of the amortised explainer's own game (the 64 patches, hidden ones blurred), compared with Partition at
   1,000 evaluations and Partition at the same wall time as one amortised map; every map is summed over
   the 64 patches first (the amortised map's resolution), for the top class. Partition's Owen values of
   pixel regions are not the Shapley values of these 64 patches, so it is the kinder reference for itself.
3. Speed: ms per map (the explainer's pass plus the model's two passes, best of 5) against one
   1,000-evaluation Partition map (best of 3); the training time from explainer.json and the break-even
   (how many maps pay for the training).

Exact values and Partition maps are cached on disk (XAI_CACHE_DIR), so a rerun only times.
Run: ``python benchmarks/bench_fastshap.py [--scans 2] [--partition-scans 2]``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _timing  # noqa: E402

import numpy as np  # noqa: E402

MODEL, DATASET = "brain-basic-cnn", "synthetic-brain-mri"


def _exact(lm, x, cache_dir: Path) -> np.ndarray:
    """Exact Shapley values (K, 16) of the 4x4 patches of ``x`` (margin), computed once and kept on disk."""
    from xai_core.explainers._amortised import hidden, model_key, patch_segments
    from xai_core.explainers.shap_superpixel import all_coalitions, coalition_values, exact_shapley

    key = hashlib.sha256(model_key(lm).encode() + np.ascontiguousarray(x).tobytes()).hexdigest()[:24]
    path = cache_dir / f"exact-4x4-{key}.npy"
    if path.is_file():
        return np.load(path)
    v = coalition_values(lm.output_fn("margin", 256), x, hidden(x), patch_segments(x.shape, "4x4"),
                         all_coalitions(16), 256)
    phi = exact_shapley(v, 16)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, phi)
    return phi


def _kernel(lm, x, classes, cache_dir: Path, samples: int = 20000) -> np.ndarray:
    """Kernel SHAP values (K, 64) of the 8x8 patches of ``x`` (margin) from ``samples`` coalitions of the game
    the amortised explainer learns (hidden patches blurred); computed once and kept on disk."""
    from xai_core.explainers._amortised import hidden, model_key, patch_segments
    from xai_core.explainers.shap_superpixel import ShapSuperpixel

    key = hashlib.sha256(model_key(lm).encode() + np.ascontiguousarray(x).tobytes()
                         + bytes(str((list(classes), samples)), "ascii")).hexdigest()[:24]
    path = cache_dir / f"kernel-8x8-{key}.npy"
    if path.is_file():
        return np.load(path)
    f_all = lm.output_fn("margin", 256)
    phi, _, _ = ShapSuperpixel._kernel(lambda z: f_all(z)[:, classes], x, hidden(x), patch_segments(x.shape, "8x8"),
                                       64, samples, 256, 0, None)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, phi)
    return phi


def _patch_sums(values: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """(d,) sums of an (H, W[, C]) map over each patch."""
    m = values.sum(-1) if values.ndim == 3 else values
    return np.bincount(segments.ravel(), m.ravel(), minlength=int(segments.max()) + 1)


def _agree(est: np.ndarray, ref: np.ndarray) -> tuple[float, float]:
    from scipy.stats import spearmanr

    return float(spearmanr(est, ref).statistic), float(np.linalg.norm(est - ref) / max(np.linalg.norm(ref), 1e-12))


def main() -> None:
    import xai_core as xc
    from xai_core import config
    from xai_core.explainers._amortised import locate, patch_segments

    ap = argparse.ArgumentParser()
    ap.add_argument("--scans", type=int, default=2, help="held-out test scans checked against exact values")
    ap.add_argument("--partition-scans", type=int, default=2, help="test scans for the 64-player comparison")
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}; "
          f"cores: {os.cpu_count()}")
    lm = xc.load_model(MODEL)
    test = xc.load_dataset(DATASET).split("test")
    cache_dir = config.cache_dir() / "bench-fastshap"

    print("\n16 players (4x4) vs exact Shapley values (2^16 coalitions), margin, every class")
    rhos, num, den = [], 0.0, 0.0
    for i in range(args.scans):
        x = test.images[i].astype(np.float32)
        t0 = time.perf_counter()
        exact = _exact(lm, x, cache_dir)
        e = xc.explain(lm, x, method="fastshap", classes=list(range(lm.num_classes)), cache=None, players="4x4")
        for k in range(lm.num_classes):
            rhos.append(_agree(e.extras["weights"][k], exact[k])[0])
        num += float(np.sum((e.extras["weights"] - exact) ** 2))
        den += float(np.sum(exact ** 2))
        print(f"  scan {i}: Spearman per class {np.round(rhos[-lm.num_classes:], 3).tolist()} "
              f"({time.perf_counter() - t0:.0f} s incl. exact values)")
    print(f"  mean Spearman {np.mean(rhos):.3f} (worst {np.min(rhos):.3f}), relative error {np.sqrt(num / den):.3f}, "
          f"{args.scans} scans x {lm.num_classes} classes")

    print("\n64 players (8x8): patch sums of each map of the top class against two large-budget references")
    seg = patch_segments(lm.input_shape, "8x8")
    fast_s, _ = _timing.best_of(lambda: xc.explain(lm, test.images[0], method="fastshap", top_k=1, cache=None),
                                5, warm_up=True)
    core = xc.EXPLAINERS.get("fastshap")()
    x0 = lm.prepare(test.images[0])
    core_s, _ = _timing.best_of(lambda: core.explain(lm, x0, np.array([0]), "margin", players="8x8"), 5, warm_up=True)
    part_s, _ = _timing.best_of(lambda: xc.explain(lm, test.images[0], method="shap-partition", top_k=1,
                                                   cache=None, max_evals=1000), 3, warm_up=True)
    same_time = max(10, int(round(1000 * fast_s / part_s)))
    names = ["fastshap (one pass)", "Partition 1,000 evals", f"Partition {same_time} evals (same time)"]
    rows = {ref: {n: [] for n in names} for ref in ("Partition 20,000 evals", "Kernel SHAP 20,000 coalitions")}
    for i in range(args.partition_scans):
        x = test.images[i]
        ref = xc.explain(lm, x, method="shap-partition", top_k=1, max_evals=20000)
        c = ref.class_indices.tolist()
        refs = [_patch_sums(ref.map(0), seg), _kernel(lm, x.astype(np.float32), c, cache_dir)[0]]
        maps = [xc.explain(lm, x, method="fastshap", classes=c, cache=None),
                xc.explain(lm, x, method="shap-partition", classes=c, max_evals=1000),
                xc.explain(lm, x, method="shap-partition", classes=c, max_evals=same_time)]
        for r, table in zip(refs, rows.values()):
            for name, m in zip(names, maps):
                table[name].append(_agree(_patch_sums(m.map(0), seg), r))
    for ref, table in rows.items():
        print(f"  against {ref}:")
        for name, vals in table.items():
            v = np.array(vals)
            print(f"    {name:34s} Spearman {v[:, 0].mean():.3f}  relative error {v[:, 1].mean():.3f}")

    _, info = locate(lm, "8x8", "margin")
    _, info4 = locate(lm, "4x4", "margin")
    print("\nspeed (one map of the top class, 2 threads)")
    print(f"  fastshap: {fast_s * 1000:.1f} ms a map through xc.explain (cache off); Partition 1,000 evals: "
          f"{part_s * 1000:.0f} ms; {part_s / fast_s:.0f}x faster")
    print(f"  of which the method itself: {core_s * 1000:.1f} ms (explainer pass + the blurred scan's model pass; "
          "the rest is explain()'s own: class choice, the gates' 6 probe passes, the envelope)")
    for grid, inf in (("4x4", info4), ("8x8", info)):
        train_s = float(inf.get("wall_seconds", inf.get("train_seconds", 0)))
        print(f"  training {grid}: {train_s:.0f} s ({inf['epochs']} epochs, {inf['images']} scans); break-even "
              f"after {train_s / max(part_s - fast_s, 1e-9):.0f} maps against 1,000-eval Partition")
    print(f"load average after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()
