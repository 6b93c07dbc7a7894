"""Your model library: import an uploaded Keras file, name its classes, adapt its inputs, share it.

An uploaded file is written to a private temporary file and loaded only through ``safe_loading`` (Keras
``safe_mode``, which refuses Lambda layers and arbitrary code without running it). What the model
needs from an image (size, grey or RGB, scaling) is shown to the user, editable, and stored in
``metadata.json`` next to the model, so every page and the CLI feed it the same way. A legacy ``.h5``
file is accepted only if it loads under the same rules; it is then saved as ``.keras``.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from .. import config, userdata
from ..errors import InputError, ModelError
from .metadata import PER_CHANNEL, SCALES, ModelMetadata
from . import _model_dirs, load_model
from .safe_loading import (MAX_MODEL_BYTES, SUFFIXES, ModelCheck, check_classifier, check_outputs_finite,
                           safe_load_file)

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


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
        load_model(staging)  # the stored model must load and verify like any other
        if dest.exists():
            shutil.rmtree(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staging, dest)
    return dest


def _own_folder(name: str, owner: str | None) -> Path:
    """The folder of a model the caller may change: with an ``owner``, only that owner's private models
    (nobody edits another's model, nor the shared library from the dashboard); without, the shared user
    folder (the CLI's)."""
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
