"""Every registered explanation method at its defaults on brain-basic-cnn, one class (the predicted one).

Reports, in one run: seconds per method (best of ``BENCH_REPEATS`` after one warm-up call, cache off),
model calls made, and, for exact superpixel Shapley, the time at 8, 12 and 16 superpixels against its
bound: 2^M forward passes at the best batched per-image forward time measured in the same run.
Run with `python benchmarks/bench_methods.py` (set OMP/TF thread counts or `taskset -c 0,1` for 2 cores).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _timing  # noqa: E402

import numpy as np  # noqa: E402

REPEATS = int(os.environ.get("BENCH_REPEATS", 2))


def best_of(fn, repeats=REPEATS):
    return _timing.best_of(fn, repeats, warm_up=True)  # compiled functions traced, segmenters imported


def forward_per_image(lm, batch=256, repeats=3) -> float:
    x = np.random.default_rng(0).uniform(0, 255, (batch, *lm.input_shape)).astype(np.float32)
    lm.forward(x)
    return min(best_of(lambda: lm.forward(x), repeats)[0] for _ in range(1)) / batch


def strips(shape, m):
    """Exactly m superpixels: vertical strips, so the segment count is what is being timed."""
    return (np.arange(shape[1])[None, :] * m // shape[1]).repeat(shape[0], 0).astype(np.int32)


def main() -> None:
    import xai_core as xc
    from xai_core.explainers import EXPLAINERS
    from xai_core.explainers.lime_image import hidden_image
    from xai_core.explainers.shap_superpixel import all_coalitions, coalition_values, exact_shapley

    lm = xc.load_model("brain-basic-cnn")
    x = lm.prepare(xc.load_dataset("synthetic-brain-mri").image("test", 0))
    cls = [int(np.argmax(lm.forward_image(x)[1]))]
    print(f"brain-basic-cnn, {lm.input_shape[0]}x{lm.input_shape[1]}, class {lm.class_names[cls[0]]}, "
          f"{os.cpu_count()} CPUs visible, best of {REPEATS}\n")
    print("| method | family | seconds | model calls |")
    print("|---|---|---:|---:|")
    for name, cls_ in EXPLAINERS.items():
        before = lm.calls
        secs, e = best_of(lambda: xc.explain(lm, x, method=name, output="margin", classes=cls, cache=None))
        calls = (lm.calls - before) // (REPEATS + 1)
        print(f"| {name} | {cls_.family} | {secs:.2f} | {calls:,} |")
    per = forward_per_image(lm)
    print(f"\nforward pass: {per * 1e3:.3f} ms per image (batch 256)\n")
    print("| superpixels M | coalitions 2^M | seconds | bound 2^M x forward | ratio |")
    print("|---:|---:|---:|---:|---:|")
    f_all = lm.output_fn("margin", 256)
    for m in (8, 12, 16):
        seg = strips(x.shape, m)
        fudged = hidden_image(x, seg, "mean")

        def run():
            v = coalition_values(lambda b: f_all(b)[:, cls], x, fudged, seg, all_coalitions(m), 256)
            return exact_shapley(v, m)

        secs, _ = best_of(run, 1 if m == 16 else REPEATS)
        bound = 2 ** m * per
        print(f"| {m} | {2 ** m:,} | {secs:.2f} | {bound:.2f} | {secs / bound:.2f}x |")


if __name__ == "__main__":
    main()
