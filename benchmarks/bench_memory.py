"""Peak memory and time of a large SHAP job: 299x299 RGB InceptionV3-architecture classifier, one run.

The issue's target: a 10,000-evaluation SHAP Partition map on a 299x299 RGB model keeps peak resident memory
at or under 3 GB, and takes at most 15 s on a GPU. ``transfer-inceptionv3`` is built without downloaded
weights (random initialisation changes the time of nothing). Peak RSS comes from ``resource.getrusage``.

    python benchmarks/bench_memory.py [--max-evals 10000] [--batch-size N]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-evals", type=int, default=10_000)
    ap.add_argument("--batch-size", type=int, default=None, help="default: the explainer's own")
    args = ap.parse_args()
    os.environ.setdefault("XAI_CACHE_DIR", tempfile.mkdtemp(prefix="bench-mem-"))
    os.environ.setdefault("XAI_TIME_LIMIT_S", "0")  # a CPU run takes ~10 min; the 15-min app limit must not cut it
    import numpy as np

    import xai_core as xc
    from xai_core.models import LoadedModel, ModelMetadata
    from xai_core.models.architectures import ARCHITECTURES
    from xai_core.models.devices import configure

    gpus = configure()
    spec = ARCHITECTURES.get("transfer-inceptionv3")
    keras_model = spec.build((299, 299, 3), 4)
    meta = ModelMetadata(class_names=["a", "b", "c", "d"], input_size=(299, 299), input_channels=3,
                         input_scale="-1-1")
    lm = LoadedModel(keras_model, meta, "inception-299", file_hash="bench-inception-299")
    image = np.random.default_rng(0).uniform(0, 255, (299, 299, 3)).astype(np.float32)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    params = {"max_evals": args.max_evals}
    if args.batch_size:
        params["batch_size"] = args.batch_size
    t0 = time.perf_counter()
    e = xc.explain(lm, image, "shap-partition", "probability", top_k=1, cache=None, **params)
    dt = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    device = gpus[0] if gpus else f"CPU ({os.cpu_count()} cores)"
    print(f"SHAP Partition, InceptionV3 architecture 299x299x3, max_evals={args.max_evals:,}, top-1, {device}")
    print("| seconds | peak RSS (MB) | RSS before explaining (MB) | additivity residual |")
    print("|---:|---:|---:|---:|")
    print(f"| {dt:.1f} | {peak:,.0f} | {rss0:,.0f} | {e.residuals.max():.1e} |")


if __name__ == "__main__":
    main()
