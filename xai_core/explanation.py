"""``Explanation``: the one result type, from compute to cache to plot to page.

Saved as a plain ``.npz`` (no pickles) with the keys the CLI documents:
``values``, ``base_values``, ``output_values``, ``class_indices``,
``class_names``, ``output_space``, ``method`` and ``params`` (JSON), plus
``seconds``, ``residuals``, ``image``, ``backend`` (what ran the forward passes:
"tensorflow", "openvino-fp32", or "openvino-bf16", which is approximate), and any
method-specific arrays (``extras``) under their own names.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

_CORE = ("values", "base_values", "output_values", "class_indices", "class_names", "output_space",
         "method", "params", "seconds", "residuals", "image", "model_name", "extras_keys", "info", "backend")
APPROXIMATE_BACKENDS = ("openvino-bf16",)  # forward passes in bfloat16: "fast, approximate"


@dataclass
class Explanation:
    values: np.ndarray  # (K, H, W, C): attribution per class, pixel and channel
    base_values: np.ndarray  # (K,): model output with every feature masked
    output_values: np.ndarray  # (K,): model output on the image itself
    class_indices: np.ndarray  # (K,)
    class_names: list[str]
    output_space: str  # "margin" or "probability"
    method: str
    params: dict
    seconds: float = 0.0
    image: np.ndarray | None = None  # (H, W, C) 0..255, the explained image as the model saw it
    model_name: str = ""
    extras: dict[str, np.ndarray] = field(default_factory=dict)
    info: dict = field(default_factory=dict)  # small facts for display (e.g. evaluations used)
    cached: bool = False
    # what ran the forward passes (models.openvino_backend): "tensorflow", "openvino-fp32", "openvino-bf16"
    backend: str = "tensorflow"

    def __post_init__(self):
        self.values = np.asarray(self.values, np.float64)
        self.base_values = np.asarray(self.base_values, np.float64).reshape(-1)
        self.output_values = np.asarray(self.output_values, np.float64).reshape(-1)
        self.class_indices = np.asarray(self.class_indices, np.int64).reshape(-1)
        self.class_names = [str(c) for c in self.class_names]
        k = len(self.class_indices)
        if self.values.ndim != 4 or self.values.shape[0] != k:
            raise ValueError(f"values must be (K, H, W, C) with K={k}, got {self.values.shape}")
        if not (len(self.base_values) == len(self.output_values) == len(self.class_names) == k):
            raise ValueError("base_values, output_values, class_names and class_indices must all have length K")

    @property
    def residuals(self) -> np.ndarray:
        """Additivity residual per class: |base + sum(values) - output|."""
        total = self.values.reshape(len(self.values), -1).sum(1)
        return np.abs(self.base_values + total - self.output_values)

    @property
    def relative_residuals(self) -> np.ndarray:
        """Residual relative to the scale of the explained outputs (max |output| or |base| over classes)."""
        scale = max(float(np.abs(self.output_values).max(initial=0)), float(np.abs(self.base_values).max(initial=0)), 1e-12)
        return self.residuals / scale

    def additivity_rows(self) -> list[dict]:
        """One row per class: base + sum(values) against the model's output, and the residual."""
        total = self.values.reshape(len(self.values), -1).sum(1)
        return [{"class": n, "base value": float(b), "sum of values": float(s),
                 "base + sum": float(b + s), "model output": float(o), "residual": float(r)}
                for n, b, s, o, r in zip(self.class_names, self.base_values, total, self.output_values,
                                         self.residuals)]

    @property
    def approximate(self) -> bool:
        """Computed with reduced-precision forward passes (bf16): close to, not equal to, the fp32 map."""
        return self.backend in APPROXIMATE_BACKENDS

    @property
    def backend_label(self) -> str:
        """The backend in words for a panel or a report row, e.g. "OpenVINO bf16 (fast, approximate)"."""
        return backend_label(self.backend)

    def map(self, k: int) -> np.ndarray:
        """(H, W) map for the k-th explained class, summed over channels."""
        return self.values[k].sum(-1)

    def maps(self) -> np.ndarray:
        return self.values.sum(-1)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_suffix(".npz")
        arrays = {
            "values": self.values, "base_values": self.base_values, "output_values": self.output_values,
            "class_indices": self.class_indices, "class_names": np.array(self.class_names, dtype=str),
            "output_space": np.array(self.output_space), "method": np.array(self.method),
            "params": np.array(json.dumps(self.params, sort_keys=True, default=jsonable)),
            "seconds": np.array(self.seconds), "residuals": self.residuals,
            "model_name": np.array(self.model_name),
            "info": np.array(json.dumps(self.info, sort_keys=True, default=jsonable)),
            "extras_keys": np.array(sorted(self.extras), dtype=str),
            "backend": np.array(self.backend),
        }
        if self.image is not None:
            arrays["image"] = np.asarray(self.image)
        for k, v in self.extras.items():
            if k in _CORE:
                raise ValueError(f"extra array name {k!r} clashes with a core field")
            arrays[k] = np.asarray(v)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.name.endswith(".tmp.npz"):  # already a temporary name (the cache's atomic write)
            np.savez_compressed(path, **arrays)
            return path
        tmp = path.with_name(f"{path.name}.{os.getpid()}.0.tmp.npz")  # the writer's id: see cache.sweep_temporaries
        try:
            np.savez_compressed(tmp, **arrays)
            tmp.replace(path)
        except BaseException:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass
            raise
        return path

    @classmethod
    def load(cls, path: str | Path) -> "Explanation":
        with np.load(path, allow_pickle=False) as z:
            extras = {str(k): z[str(k)] for k in z["extras_keys"]}
            return cls(
                values=z["values"], base_values=z["base_values"], output_values=z["output_values"],
                class_indices=z["class_indices"], class_names=[str(c) for c in z["class_names"]],
                output_space=str(z["output_space"]), method=str(z["method"]),
                params=json.loads(str(z["params"])), seconds=float(z["seconds"]),
                image=z["image"] if "image" in z else None, model_name=str(z["model_name"]),
                extras=extras, info=json.loads(str(z["info"])),
                backend=str(z["backend"]) if "backend" in z else "tensorflow")


def backend_label(backend: str) -> str:
    """A forward backend's name in words; the approximate one says so."""
    return {"tensorflow": "TensorFlow", "openvino-fp32": "OpenVINO fp32",
            "openvino-bf16": "OpenVINO bf16 (fast, approximate)"}.get(backend, backend)


def jsonable(o):
    """``json.dumps``' ``default``: numpy scalars and arrays as Python numbers and lists, anything else as text."""
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)
