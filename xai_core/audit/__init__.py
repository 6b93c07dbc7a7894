"""Audit a whole dataset split: every scan, several methods, several metrics, on one machine or a Ray cluster.

An audit is a list of image ids mapped through one batch function,
``audit_batch(ids, spec) -> rows`` (``batch.py``), by an engine
(``engines.py``: a local process pool or Ray Data). Rows are appended to the
audit folder batch by batch (``storage.py``), so a rerun resumes; at the end
the rows are summarised with bootstrap intervals (``summary.py``).

    >>> from xai_core.audit import AuditSpec, run_audit
    >>> result = run_audit(AuditSpec("brain-basic-cnn", "synthetic-brain-mri", limit=8), "audits/brain")
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..params import Progress
from .batch import Auditor, audit_batch, columns
from .engines import ENGINES, batches, default_workers, run_local, run_ray
from .spec import CLASS_MODES, AuditSpec, image_ids, validate
from .storage import AuditStore, audit_folder, frame, list_audits, private_root, share_audit
from .summary import bootstrap_mean, summarise

__all__ = ["AuditResult", "AuditSpec", "AuditStore", "Auditor", "CLASS_MODES", "ENGINES", "audit_batch",
           "audit_folder", "bootstrap_mean", "image_ids", "list_audits", "private_root", "run_audit", "share_audit",
           "summarise", "validate"]


@dataclass
class AuditResult:
    out: Path
    rows: object  # pandas DataFrame, one row per image x method x class
    summary: dict
    computed: int  # images computed by this run (0 when everything was already done)
    skipped: int  # images found finished in the folder
    seconds: float


class _Meter:
    """Images done, images per second and time left, for the progress callback."""

    def __init__(self, total: int, done: int, progress: Progress | None):
        self.total, self.done, self.new, self.progress = total, done, 0, progress
        self.t0 = time.perf_counter()

    def add(self, n: int) -> None:
        self.done += n
        self.new += n
        if self.progress is None:
            return
        dt = time.perf_counter() - self.t0
        rate = self.new / dt if dt > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else float("nan")
        eta = f"{left:,.0f} s left" if left == left else "time left unknown"
        self.progress(self.done / max(1, self.total),
                      f"{self.done:,} / {self.total:,} images, {rate:.2f} images/s, {eta}")


def run_audit(spec: AuditSpec, out: str | Path, engine: str = "local", workers: int | None = None,
              address: str | None = None, batch_size: int = 4, command: str = "",
              progress: Progress | None = None) -> AuditResult:
    """Audit ``spec`` into ``out``, skipping images already finished there; returns rows and summary.

    ``progress`` is called after every batch and may raise ``Cancelled``: what finished stays on disk.
    """
    if engine not in ENGINES:
        raise InputError(f"--engine must be one of {', '.join(ENGINES)}; got {engine!r}.")
    if workers is not None and int(workers) < 1:
        raise InputError(f"--workers must be at least 1; got {workers}.")
    if not 1 <= int(batch_size) <= 1000:
        raise InputError(f"The batch size must be between 1 and 1000; got {batch_size}.")
    if address and engine != "ray":
        raise InputError("--address names a Ray cluster; use it with --engine ray.")
    spec = validate(spec)
    ids = image_ids(spec)
    store = AuditStore(out)
    store.start(spec, command)
    done = store.done_ids() & set(ids)
    todo = [i for i in ids if i not in done]
    workers = int(workers or (1 if engine == "local" else default_workers()))
    cols = columns(spec)
    meter = _Meter(len(ids), len(done), progress)
    t0 = time.perf_counter()

    def on_rows(batch_ids, rows):
        store.append(frame(rows, cols))
        meter.add(len(batch_ids))

    work = batches(todo, int(batch_size))
    if work:
        if progress is not None:
            progress(len(done) / len(ids), f"{len(done):,} / {len(ids):,} images done before; starting "
                                           f"{engine} with {workers} worker(s)")
        if engine == "local":
            run_local(spec, work, min(workers, len(work)), on_rows)
        else:
            run_ray(spec, work, workers, on_rows, address=address, batch_size=int(batch_size))
    df = frame(store.rows(ids).to_dict("records"), cols)
    df = df[df["image_id"].isin(set(ids))].reset_index(drop=True)
    summary = summarise(df, spec.methods, spec.metrics, n_planned=len(ids))
    summary.update(model=spec.model, dataset=spec.dataset, split=spec.split, classes=spec.classes)
    store.finish(df, summary)
    return AuditResult(Path(out), df, summary, computed=len(todo), skipped=len(done),
                       seconds=time.perf_counter() - t0)
