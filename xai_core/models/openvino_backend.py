"""Forward passes through OpenVINO: the same network, converted once, run near this CPU's limit.

The black-box methods (SHAP Partition, LIME, RISE, occlusion, superpixel Shapley, the metrics'
perturbations, audits) spend their time in batched forward passes, so ``LoadedModel.forward`` can hand
those passes to an OpenVINO compiled model instead of TensorFlow. Gradient methods keep TensorFlow: they
differentiate ``LoadedModel.scores`` with a tape, which nothing here touches.

Which backend runs a forward pass (``requested``):

- ``tensorflow``: the compiled TensorFlow call, as before.
- ``openvino``: OpenVINO in fp32. The precision is requested explicitly (``INFERENCE_PRECISION_HINT``
  ``f32``): on CPUs with AVX-512 bf16 OpenVINO otherwise runs bf16 by default. Outputs equal
  TensorFlow's within 1e-4 (tests/test_openvino_backend.py).
- ``openvino-bf16``: OpenVINO in bfloat16, "fast, approximate": outputs drift (up to ~0.04 in
  probability on the brain CNN) and single map pixels can move. Every result computed with it carries
  the label (``Explanation.backend``) and is cached apart from fp32 ones.
- ``auto``: OpenVINO fp32 where a short timed probe at the model's own batch size shows it at least
  ``AUTO_MARGIN`` faster than TensorFlow, else TensorFlow. A decision probed while the machine was not
  overloaded (load average at most its core count) is stored beside the converted model, so later
  processes (Ray actors, a restarted server) do not probe again.

Set it with ``XAI_FORWARD_BACKEND``, the CLI's ``--backend`` or, per app session, ``using(name)``
(a ``contextvars.ContextVar``, like ``cancel``'s scope). Conversion goes through a SavedModel
(``keras.export.ExportArchive``; OpenVINO cannot take a Keras 3 Sequential directly) and the IR is cached
on disk under ``config.cache_dir()/openvino`` by the model file's content hash. A model OpenVINO cannot
take, or whose converted outputs differ from TensorFlow's, logs one line and stays on TensorFlow.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from .. import config

log = logging.getLogger(__name__)

BACKENDS = ("tensorflow", "openvino", "openvino-bf16", "auto")
# TensorFlow unless asked: the shipped CNNs gain nothing (fp32 0.9-1.2x), conversion costs seconds per model,
# and on a loaded machine OpenVINO measured slower (README, "Forward passes: TensorFlow or OpenVINO").
DEFAULT = "auto"
# Labels of what actually ran (``LoadedModel.backend``, ``Explanation.backend``).
TF, OV_FP32, OV_BF16 = "tensorflow", "openvino-fp32", "openvino-bf16"
APPROXIMATE = (OV_BF16,)
AUTO_MARGIN = 0.9  # auto takes OpenVINO only when its probe time is below 0.9x TensorFlow's
FORMAT = 1  # bump when the exported graph changes: old converted models are then not reused
MATCH_TOLERANCE = 1e-4  # fp32 outputs must equal TensorFlow's this closely, or TensorFlow stays

_REQUEST: contextvars.ContextVar[str | None] = contextvars.ContextVar("xai_forward_backend", default=None)


def check(name: str) -> str:
    """``name`` lower-cased if it is one of ``BACKENDS``, else ValueError naming them."""
    n = str(name).strip().lower()
    if n not in BACKENDS:
        raise ValueError(f"Unknown forward backend {name!r}; use one of {', '.join(BACKENDS)}.")
    return n


def requested() -> str:
    """The backend asked for here: ``using``'s, else ``XAI_FORWARD_BACKEND``, else ``DEFAULT``."""
    name = _REQUEST.get() or os.environ.get("XAI_FORWARD_BACKEND", "").strip() or DEFAULT
    try:
        return check(name)
    except ValueError:
        _once(f"XAI_FORWARD_BACKEND={name!r} is not one of {', '.join(BACKENDS)}; using {DEFAULT}.")
        return DEFAULT


@contextlib.contextmanager
def using(name: str | None):
    """Run the block with ``name`` as the requested backend (None: leave it as it is)."""
    if name is None:
        yield
        return
    token = _REQUEST.set(check(name))
    try:
        yield
    finally:
        _REQUEST.reset(token)


def is_approximate(label: str) -> bool:
    return label in APPROXIMATE


def backend_request(label: str) -> str:
    """The request that gives exactly what ``label`` (a resolved backend) ran on: pins a computation to
    the backend its result will be labelled with, even under ``auto``."""
    return {OV_FP32: "openvino", OV_BF16: "openvino-bf16"}.get(label, "tensorflow")


def exact_request(name: str | None = None) -> str:
    """The request that stands in for ``name`` (default: the one requested here) where results must not be
    approximate: a bf16 request runs in OpenVINO fp32, anything else as asked. The out-of-domain check
    uses it, so its verdict and its calibration never depend on a session's precision."""
    n = requested() if name is None else check(name)
    return "openvino" if n == "openvino-bf16" else n


