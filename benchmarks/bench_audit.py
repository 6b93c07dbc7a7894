"""Audit scaling: local with 1 and 2 workers, Ray with 1 and 2 actors, on the same 64 scans, in one run.

Each configuration runs in a fresh Python process (``--one ENGINE WORKERS OUT``), so every one pays its
own start-up (TensorFlow import, model load, the out-of-domain reference, Ray start and actors) and no
model is shared. Reported per configuration:

* wall time end to end and images/s;
* the steady rate after the first batch (start-up excluded) and the start-up time itself;
* peak memory per worker (VmHWM of the worker processes, polled from /proc);
* that its rows equal the first configuration's rows exactly (timings excluded).

Then a rerun into a finished folder (computes nothing), and the cost model
``time ~ images x classes x evaluations x forward time / workers`` checked against the measurements,
with a projection for 10,000 scans on 8 and 64 workers. Results go to
``benchmarks/results/bench_audit.json`` and a Markdown table on stdout (the README's table).
Settings: ``BENCH_SCANS`` (64), ``BENCH_SHAP_EVALS`` (200), ``BENCH_LIME_SAMPLES`` (100).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCANS = int(os.environ.get("BENCH_SCANS", 64))
SHAP_EVALS = int(os.environ.get("BENCH_SHAP_EVALS", 200))
LIME_SAMPLES = int(os.environ.get("BENCH_LIME_SAMPLES", 100))
BATCH = 4
CONFIGS = [("local", 1), ("local", 2), ("ray", 1), ("ray", 2)]
MODEL, DATASET = "brain-basic-cnn", "synthetic-brain-mri"


def spec():
    from xai_core.audit import AuditSpec

    return AuditSpec(MODEL, DATASET, "test", ("shap-partition", "lime"), (), "predicted", SCANS,
                     method_params={"shap-partition": {"max_evals": SHAP_EVALS}, "lime": {"num_samples": LIME_SAMPLES}})


def one(engine: str, workers: int, out: str) -> None:
    """Child process: one audit; prints a JSON line with its timings."""
    from xai_core.audit import run_audit

    marks = []
    t0 = time.perf_counter()
    r = run_audit(spec(), out, engine=engine, workers=workers, batch_size=BATCH,
                  progress=lambda f, msg: marks.append((time.perf_counter() - t0, msg)))
    wall = time.perf_counter() - t0
    done = [t for t, m in marks if "images/s" in m]
    first = done[0] if done else wall
    print(json.dumps({"wall": wall, "first_batch": first, "computed": r.computed, "skipped": r.skipped,
                      "steady_rate": (r.computed - BATCH) / (wall - first) if r.computed > BATCH else None}))


class PeakMemory:
    """Peak resident memory (VmHWM) of processes whose command line matches, polled every 0.3 s."""

    def __init__(self, match):
        self.match, self.peaks, self._stop = match, {}, threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            for p in Path("/proc").iterdir():
                if not p.name.isdigit():
                    continue
                try:
                    cmd = (p / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                    if not self.match(int(p.name), cmd):
                        continue
                    for line in (p / "status").read_text().splitlines():
                        if line.startswith("VmHWM:"):
                            kb = int(line.split()[1])
                            self.peaks[int(p.name)] = max(kb, self.peaks.get(int(p.name), 0))
                except OSError:
                    continue
            self._stop.wait(0.3)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


def run_config(engine: str, workers: int, out: Path) -> dict:
    proc_holder = {}

    def match(pid, cmd):
        if engine == "ray":
            return "MapWorker" in cmd or "MapBatches" in cmd
        if workers == 1:
            return pid == proc_holder.get("pid")
        return "multiprocessing" in cmd and "spawn" in cmd

    with PeakMemory(match) as mem:
        p = subprocess.Popen([sys.executable, __file__, "--one", engine, str(workers), str(out)], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        proc_holder["pid"] = p.pid
        stdout, _ = p.communicate()
    if p.returncode != 0:
        raise SystemExit(f"{engine} x{workers} failed (status {p.returncode})")
    r = json.loads(stdout.strip().splitlines()[-1])
    r.update(engine=engine, workers=workers, peak_mb_per_worker=round(max(mem.peaks.values(), default=0) / 1024),
             workers_seen=len(mem.peaks))
    return r


def forward_seconds() -> float:
    """Seconds per image of the model's forward pass in batches of 256 (the cost model's unit)."""
    import numpy as np

    from xai_core.models import load_model

    lm = load_model(MODEL)
    x = np.random.default_rng(0).uniform(0, 255, (512, *lm.input_shape)).astype(np.float32)
    lm.forward(x)
    best = min(_timed(lambda: lm.forward(x)) for _ in range(3))
    return best / len(x)


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    import pandas as pd

    from xai_core.audit import run_audit

    results, frames = [], {}
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as tmp:
        warm = spec()
        warm.limit = 2
        run_audit(warm, Path(tmp) / "warm", batch_size=BATCH)  # datasets and the OOD reference, cached once
        for engine, workers in CONFIGS:
            out = Path(tmp) / f"{engine}-{workers}"
            r = run_config(engine, workers, out)
            r["images_per_s"] = SCANS / r["wall"]
            frames[(engine, workers)] = pd.read_parquet(out / "rows.parquet").drop(columns=["seconds"])
            r["rows_equal_first"] = bool(frames[(engine, workers)].equals(frames[CONFIGS[0]]))
            results.append(r)
            print(f"{engine} x{workers}: {r['wall']:.1f} s, {r['images_per_s']:.3f} images/s, "
                  f"first batch {r['first_batch']:.1f} s, peak {r['peak_mb_per_worker']} MB/worker, "
                  f"rows equal: {r['rows_equal_first']}", file=sys.stderr, flush=True)
        rerun = run_config("local", 1, Path(tmp) / "local-1")
        rows = pd.read_parquet(Path(tmp) / "local-1" / "rows.parquet")
    fwd = forward_seconds()
    evals = SHAP_EVALS + LIME_SAMPLES  # per image and explained class (classes = 1: the predicted one)
    base = next(r for r in results if (r["engine"], r["workers"]) == ("local", 1))
    per_eval = base["wall"] / (SCANS * 1 * evals)  # calibrated cost of one evaluation, overheads included
    for r in results:
        r["model_forward_only_s"] = SCANS * evals * fwd / r["workers"]
        r["model_calibrated_s"] = SCANS * evals * per_eval / r["workers"]
    projection = {w: 10_000 * 1 * evals * per_eval / w for w in (8, 64)}
    report = {"scans": SCANS, "shap_max_evals": SHAP_EVALS, "lime_num_samples": LIME_SAMPLES, "batch": BATCH,
              "classes_per_scan": 1, "forward_s_per_image": fwd, "calibrated_s_per_evaluation": per_eval,
              "loadavg_1min_at_end": os.getloadavg()[0], "cpus": os.cpu_count(), "results": results,
              "rerun": rerun, "projection_10000_scans_s": projection, "mean_seconds_per_row": float(rows["seconds"].mean()),
              "gpu": "none lent to this task"}
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "bench_audit.json").write_text(json.dumps(report, indent=2))
    print(f"| engine | workers | wall (s) | images/s | start-up to first batch (s) | steady images/s | "
          f"peak MB per worker | model: forward only (s) | model: calibrated (s) | rows equal |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        steady = f"{r['steady_rate']:.3f}" if r["steady_rate"] else "-"
        print(f"| {r['engine']} | {r['workers']} | {r['wall']:.1f} | {r['images_per_s']:.3f} | {r['first_batch']:.1f} | "
              f"{steady} | {r['peak_mb_per_worker']} | {r['model_forward_only_s']:.1f} | "
              f"{r['model_calibrated_s']:.1f} | {'yes' if r['rows_equal_first'] else 'NO'} |")
    print(f"\nrerun into the finished local x1 folder: {rerun['wall']:.1f} s, computed {rerun['computed']}, "
          f"skipped {rerun['skipped']}")
    print(f"forward pass {fwd * 1e3:.2f} ms/image; calibrated {per_eval * 1e3:.2f} ms per evaluation; "
          f"projection for 10,000 scans: {projection[8] / 3600:.1f} h on 8 workers, "
          f"{projection[64] / 3600:.2f} h on 64 workers; load average at the end {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--one":
        one(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        main()
