"""The LIME page's first view: every segmenter once, uncached, at the quick sample count (issue 11).

The page used to open with 6 segmenters x 3 repeats at 1,000 samples (46 s on 2 cores). The quick
first view runs each segmenter once at ``QUICK_SAMPLES`` (500), the page's default, with the same
jobs the page sends (top-2 classes, probability space, lime's mean-colour hiding, seed 0).

Rows: the quick view, the old view, and the quick view's stability check (2 more seeds each), all
on test scan 0 of synthetic-brain-mri with brain-basic-cnn, without the disk cache. One run; the
ratio is what to quote, the seconds depend on the machine. Run: `python benchmarks/bench_lime_first_view.py`.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

QUICK_SAMPLES = 500


def run(model, image, samples: int, seeds) -> float:
    import xai_core as xc

    t0 = time.perf_counter()
    for name in xc.SEGMENTERS.names():
        for seed in seeds:
            with contextlib.redirect_stderr(io.StringIO()):
                xc.explain(model, image, method="lime", output="probability", top_k=2, cache=None,
                           segmenter=name, num_samples=samples, hide_color="mean", seed=seed)
    return time.perf_counter() - t0


def main() -> None:
    import xai_core as xc

    model = xc.load_model("brain-basic-cnn")
    image = xc.load_dataset("synthetic-brain-mri").image("test", 0)
    run(model, image, 100, [0])  # warm-up: tracing, imports
    quick = run(model, image, QUICK_SAMPLES, [0])
    old = run(model, image, 1000, [0, 1, 2])
    check = run(model, image, QUICK_SAMPLES, [1, 2])
    cores = os.cpu_count()
    print(f"LIME first view on {cores} cores, 6 segmenters, brain-basic-cnn, synthetic-brain-mri test #0")
    print(f"  quick first view (1 run x {QUICK_SAMPLES} samples):   {quick:6.1f} s")
    print(f"  old first view (3 runs x 1,000 samples):     {old:6.1f} s   ({old / quick:.1f}x the quick view)")
    print(f"  stability on request (+2 seeds x {QUICK_SAMPLES}):      {check:6.1f} s")


if __name__ == "__main__":
    main()