def cache_key_part(label: str) -> dict:
    """What a result's cache key adds for its backend: nothing for fp32 (TensorFlow and OpenVINO fp32 give
    the same maps, so they share entries), the label for an approximate one (cached apart)."""
    return {"forward": label} if is_approximate(label) else {}


_said: set[str] = set()


def _once(msg: str) -> None:
    if msg not in _said:
        _said.add(msg)
        log.warning(msg)


def _openvino():
    """``import openvino`` without its usage telemetry. openvino's converter sends events to Google
    Analytics unless the user opted out (``opt_in_out``); a clinical tool must not, and the attempts cost
    about 4 s of a 7 s conversion here. With the ``openvino_telemetry`` import refused, openvino uses its own
    no-op stub (``openvino.tools.ovc.telemetry_stub``)."""
    import sys

    if "openvino_telemetry" not in sys.modules:
        sys.modules["openvino_telemetry"] = None  # makes `import openvino_telemetry` raise ImportError
    import openvino
    import openvino.tools.ovc.convert_impl as convert_impl
    import openvino.tools.ovc.telemetry_stub as stub
    import openvino.tools.ovc.telemetry_utils as telemetry_utils
    import openvino.tools.ovc.utils as ovc_utils

    for module in (convert_impl, telemetry_utils, ovc_utils):  # imported before us with telemetry: silence it anyway
        module.tm = stub
    return openvino


def available() -> bool:
    try:
        _openvino()
    except ImportError:
        return False
    return True


class Compiled:
    """An OpenVINO compiled model: (N, H, W, C) float32 0..255 images -> (margin, probability) numpy.

    One infer request per thread: sessions of the app call the shared model at the same time."""

    def __init__(self, compiled, label: str):
        self.compiled = compiled
        self.label = label
        self._local = threading.local()

    def __call__(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        req = getattr(self._local, "request", None)
        if req is None:
            req = self._local.request = self.compiled.create_infer_request()
        # shared, not copied: the call is synchronous and the caller's array outlives it
        req.infer({0: np.ascontiguousarray(x, np.float32)}, share_inputs=True)
        return np.array(req.get_output_tensor(0).data), np.array(req.get_output_tensor(1).data)


def ir_dir(model) -> Path:
    """Where the converted model of ``model`` lives: keyed by its file's content hash (model and metadata),
    its input shape, the OpenVINO version and this module's export format."""
    openvino = _openvino()
    key = hashlib.sha256(json.dumps([model.file_hash, list(model.input_shape), openvino.__version__, FORMAT])
                         .encode()).hexdigest()[:32]
    return config.cache_dir() / "openvino" / key


def export_and_convert(model, out: Path) -> Path:
    """Export ``model.scores`` (scaling, heads, class columns) as a SavedModel and convert it to IR in
    ``out`` (written beside and renamed into place, so a killed conversion leaves nothing half-made)."""
    import keras
    import tensorflow as tf

    ov = _openvino()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".convert-") as tmp:
        saved = Path(tmp) / "saved"
        archive = keras.export.ExportArchive()
        archive.track(model.heads)
        archive.add_endpoint("serve", model.scores,
                             input_signature=[tf.TensorSpec((None, *model.input_shape), tf.float32)])
        archive.write_out(str(saved), verbose=False)
        ov_model = ov.convert_model(str(saved))
        ir = Path(tmp) / "ir"
        ir.mkdir()
        ov.save_model(ov_model, str(ir / "model.xml"), compress_to_fp16=False)  # keep fp32 weights exact
        try:
            ir.replace(out)
        except OSError:  # another process finished first: use its copy
            if not (out / "model.xml").is_file():
                raise
    return out


_core = None
_core_lock = threading.Lock()


def _ov_core():
    global _core
    with _core_lock:
        if _core is None:
            _core = _openvino().Core()
        return _core


_compiled: dict[tuple[str, bool], Compiled] = {}


def compile_model(model, bf16: bool = False) -> Compiled:
    """The converted model of ``model`` compiled at fp32 (default) or bf16, converting it first if no
    converted copy is cached (once per process and precision). Raises whatever the conversion raises."""
    folder = ir_dir(model)
    key = (str(folder), bool(bf16))
    if key in _compiled:
        return _compiled[key]
    if not (folder / "model.xml").is_file():
        export_and_convert(model, folder)
    core = _ov_core()
    compiled = core.compile_model(str(folder / "model.xml"), "CPU",
                                  {"INFERENCE_PRECISION_HINT": "bf16" if bf16 else "f32"})
    # labelled by what the plugin will run, not by what was asked: a CPU without bf16 runs the bf16 request
    # in fp32, and its maps are then exact and must not be called approximate
    hint = compiled.get_property("INFERENCE_PRECISION_HINT")
    ran = (hint.to_string() if hasattr(hint, "to_string") else str(hint)).lower()  # "bf16" or "f32"
    if bf16 and "bf16" not in ran:
        _once(f"This CPU has no bf16 support: OpenVINO runs {model.name} in fp32 (exact maps) although bf16 "
              "was asked for.")
    with _core_lock:
        return _compiled.setdefault(key, Compiled(compiled, OV_BF16 if bf16 and "bf16" in ran else OV_FP32))


