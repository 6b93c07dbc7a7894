"""Two engines that map ``audit_batch`` over batches of image ids.

* ``local``: in this process (one worker), or a ``concurrent.futures``
  process pool (several; each worker process loads the model once);
* ``ray``: Ray Data's ``map_batches`` with a callable class that holds the
  model (the pattern of Ray's ``doc/source/data/doc_code/tf_quick_start.py``),
  a pool of ``workers`` actors (``ActorPoolStrategy``, the newer spelling of
  ``concurrency=``), one GPU each where the cluster has GPUs.

Both hand each finished batch's rows to ``on_rows`` on the driver, which
appends them to the audit folder; so either engine can be stopped at any
point and resumed by the other.
"""

from __future__ import annotations

import os
import tempfile
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Callable

from ..errors import InputError
from ..models import openvino_backend as forward_backend
from .batch import audit_batch, auditor_for, model_files, unpack_model
from .spec import AuditSpec

ENGINES = ("local", "ray")
OnRows = Callable[[list[str], list[dict]], None]


def batches(ids: list[str], size: int) -> list[list[str]]:
    return [ids[i:i + size] for i in range(0, len(ids), size)]


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


# ---------------------------------------------------------------- local

def _pool_init(spec_json: str, backend: str) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ["XAI_FORWARD_BACKEND"] = backend  # the driver's choice (a CLI flag or app setting), not only its env
    auditor_for(AuditSpec.from_json(spec_json))  # load the model once, before the first batch


def _pool_work(spec_json: str, ids: list[str]) -> list[dict]:
    return audit_batch(ids, AuditSpec.from_json(spec_json))


def run_local(spec: AuditSpec, work: list[list[str]], workers: int, on_rows: OnRows) -> None:
    if workers <= 1:
        for ids in work:
            on_rows(ids, audit_batch(ids, spec))
        return
    import multiprocessing

    # spawn, not fork: TensorFlow's threads do not survive a fork
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_pool_init,
                             initargs=(spec.to_json(), forward_backend.requested())) as pool:
        queue = list(work)
        running = {}
        try:
            while queue or running:
                while queue and len(running) < 2 * workers:  # a little ahead, not the whole audit at once
                    ids = queue.pop(0)
                    running[pool.submit(_pool_work, spec.to_json(), ids)] = ids
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for f in done:
                    on_rows(running.pop(f), f.result())
        except BaseException:
            for f in running:
                f.cancel()
            raise


# ---------------------------------------------------------------- ray

class RayAuditor:
    """Ray Data callable class: builds the ``Auditor`` (model, detector, dataset) once per actor."""

    def __init__(self, spec_json: str, model_ref: list):
        import ray

        try:  # before TensorFlow touches a GPU, or several actors on one GPU fail to start
            import tensorflow as tf

            for gpu in tf.config.list_physical_devices("GPU"):
                tf.config.experimental.set_memory_growth(gpu, True)
        except Exception:
            pass
        files = ray.get(model_ref[0])  # the model's bytes, from the driver: workers need not see its disk
        self._tmp = tempfile.TemporaryDirectory(prefix="xai-audit-model-")
        path = unpack_model(files, self._tmp.name)
        self.spec = AuditSpec.from_json(spec_json)
        self.auditor = auditor_for(self.spec, path)

    def __call__(self, batch):
        import pandas as pd

        rows = self.auditor([str(i) for i in batch["image_id"]])
        return pd.DataFrame.from_records(rows, columns=self.auditor.columns).astype(object)


def ray_runtime_env(remote: bool = False) -> dict:
    """What Ray workers need: this code on their path and the XAI_* settings (cache, data roots).

    On a remote cluster the code folder travels as the job's ``working_dir`` (shipped models are inside it;
    other models travel as bytes through the object store, see ``model_files``)."""
    from ..config import PROJECT_ROOT

    env = {k: v for k, v in os.environ.items() if k.startswith("XAI_") or k == "TF_CPP_MIN_LOG_LEVEL"}
    # each actor loads the converted model from the cache (by content hash) on the backend the driver chose
    env["XAI_FORWARD_BACKEND"] = forward_backend.requested()
    if remote:  # ship the code (shipped models included) to the cluster; data comes from shared storage
        return {"working_dir": str(PROJECT_ROOT), "env_vars": env,
                "excludes": [".venv/", ".git/", "tests/", "benchmarks/", "**/__pycache__/"]}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))
    return {"env_vars": env}


def run_ray(spec: AuditSpec, work: list[list[str]], workers: int, on_rows: OnRows, address: str | None = None,
            batch_size: int = 4) -> None:
    try:
        import ray
    except ImportError:
        raise InputError("The ray engine needs Ray: pip install -r requirements.txt (ray[data]).") from None
    address = address or os.environ.get("RAY_ADDRESS") or None
    started = not ray.is_initialized()
    if started:
        kwargs = dict(include_dashboard=False, log_to_driver=False, logging_level="ERROR",
                      runtime_env=ray_runtime_env(bool(address)))
        if address:
            ray.init(address=address, **kwargs)
        else:
            ray.init(num_cpus=max(workers, 1), **kwargs)
    try:
        ids = [i for b in work for i in b]
        if not ids:
            return
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        ctx.execution_options.preserve_order = True  # parts arrive in image order, like the local engine
        gpus = ray.cluster_resources().get("GPU", 0)
        model_ref = [ray.put(model_files(spec))]
        ds = ray.data.from_items([{"image_id": i} for i in ids], override_num_blocks=len(work))
        out = ds.map_batches(RayAuditor, fn_constructor_kwargs={"spec_json": spec.to_json(), "model_ref": model_ref},
                             batch_size=batch_size, compute=ray.data.ActorPoolStrategy(size=max(1, workers)),
                             batch_format="numpy",
                             num_cpus=1, num_gpus=1 if gpus >= 1 else 0)
        for df in out.iter_batches(batch_size=None, batch_format="pandas"):
            rows = df.to_dict("records")
            on_rows(list(dict.fromkeys(r["image_id"] for r in rows)), rows)
    finally:
        if started:
            ray.shutdown()
