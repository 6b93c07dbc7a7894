"""Models: the shipped zoo, the user's folder, loaded safely (``safe_loading``) and kept in memory.

A model is a folder holding ``model.keras`` and ``metadata.json``. Shipped
models live in ``assets/models``; models the user trains go to
``config.user_models_dir()``. Loading always uses Keras ``safe_mode``.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from .. import config, userdata
from ..errors import InputError, ModelError
from .loaded import OUTPUT_SPACES, LoadedModel
from .metadata import ModelMetadata

__all__ = ["LoadedModel", "ModelMetadata", "OUTPUT_SPACES", "as_model", "list_models", "load_model", "resolve_model"]

MODEL_FILE = "model.keras"
META_FILE = "metadata.json"


def _model_dirs(owner: str | None = None) -> list[tuple[str, Path]]:
    """(source, folder) of every model: "shipped" (read-only), "user" (the shared user library) and,
    with an ``owner``, "mine" (that owner's private models, seen by nobody else)."""
    out = []
    roots = [("shipped", config.SHIPPED_MODELS_DIR), ("user", config.user_models_dir())]
    if owner is not None:
        roots.append(("mine", config.user_models_dir(owner)))
    for source, root in roots:
        if root.is_dir():
            for d in sorted(root.iterdir()):
                if (d / MODEL_FILE).is_file() and (source == "shipped" or _inside(d, root)):
                    out.append((source, d))
    return out


def _inside(folder: Path, root: Path) -> bool:
    """A user model folder, its model and its metadata resolve inside its root (a link that leads out
    of the user-model folder, or a hidden folder, is not listed, so never loaded by name)."""
    from ..errors import InputError
    from ..paths import within

    try:
        for p in (folder, folder / MODEL_FILE, folder / META_FILE):
            if p.exists():
                within(p, root, what="the user-model folder")
        return not folder.name.startswith(".")
    except InputError:
        return False


def list_models(owner: str | None = None) -> list[dict]:
    """Shipped models, the shared user library and (with ``owner``) that owner's private models."""
    rows = []
    for source, d in _model_dirs(owner):
        row = {"name": d.name, "source": source, "path": str(d)}
        if (d / META_FILE).is_file():
            try:
                meta = ModelMetadata.read(d / META_FILE)
                row.update(dataset=meta.dataset, arch=meta.arch, classes=meta.class_names,
                           test_accuracy=meta.test_accuracy)
            except Exception:
                row["problem"] = "metadata.json is unreadable"
        rows.append(row)
    return rows


def resolve_model(name_or_path: str | Path, owner: str | None = None) -> tuple[str, Path, Path | None]:
    """Return (display name, model file, metadata file or None); names of ``owner``'s private models
    resolve only when that owner is given."""
    s = str(name_or_path)
    for _, d in _model_dirs(owner):
        if d.name == s:
            return d.name, d / MODEL_FILE, d / META_FILE if (d / META_FILE).is_file() else None
    p = Path(s).expanduser()
    if p.is_dir() and (p / MODEL_FILE).is_file():
        meta = p / META_FILE
        return p.name, p / MODEL_FILE, meta if meta.is_file() else None
    if p.is_file():
        meta = p.with_name(META_FILE)
        return p.stem, p, meta if meta.is_file() else None
    names = ", ".join(row["name"] for row in list_models(owner)) or "none"
    raise InputError(f"No model named {s!r} and no such file. Available models: {names}.")


def _file_hash(*paths: Path | None) -> str:
    h = hashlib.sha256()
    for p in paths:
        if p is not None:
            h.update(p.read_bytes())
    return h.hexdigest()


_loaded: dict[tuple[str, str], LoadedModel] = {}
_lock = threading.Lock()
# One lock per model file: a page asking for a model the warm-up is loading waits for that load, but a
# session opening another model never waits behind it (one slow upload stalled every user for 100 s).
_load_locks: dict[tuple[str, str], threading.Lock] = {}


def _load_lock(key: tuple[str, str]) -> threading.Lock:
    with _lock:
        return _load_locks.setdefault(key, threading.Lock())


def load_model(name_or_path: str | Path, owner: str | None = None) -> LoadedModel:
    """Load a model by name (shipped, shared user library, or ``owner``'s private one), or a ``.keras``
    file / model folder by path."""
    name, model_file, meta_file = resolve_model(name_or_path, owner)
    digest = _file_hash(model_file, meta_file)
    key = (str(model_file.resolve()), digest)
    with _lock:
        if key in _loaded:
            return _loaded[key]
    with _load_lock(key):
        with _lock:
            if key in _loaded:
                return _loaded[key]
        return _load(name, model_file, meta_file, digest, key)


def forget(path: str | Path) -> int:
    """Drop the loaded models whose file lies under ``path`` (a deleted model folder); returns how many."""
    prefix = str(Path(path).resolve())
    with _lock:
        gone = [k for k in _loaded if k[0].startswith(prefix)]
        for key in gone:
            del _loaded[key]
    return len(gone)


def _forget_deleted(item) -> None:
    if item.kind == "model":
        forget(item.path)


userdata.on_delete(_forget_deleted)


def _load(name: str, model_file: Path, meta_file: Path | None, digest: str, key: tuple) -> LoadedModel:
    from .devices import configure

    configure()  # GPU memory growth, before the first allocation
    keras_model, check = _safe_load(model_file)
    if meta_file is not None:
        try:
            meta = ModelMetadata.read(meta_file)
        except Exception as exc:
            raise ModelError(f"{meta_file.name} could not be read: {exc}.") from None
    else:
        meta = _infer_metadata(check)
    lm = LoadedModel(keras_model, meta, name, str(model_file), digest)
    lm.backend()  # the requested forward backend, at load: OpenVINO conversion and auto's probe happen here
    with _lock:
        _loaded[key] = lm
    return lm


def _safe_load(model_file: Path):
    from .safe_loading import check_classifier, safe_load_file

    km = safe_load_file(model_file)
    return km, check_classifier(km)


def _infer_metadata(check) -> ModelMetadata:
    """Metadata for a bare model file: class i names, its own input size, the suggested scaling."""
    h, w, c = check.input_shape
    if check.needs_size:
        raise ModelError("The model accepts images of any size; add it with `import-model --size HxW` (or on "
                         "the Your models and data page) to say which size to feed it.")
    n = 2 if check.num_outputs == 1 else check.num_outputs
    return ModelMetadata(class_names=[f"class {i}" for i in range(n)], input_size=(h, w), input_channels=c,
                         input_scale=check.suggested_scale)


def as_model(model) -> LoadedModel:
    """A ``LoadedModel`` as it is, or a model name/folder/file loaded (cached) by ``load_model``."""
    return model if isinstance(model, LoadedModel) else load_model(model)
