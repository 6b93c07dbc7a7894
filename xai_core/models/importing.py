"""Bringing your own Keras model: safe loading, checks, class names and input adaptation.

An uploaded file is written to a private temporary file and loaded only with
Keras ``safe_mode`` (which refuses Lambda layers and arbitrary code without
running it). Then it must be a classifier: one image input (height x width x
1 or 3 channels) and one output vector of class scores. What the model
needs from an image (size, grey or RGB, scaling) is shown to the user,
editable, and stored in ``metadata.json`` next to the model, so every page
and the CLI feed it the same way. A legacy ``.h5`` file is accepted only if
it loads under the same rules; it is then saved as ``.keras``.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .. import config
from ..errors import InputError, ModelError
from .metadata import PER_CHANNEL, SCALES, ModelMetadata

MAX_MODEL_BYTES = 400 * 2**20  # the same as server.maxUploadSize
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
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


def parse_labels(text: str, n: int | None = None) -> list[str]:
    """Class names from a labels file: a JSON list, a JSON metadata object with ``class_names``, a JSON
    ``{"0": "name"}`` map, or one name per line (blank lines and ``#`` comments ignored)."""
    from .. import limits

    text = text.strip().lstrip("\ufeff")
    names: list[str]
    obj = None
    if text[:1] in ("[", "{"):
        try:
            obj = limits.json_loads(text, "The labels file")
        except InputError as exc:
            if "nested" in str(exc):
                raise
            obj = None
    if isinstance(obj, list):
        names = [str(v) for v in obj]
    elif isinstance(obj, dict) and isinstance(obj.get("class_names"), list):
        names = [str(v) for v in obj["class_names"]]
    elif isinstance(obj, dict):
        try:
            names = [str(obj[k]) for k in sorted(obj, key=lambda k: int(k))]
        except (TypeError, ValueError):
            raise InputError("The labels file is JSON but not a list of names or a map from index to name.") from None
    else:
        names = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    if not names:
        raise InputError("The labels file holds no class names.")
    if len(set(names)) != len(names):
        raise InputError("The labels file names a class twice.")
    if n is not None and len(names) != n:
        raise InputError(f"The labels file names {len(names)} classes but the model has {n} outputs.")
    return names


def _temp_prefix() -> str:
    from .. import userdata

    return userdata.temp_prefix(userdata.UPLOAD_PREFIX)  # names this process: a killed upload is swept


def _load_upload(data: bytes, filename: str, folder: Path):
    """(Keras model, ModelCheck) of uploaded bytes, written to ``folder`` and loaded in safe mode."""
    if not data:
        raise ModelError(f"{filename} is empty (0 bytes).")
    if len(data) > MAX_MODEL_BYTES:
        raise ModelError(f"{filename} is {len(data) / 2**20:.0f} MB; the limit is {MAX_MODEL_BYTES // 2**20} MB.")
    suffix = Path(filename).suffix.lower()
    if suffix not in SUFFIXES:
        raise ModelError(f"{filename}: only Keras model files (.keras, or legacy .h5) can be loaded.")
    path = folder / f"upload{suffix}"
    path.write_bytes(data)
    km = safe_load_file(path, filename)
    check = check_classifier(km)
    check_outputs_finite(km, check, filename)
    return km, check


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


def inspect_upload(data: bytes, filename: str) -> ModelCheck:
    """What an uploaded model takes and gives (for the user to confirm), or the reason it is refused."""
    with tempfile.TemporaryDirectory(prefix=_temp_prefix()) as tmp:
        return _load_upload(data, filename, Path(tmp))[1]


def import_model(data: bytes, filename: str, name: str, class_names: list[str] | None = None,
                 input_scale: str | None = None, input_size: tuple[int, int] | None = None,
                 overwrite: bool = False, owner: str | None = None) -> Path:
    """Check an uploaded model file and store it as ``<user models>/<name>/{model.keras, metadata.json}``,
    or in ``owner``'s private area (``config.user_models_dir(owner)``) when an owner is given."""
    if not NAME.match(name or ""):
        raise InputError("The model name may hold letters, digits, '-', '_' and '.', and must start with a "
                         "letter or digit (at most 64 characters).")
    shipped = config.SHIPPED_MODELS_DIR / name
    if shipped.exists():
        raise InputError(f"{name!r} is a shipped model; choose another name.")
    if owner is not None and (config.user_models_dir() / name / "model.keras").exists():
        raise InputError(f"{name!r} is already in the shared library; choose another name.")
    dest = config.user_models_dir(owner) / name
    if (dest / "model.keras").exists() and not overwrite:
        raise InputError(f"You already have a model called {name!r}.")
    from .. import userdata

    userdata.require_space(len(data), f"the model {name!r}")
    with tempfile.TemporaryDirectory(prefix=_temp_prefix()) as tmp:
        km, check = _load_upload(data, filename, Path(tmp))
        h, w, c = check.input_shape
        if check.needs_size:
            if input_size is None:
                raise InputError("This model accepts images of any size; choose the size to feed it.")
            h, w = (int(v) for v in input_size)
        elif input_size is not None and tuple(input_size) != (h, w):
            raise InputError(f"This model takes {h}x{w} images; its input size cannot be changed.")
        if not (8 <= h <= 2048 and 8 <= w <= 2048):
            raise InputError(f"An input size of {h}x{w} is outside 8 to 2048 pixels.")
        scale = input_scale or check.suggested_scale
        if scale not in SCALES:
            raise InputError(f"Unknown scaling {scale!r}; choose one of {', '.join(SCALES)}.")
        if scale in PER_CHANNEL and c != 3:
            raise InputError(f"The {scale!r} scaling needs an RGB model; this one takes {c} channel(s).")
        k = 2 if check.num_outputs == 1 else check.num_outputs
        names = list(class_names) if class_names else [f"class {i}" for i in range(k)]
        if len(names) != k:
            raise InputError(f"{len(names)} class names were given but the model has {k} classes.")
        meta = ModelMetadata(class_names=names, input_size=(h, w), input_channels=c, input_scale=scale,
                             description=f"Uploaded from {filename}.",
                             trained_with={"source": "upload", "file": filename})
        staging = Path(tmp) / "staged"
        staging.mkdir()
        km.save(staging / "model.keras")
        meta.write(staging / "metadata.json")
        from . import load_model  # the stored model must load and verify like any other

        load_model(staging)
        if dest.exists():
            shutil.rmtree(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staging, dest)
    return dest


def _own_folder(name: str, owner: str | None) -> Path:
    """The folder of a model the caller may change: with an ``owner``, only that owner's private models
    (nobody edits another's model, nor the shared library from the dashboard); without, the shared user
    folder (the CLI's)."""
    from . import _model_dirs

    source = "user" if owner is None else "mine"
    folder = next((d for s, d in _model_dirs(owner) if d.name == name and s == source), None)
    if folder is None:
        raise InputError(f"{name!r} is not one of your models (shipped and shared models cannot be edited).")
    return folder


def share_model(name: str, owner: str) -> Path:
    """Move ``owner``'s private model into the shared library, where every user (and the CLI) sees it."""
    src = _own_folder(name, owner)
    dest = config.user_models_dir() / name
    if dest.exists() or (config.SHIPPED_MODELS_DIR / name).exists():
        raise InputError(f"The shared library already has a model called {name!r}; rename yours first.")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(src), str(dest))
    meta_file = dest / "metadata.json"
    if meta_file.is_file():  # its training command named the private folder (and the owner id in it)
        from ..userdata import redact_private

        text = meta_file.read_text(encoding="utf-8").replace(src.as_posix(), dest.as_posix())
        meta_file.write_text(redact_private(text), encoding="utf-8")
    return dest


def update_adaptation(name: str, input_scale: str | None = None, class_names: list[str] | None = None,
                      owner: str | None = None) -> ModelMetadata:
    """Change how a user model's inputs are scaled, or its class names; every page and the CLI follow."""
    folder = _own_folder(name, owner)
    meta = ModelMetadata.read(folder / "metadata.json")
    if input_scale is not None:
        if input_scale not in SCALES:
            raise InputError(f"Unknown scaling {input_scale!r}; choose one of {', '.join(SCALES)}.")
        if input_scale in PER_CHANNEL and meta.input_channels != 3:
            raise InputError(f"The {input_scale!r} scaling needs an RGB model.")
        meta.input_scale = input_scale
    if class_names is not None:
        if len(class_names) != len(meta.class_names):
            raise InputError(f"{len(class_names)} names were given for {len(meta.class_names)} classes.")
        meta.class_names = list(class_names)
    meta.write(folder / "metadata.json")
    return meta
