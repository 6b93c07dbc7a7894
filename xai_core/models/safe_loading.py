"""Loading a Keras model file safely: refuse before Keras reads it, then load only in ``safe_mode``.

A ``.keras`` zip is checked against size and nesting limits before anything is parsed; the JSON config is
read without Keras and any Lambda layer or non-Keras object is refused by name, without running it; only
then does Keras load the file, with ``safe_mode=True``. A loaded model must be a classifier: one image
input (height x width x 1 or 3 channels) and one output vector of class scores, finite on test images.
Every model goes through here: the shipped zoo, the user's library (``importing``) and a file by path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .. import config
from ..errors import InputError, ModelError

MAX_MODEL_BYTES = 400 * 2**20  # the same as server.maxUploadSize
SUFFIXES = (".keras", ".h5", ".hdf5")


def check_keras_archive(path: Path, name: str) -> None:
    """Refuse a ``.keras`` zip that would expand past its limits, before Keras reads any of it.

    Each JSON member may declare at most ``config.model_config_max_bytes()`` and must nest less than
    ``limits.MAX_JSON_DEPTH`` levels; the whole archive at most twice the upload limit; no member name
    longer than a file system allows. Keras reads ``config.json`` whole and parses it recursively.
    """
    import zipfile

    from .. import limits

    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            for info in infos:
                limits.check_member_name(info.filename, name)
            total = sum(i.file_size for i in infos)
            if total > 2 * MAX_MODEL_BYTES:
                raise ModelError(f"{name} would expand to {total / 2**20:,.0f} MB; the limit is "
                                 f"{2 * MAX_MODEL_BYTES / 2**20:,.0f} MB, so it was not read.")
            for member in ("config.json", "metadata.json"):
                if member in zf.namelist():
                    limits.json_loads(limits.read_member(zf, member, config.model_config_max_bytes(), name),
                                      f"{name}'s {member}")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError):
        raise ModelError(f"{name} is not a readable Keras model file (it may be damaged or not a model "
                         f"at all).") from None
    except InputError as exc:
        raise ModelError(str(exc)) from None


@dataclass(frozen=True)
class Declared:
    """One object the file's JSON config asks Keras to build."""
    class_name: str
    module: str
    layer: str  # name of the layer it belongs to ("" at the top)
    role: str  # the config key it sits under ("activation", "kernel_initializer"), or "layer"
    target: str = ""  # for a function: the function's own name (its "config")

    def describe(self) -> str:
        where = f"layer {self.layer!r}" if self.layer else "the model"
        if self.class_name == "function" or self.role != "layer":
            fn = f"{self.module}.{self.target or self.class_name}" if self.module else self.target or self.class_name
            return f"{where} asks for {fn} as its {self.role.replace('_', ' ')}"
        return f"{where} is of class {self.module + '.' if self.module else ''}{self.class_name}"


def declared_objects(path: Path, name: str | None = None) -> list[Declared]:
    """Every object the file's JSON config declares, read without Keras.

    ``.keras`` files are zips holding ``config.json``; legacy ``.h5`` files keep it in the ``model_config``
    attribute. Nothing is deserialised, so this is safe on any file; an unreadable config gives [].
    Call ``check_keras_archive`` first: a config too large or too deeply nested is refused there.
    """
    import zipfile

    from .. import limits

    text = None
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                text = limits.read_member(zf, "config.json", config.model_config_max_bytes(), path.name)
        else:
            import h5py

            with h5py.File(path, "r") as f:
                raw = f.attrs.get("model_config")
                text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except Exception:
        return []
    if not text:
        return []
    try:
        cfg = limits.json_loads(text, f"{name or path.name}'s configuration")
    except InputError as exc:
        raise ModelError(str(exc)) from None
    found: list[Declared] = []

    def walk(o, layer: str, role: str):
        if isinstance(o, dict):
            if "class_name" in o and "config" in o:
                inner = o.get("config")
                is_layer = isinstance(inner, dict) and "name" in inner and role in ("layer", "layers")
                if is_layer:
                    layer = str(inner["name"])
                found.append(Declared(str(o["class_name"]), str(o.get("module") or ""), layer,
                                      "layer" if role in ("layer", "layers") else role,
                                      inner if isinstance(inner, str) else ""))
            for k, v in o.items():
                walk(v, layer, role if k == "config" else str(k))
        elif isinstance(o, list):
            for v in o:
                walk(v, layer, role)

    walk(cfg, "", "layer")
    return found


def declared_layers(path: Path, name: str | None = None) -> list[tuple[str, str]]:
    """(class name, module) of every object the file's JSON config declares (see ``declared_objects``)."""
    return [(d.class_name, d.module) for d in declared_objects(path, name)]


def refuse_unsafe(declared: list[Declared], filename: str) -> None:
    """Refuse, naming the layer and the reason, anything that is not a standard Keras object."""
    for d in declared:
        if d.class_name == "Lambda":
            raise ModelError(f"{filename}: {d.describe()}, a Lambda layer, i.e. Python code stored in the file. It "
                             f"was refused without running it: only standard Keras layers can be loaded safely.")
    for d in declared:
        if d.module and not d.module.startswith("keras"):
            kind = "custom layer" if d.role == "layer" and d.class_name != "function" else "custom object"
            raise ModelError(f"{filename}: {d.describe()}, a {kind} that is not part of Keras; it was refused "
                             f"without running it, because only standard Keras layers and functions can be "
                             f"loaded safely.")


