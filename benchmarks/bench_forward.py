"""Forward passes: TensorFlow vs OpenVINO fp32 vs OpenVINO bf16, per architecture and batch size.

For each architecture (the shipped CNNs; MobileNetV2, InceptionV3 and EfficientNet-B0 with random weights, as
nothing may be downloaded) and batch size: images/s of each backend through ``LoadedModel.forward`` (the
path every black-box method takes), FLOPs per image counted from layer shapes (2 x multiply-adds of the
convolutions and dense layers), the achieved GFLOP/s and its share of a measured peak (a float32 matrix
product, the best of numpy's and TensorFlow's), and fp32's largest output difference from TensorFlow. Then,
end to end on MobileNetV2 at 224x224 on a photograph (scikit-image's astronaut): one 1,000-evaluation SHAP
Partition map and LIME's six segmenters, uncached, with each backend, and whether the fp32 maps equal TensorFlow's.

Every ratio comes from one run: rounds are interleaved (TF, fp32, bf16, TF, ...), so a burst of load on
this shared machine hits all three; the figure is the median round. The load average is printed before and
after: figures taken with a load above the core count are not comparable.

    python benchmarks/bench_forward.py            # everything (several minutes on 2 cores)
    python benchmarks/bench_forward.py --quick    # brain CNN and MobileNetV2, fewer rounds (under ~3 minutes)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

BACKENDS = ("tensorflow", "openvino", "openvino-bf16")
SHORT = {"tensorflow": "TF", "openvino": "OV fp32", "openvino-bf16": "OV bf16"}


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def peak_gflops() -> float:
    """Measured float32 peak: the best GFLOP/s of a 2048x2048 matrix product (numpy and TensorFlow)."""
    import tensorflow as tf

    n = 2048
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    ta = tf.constant(a)
    best = 0.0
    for fn in (lambda: a @ a, lambda: tf.linalg.matmul(ta, ta).numpy()):
        fn()
        for _ in range(5):
            t0 = time.perf_counter()
            fn()
            best = max(best, 2 * n ** 3 / (time.perf_counter() - t0) / 1e9)
    return best


def flops_per_image(model) -> float:
    """2 x multiply-adds of every convolution and dense layer, from their output shapes (nested models too)."""
    total = 0.0
    for layer in model.layers:
        if getattr(layer, "layers", None):
            total += flops_per_image(layer)
            continue
        kind = type(layer).__name__
        try:
            out = layer.output.shape
        except Exception:
            continue
        if kind in ("Conv2D", "DepthwiseConv2D", "SeparableConv2D"):
            kh, kw = layer.kernel_size
            cin = int(layer.input.shape[-1])
            pixels = int(out[1]) * int(out[2])
            if kind == "Conv2D":
                total += 2 * pixels * int(out[-1]) * kh * kw * cin / layer.groups
            elif kind == "DepthwiseConv2D":
                total += 2 * pixels * int(out[-1]) * kh * kw
            else:  # depthwise then pointwise
                mid = cin * layer.depth_multiplier
                total += 2 * pixels * (mid * kh * kw + mid * int(out[-1]))
        elif kind == "Dense":
            total += 2 * int(layer.input.shape[-1]) * int(out[-1])
    return total


def random_model(folder: Path, name: str):
    """A keras.applications network with random weights, saved as a model folder the loader takes."""
    import keras

    from xai_core.models import ModelMetadata, load_model

    keras.utils.set_random_seed(0)
    build, size, scale = {"MobileNetV2": (keras.applications.MobileNetV2, 224, "-1-1"),
                          "InceptionV3": (keras.applications.InceptionV3, 299, "-1-1"),
                          "EfficientNet-B0": (keras.applications.EfficientNetB0, 224, "0-255")}[name]
    d = folder / name
    d.mkdir(parents=True, exist_ok=True)
    build(weights=None, input_shape=(size, size, 3), classes=10).save(d / "model.keras")
    ModelMetadata(class_names=[f"class {i}" for i in range(10)], input_size=(size, size), input_channels=3,
                  input_scale=scale).write(d / "metadata.json")
    return load_model(d)


def time_forward(lm, x, rounds: int) -> dict[str, float]:
    """Median seconds of one ``forward`` of ``x`` per backend, rounds interleaved."""
    times = {b: [] for b in BACKENDS}
    for b in BACKENDS:
        lm.forward(x, batch_size=len(x), backend=b)  # warm
    for _ in range(rounds):
        for b in BACKENDS:
            t0 = time.perf_counter()
            lm.forward(x, batch_size=len(x), backend=b)
            times[b].append(time.perf_counter() - t0)
    return {b: float(np.median(t)) for b, t in times.items()}


def forward_table(models: list, rounds: int, peak: float, quick: bool) -> list[str]:
    from xai_core.models import openvino_backend as ob

    lines = ["| model | input | GFLOP/img | batch | TF img/s | OV fp32 img/s | OV bf16 img/s | fp32 / TF | "
             "bf16 / TF | TF % peak | fp32 % peak | bf16 % peak | fp32 max diff | auto |",
             "|" + "---|" * 14]
    print("\n".join(lines), flush=True)
    for name, lm in models:
        own = lm.batch_size_for()
        sizes = [own] if quick else sorted({1, min(16, own), own})  # own: the memory budget's cap
        gflop = flops_per_image(lm.keras_model) / 1e9
        for b in sizes:
            x = np.random.default_rng(0).uniform(0, 255, (b, *lm.input_shape)).astype(np.float32)
            t = time_forward(lm, x, rounds)
            ips = {k: b / v for k, v in t.items()}
            d = ob.compare_with_tensorflow(lm, x[:min(b, 8)], "openvino")
            auto = ("OV" if t["openvino"] < ob.AUTO_MARGIN * t["tensorflow"] else "TF") if b == own else ""
            lines.append(
                f"| {name} | {'x'.join(map(str, lm.input_shape))} | {gflop:.3f} | {b} | {ips['tensorflow']:.1f} | "
                f"{ips['openvino']:.1f} | {ips['openvino-bf16']:.1f} | {ips['openvino'] / ips['tensorflow']:.2f}x | "
                f"{ips['openvino-bf16'] / ips['tensorflow']:.2f}x | "
                + " | ".join(f"{100 * ips[k] * gflop / peak:.0f}%" for k in BACKENDS)
                + f" | {d['margin']:.1e} | {auto} |")
            print(lines[-1], flush=True)
    return lines


def end_to_end(lm, rounds: int, lime_samples: int) -> list[str]:
    """Seconds for one uncached 1,000-evaluation SHAP map and LIME's six segmenters, per backend."""
    import xai_core as xc
    from xai_core.models import openvino_backend as ob
    from xai_core.segmenters import SEGMENTERS

    from skimage import data, transform

    # a photograph shipped inside scikit-image, as a page would show one: uniform noise gave quickshift
    # 7,139 one-pixel superpixels and felzenszwalb 327, a fit no page ever asks for
    image = (transform.resize(data.astronaut(), lm.input_shape[:2], anti_aliasing=True) * 255).astype(np.float32)
    if lm.input_shape[-1] == 1:
        image = image.mean(-1, keepdims=True)
    tasks = {
        "SHAP Partition, 1,000 evaluations": lambda: [xc.explain(lm, image, "shap-partition", top_k=1,
                                                                 max_evals=1000, cache=None)],
        f"LIME, six segmenters x {lime_samples} samples": lambda: [
            xc.explain(lm, image, "lime", top_k=1, segmenter=s, num_samples=lime_samples, cache=None)
            for s in SEGMENTERS.names()],
    }
    lines = ["| task (MobileNetV2 224x224) | TF s | OV fp32 s | OV bf16 s | fp32 speed-up | bf16 speed-up | "
             "fp32 maps equal TF |", "|" + "---|" * 7]
    print("\n".join(lines), flush=True)
    for title, task in tasks.items():
        times = {b: [] for b in BACKENDS}
        maps = {}
        for r in range(rounds):
            for b in BACKENDS:
                with ob.using(b), contextlib.redirect_stderr(io.StringIO()):
                    t0 = time.perf_counter()
                    maps[b] = task()
                    times[b].append(time.perf_counter() - t0)
        s = {b: float(np.median(v)) for b, v in times.items()}
        equal = all(np.allclose(a.values, t.values, rtol=0, atol=1e-4 * max(np.abs(t.values).max(), 1e-12))
                    for a, t in zip(maps["openvino"], maps["tensorflow"]))
        lines.append(f"| {title} | {s['tensorflow']:.1f} | {s['openvino']:.1f} | {s['openvino-bf16']:.1f} | "
                     f"{s['tensorflow'] / s['openvino']:.2f}x | {s['tensorflow'] / s['openvino-bf16']:.2f}x | "
                     f"{'yes' if equal else 'NO'} |")
        print(lines[-1], flush=True)
    return lines


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="brain CNN and MobileNetV2 only, fewer rounds")
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds per measurement")
    ap.add_argument("--lime-samples", type=int, default=None,
                    help="LIME's samples per segmenter end to end (default 100 with --quick, else LIME's 1,000)")
    args = ap.parse_args(argv)
    rounds = args.rounds or (3 if args.quick else 5)
    import openvino
    import tensorflow as tf

    from xai_core.models import load_model

    os.environ.setdefault("XAI_CACHE_DIR", tempfile.mkdtemp(prefix="bench-forward-"))  # converted models
    start = time.perf_counter()
    print(f"# bench_forward: TensorFlow {tf.__version__}, OpenVINO {openvino.__version__}; {load()}", flush=True)
    peak = peak_gflops()
    print(f"measured float32 peak: {peak:.0f} GFLOP/s", flush=True)
    shipped = ["brain-basic-cnn"] if args.quick else ["brain-basic-cnn", "brain-optimized-cnn", "brain-augmented-cnn",
                                                      "mnist-cnn"]
    with tempfile.TemporaryDirectory(prefix="bench-forward-models-") as tmp:
        models = [(n, load_model(n)) for n in shipped]
        arches = ["MobileNetV2"] if args.quick else ["MobileNetV2", "InceptionV3", "EfficientNet-B0"]
        models += [(a, random_model(Path(tmp), a)) for a in arches]
        for _, lm in models:
            t0 = time.perf_counter()
            lm.backend("openvino")
            lm.backend("openvino-bf16")
            got = lm.backend("openvino")
            print(f"{lm.name}: converted and compiled in {time.perf_counter() - t0:.1f} s"
                  + ("" if got == "openvino-fp32" else " (conversion FAILED: OpenVINO columns are TensorFlow)"),
                  flush=True)
        print()
        forward_table(models, rounds, peak, args.quick)
        print()
        mobilenet = dict(models)["MobileNetV2"]
        end_to_end(mobilenet, 1 if args.quick else 3, args.lime_samples or (100 if args.quick else 1000))
    print(f"\n# done in {time.perf_counter() - start:.0f} s; {load()}")


if __name__ == "__main__":
    main()