def _probe_images(model, n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.uniform(0, 255, (n, *model.input_shape)).astype(np.float32)


def _matches(model, compiled: Compiled) -> float:
    """Largest |difference| of the compiled model's outputs from TensorFlow's on a few probe images."""
    x = _probe_images(model, 4)
    m, p = model.forward(x, backend=TF)
    om, op = compiled(x)
    scale = max(1.0, float(np.abs(m).max()))
    return max(float(np.abs(om - m).max()) / scale, float(np.abs(op - p).max()))


def _stored(model) -> dict:
    try:
        return json.loads((ir_dir(model) / "auto.json").read_text())
    except (OSError, ValueError):
        return {}


def auto_choice(model, compiled: Compiled, batch: int) -> dict:
    """Time TensorFlow and OpenVINO fp32 on one batch of ``batch`` images, interleaved (median of 3 each);
    the result (stored beside the converted model) says which one ``auto`` uses at this batch size."""
    path = ir_dir(model) / "auto.json"
    stored = _stored(model)
    if str(batch) in stored:
        return stored[str(batch)]
    x = _probe_images(model, batch)
    fn_tf = model._fn  # the compiled TensorFlow call itself, without batching or counting
    fn_tf(x)
    compiled(x)
    t_tf, t_ov = [], []
    for _ in range(3):  # interleaved, so a burst of load on the shared machine hits both
        for fn, times in ((fn_tf, t_tf), (compiled, t_ov)):
            t0 = time.perf_counter()
            fn(x)
            times.append(time.perf_counter() - t0)
    tf_s, ov_s = float(np.median(t_tf)), float(np.median(t_ov))
    row = {"tensorflow_s": tf_s, "openvino_s": ov_s, "batch": batch,
           "choice": OV_FP32 if ov_s < AUTO_MARGIN * tf_s else TF, "load": os.getloadavg()[0]}
    if row["load"] <= (os.cpu_count() or 1):  # a probe on a busy machine decides for this process only
        stored[str(batch)] = row
        try:
            path.write_text(json.dumps(stored, indent=1))
        except OSError:
            pass
    return row


def resolve(model, name: str):
    """The runner for ``model`` under backend ``name``: a ``Compiled``, or None for TensorFlow.

    Never raises: a model that is not from a file (no content hash to key the conversion by), an
    install without OpenVINO, a failed conversion or outputs that differ from TensorFlow's log one line
    and give TensorFlow."""
    if name == "tensorflow":
        return None
    if not model.path or not model.file_hash:
        return None  # built in memory (e.g. the randomisation cascade): nothing to key a conversion by
    if not available():
        _once("OpenVINO is not installed; forward passes stay on TensorFlow.")
        return None
    if name == "auto" and _stored(model).get(str(model.batch_size_for()), {}).get("choice") == TF:
        return None  # probed before: TensorFlow is as fast here, so nothing to compile
    try:
        compiled = compile_model(model, bf16=name == "openvino-bf16")
        if name != "openvino-bf16":
            err = _matches(model, compiled)
            if not err <= MATCH_TOLERANCE:
                _once(f"OpenVINO outputs of {model.name} differ from TensorFlow's by {err:.2g}; "
                      "keeping TensorFlow.")
                return None
    except Exception as exc:  # any failure of a third-party converter: keep the working path
        _once(f"OpenVINO could not convert {model.name} ({type(exc).__name__}: {str(exc)[:160]}); "
              "keeping TensorFlow.")
        return None
    if name == "auto":
        batch = model.batch_size_for()
        row = auto_choice(model, compiled, batch)
        log.info("auto backend for %s at batch %d: %s (TensorFlow %.4f s, OpenVINO %.4f s)", model.name,
                 batch, row["choice"], row["tensorflow_s"], row["openvino_s"])
        return compiled if row["choice"] == OV_FP32 else None
    return compiled


def compare_with_tensorflow(model, images: np.ndarray, backend: str = "openvino") -> dict:
    """How ``backend``'s outputs on ``images`` differ from TensorFlow's: what ran, the largest absolute
    difference of margins and of probabilities, and the share of predictions (argmax) that agree."""
    m0, p0 = model.forward(images, backend=TF)
    m1, p1 = model.forward(images, backend=backend)
    return {"backend": model.backend(backend), "margin": float(np.abs(m1 - m0).max()),
            "probability": float(np.abs(p1 - p0).max()),
            "predictions_equal": float(np.mean(p1.argmax(1) == p0.argmax(1)))}