def explain_refusal(exc: Exception, filename: str) -> str:
    """One plain sentence for why Keras would not load a file."""
    full = str(exc).strip()
    msg = full.splitlines()[0] if full else type(exc).__name__
    low = full.lower()
    if "lambda" in low:
        return (f"{filename} contains a Lambda layer, i.e. Python code stored in the file. It was refused without "
                f"running it: only models made of standard Keras layers can be loaded safely.")
    # Keras nests its reasons: "<class 'Functional'> could not be deserialized ... Exception encountered:
    # <class '...Conv2D'> could not be deserialized ... config={... 'name': 'conv2d' ...}": name the innermost.
    classes = re.findall(r"<class '(?:[\w.]*\.)?(\w+)'> could not be deserialized", full)
    names = re.findall(r"'name': '([^']{1,80})'", full)
    if classes:
        layer = f" {names[-1]!r}" if names else ""
        return (f"Keras refused to rebuild the {classes[-1]} layer{layer} of {filename} in safe mode: one of its "
                f"settings is not a standard Keras object. Only standard Keras layers can be loaded safely.")
    if "could not locate" in low or "custom" in low or "unknown layer" in low or "register_keras_serializable" in low:
        return (f"{filename} uses a custom layer or object that this dashboard does not know ({msg[:160]}). "
                f"Only standard Keras layers can be loaded safely.")
    if any(t in low for t in ("unable to synchronously open", "not a zip", "file signature", "truncated",
                              "file not found", "bad magic", "crc")):
        return f"{filename} is not a readable Keras model file (it may be damaged or not a model at all)."
    return f"Keras refused to load {filename} in safe mode: {msg[:240]}"


def safe_load_file(path: Path, display_name: str | None = None):
    name = display_name or path.name
    if path.suffix.lower() not in SUFFIXES:
        raise ModelError(f"{name}: only Keras model files (.keras, or legacy .h5) can be loaded.")
    import zipfile

    import h5py

    readable = zipfile.is_zipfile(path) if path.suffix.lower() == ".keras" else h5py.is_hdf5(path)
    if not readable:
        raise ModelError(f"{name} is not a readable Keras model file (it may be damaged or not a model at all).")
    if path.suffix.lower() == ".keras":
        check_keras_archive(path, name)
    refuse_unsafe(declared_objects(path, name), name)  # before Keras parses anything
    import keras  # only now: a refused file costs no TensorFlow start-up

    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # Keras raises many types for a bad or unsafe file
        raise ModelError(explain_refusal(exc, name)) from None


@dataclass
class ModelCheck:
    """What a model takes and gives, for the user to confirm."""
    input_shape: tuple  # (H, W, C), None where the model accepts any size
    num_outputs: int
    output_activation: str
    suggested_scale: str

    @property
    def needs_size(self) -> bool:
        return self.input_shape[0] is None or self.input_shape[1] is None


def check_classifier(keras_model) -> ModelCheck:
    """Refuse anything that is not one image in, one vector of class scores out."""
    if len(getattr(keras_model, "inputs", []) or []) != 1:
        raise ModelError("The model must take exactly one input (an image).")
    if len(getattr(keras_model, "outputs", []) or []) != 1:
        raise ModelError("The model must give exactly one output (a vector of class scores); this one gives "
                         f"{len(keras_model.outputs)}.")
    shape = tuple(keras_model.inputs[0].shape[1:])
    if len(shape) != 3 or shape[-1] not in (1, 3):
        raise ModelError(f"The model's input {shape} is not an image of height x width x 1 or 3 channels.")
    out = tuple(keras_model.outputs[0].shape[1:])
    if len(out) != 1 or out[0] is None or out[0] < 1:
        raise ModelError(f"The model's output has shape {out}, not a classification vector (one score per class); "
                         f"segmentation or detection models cannot be explained here.")
    last = keras_model.layers[-1]
    act = getattr(getattr(last, "activation", None), "__name__", type(last).__name__.lower())
    rescales = any(type(layer).__name__ == "Rescaling" for layer in keras_model.layers[:4])
    return ModelCheck(tuple(None if d is None else int(d) for d in shape), int(out[0]), act,
                      "0-255" if rescales else "0-1")


def check_outputs_finite(keras_model, check: ModelCheck, filename: str) -> None:
    """Refuse a model whose outputs are NaN or infinite, before anything says it loaded."""
    import numpy as np

    h, w, c = check.input_shape
    probe = np.random.default_rng(0).uniform(0, 1, (2, h or 32, w or 32, c)).astype(np.float32)
    try:
        out = np.asarray(keras_model(probe, training=False), np.float64)
    except Exception:
        return  # the full check at load time (LoadedModel) reports a model that cannot run
    if not np.isfinite(out).all():
        what = "NaN (not a number)" if np.isnan(out).any() else "infinite values"
        raise ModelError(f"{filename}: the model outputs {what} on test images, so it cannot be explained; its "
                         f"weights may be damaged or it was saved after its training diverged.")
