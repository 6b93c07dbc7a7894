"""LIME on brain-basic-cnn: xai_core vs lime's own ``explain_instance``, in one run.

The thesis (002_28be3771a39e0618.txt, section 4.5) and lime's README do::

    explainer = lime_image.LimeImageExplainer()
    explainer.explain_instance(image, model.predict, top_labels=..., num_samples=1000, segmentation_fn=...)

Rows, all with the same segments (SLIC), 1,000 samples, random state and the top-2 classes:

* lime as documented: ``classifier_fn=model.predict`` and lime's default batch of 10;
* lime's loop fed our compiled forward pass in batches of 256 (isolates lime's per-image loop);
* ``xai_core.explain(method="lime")``, uncached and cached;
* the forward-pass bound: 1,000 images through the compiled function.

Every row's weights are checked equal to xai_core's. Run with `make bench`.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _timing  # noqa: E402

import numpy as np  # noqa: E402

SAMPLES = int(os.environ.get("BENCH_SAMPLES", 1000))
REPEATS = int(os.environ.get("BENCH_REPEATS", 3))
SEED = 0


def best_of(fn, repeats=REPEATS):
    return _timing.best_of(fn, repeats, quiet=True)  # lime's tqdm bar


def weights_of(ret, classes, n):
    w = np.zeros((len(classes), n))
    for k, c in enumerate(classes):
        for feature, value in ret.local_exp[int(c)]:
            w[k, feature] = value
    return w


def main() -> None:
    from lime import lime_image

    import xai_core as xc
    from xai_core.cache import DiskCache

    model = xc.load_model("brain-basic-cnn")
    ds = xc.load_dataset("synthetic-brain-mri")
    image = model.prepare(ds.image("test", 0))
    classes = np.argsort(-model.predict_proba(image[None])[0])[:2]

    def ours():
        return xc.explain(model, image, method="lime", output="probability", classes=classes, cache=None,
                          segmenter="slic", num_samples=SAMPLES, seed=SEED)

    ours()  # warm-up (tracing, imports)
    t_ours, e = best_of(ours)
    seg = e.extras["segments"]
    n = int(seg.max()) + 1

    batch = np.repeat(image[None], SAMPLES, 0)
    model.forward(batch)
    t_bound, _ = best_of(lambda: model.forward(batch))

    rgb = np.repeat(image, 3, -1).astype(np.float64)  # lime works on RGB; the model sees one channel

    def lime_run(fn, batch_size):
        return lime_image.LimeImageExplainer(random_state=SEED).explain_instance(
            rgb, fn, labels=tuple(int(c) for c in classes), top_labels=None, num_samples=SAMPLES,
            batch_size=batch_size, segmentation_fn=lambda _: seg, random_seed=0)

    keras_model = model.keras_model
    t_lime_predict, r1 = best_of(lambda: lime_run(
        lambda b: keras_model.predict(np.asarray(b, np.float32)[..., :1] / 255.0, verbose=0), 10),
        repeats=max(1, REPEATS - 1))
    t_lime_compiled, r2 = best_of(lambda: lime_run(
        lambda b: model.predict_proba(np.asarray(b, np.float32)[..., :1]), 256))
    dw_predict, dw_compiled = (np.abs(weights_of(r, classes, n) - e.extras["weights"]).max() for r in (r1, r2))

    with tempfile.TemporaryDirectory() as d:
        cache = DiskCache(Path(d))
        kw = dict(method="lime", output="probability", classes=classes, segmenter="slic", num_samples=SAMPLES,
                  seed=SEED)
        xc.explain(model, image, cache=cache, **kw)
        t_cached, _ = best_of(lambda: xc.explain(model, image, cache=cache, **kw))

    print(f"LIME, brain-basic-cnn, 128x128x1, SLIC ({n} superpixels), {SAMPLES} samples, top-2 classes, "
          f"best of {REPEATS}, {os.cpu_count()} CPU cores\n")
    print("| what | seconds |\n|---|---:|")
    print(f"| lime explain_instance(classifier_fn=model.predict), batch 10 | {t_lime_predict:.3f} |")
    print(f"| lime explain_instance, our compiled forward, batch 256 | {t_lime_compiled:.3f} |")
    print(f"| xai_core.explain(method='lime') | {t_ours:.3f} |")
    print(f"| xai_core.explain(method='lime'), cached repeat | {t_cached:.3f} |")
    print(f"| forward-pass bound: {SAMPLES} images, compiled, batch 256 | {t_bound:.3f} |")
    print()
    print(f"speed-up over lime as documented (model.predict): {t_lime_predict / t_ours:.1f}x (target >= 5x)")
    print(f"speed-up over lime's loop with the same compiled model: {t_lime_compiled / t_ours:.1f}x")
    print(f"time / forward-pass bound: {t_ours / t_bound:.2f}")
    print(f"max |weight difference| to lime: {dw_compiled:.1e} with the same compiled model, "
          f"{dw_predict:.1e} with model.predict (float32 round-off between the two forward paths)")


if __name__ == "__main__":
    main()
