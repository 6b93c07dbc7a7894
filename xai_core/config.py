"""Where things live. Every location can be moved with an environment variable.

- ``XAI_CACHE_DIR``: disk cache for explanations, predictions and generated
  datasets (default ``~/.cache/xai-dashboard``).
- ``XAI_CACHE_MAX_MB``: size bound of the explanation cache (default 1024).
- ``XAI_USER_MODELS_DIR``: models trained or added by the user, kept apart
  from the shipped ones (default ``~/.local/share/xai-dashboard/models``).
- ``XAI_DATA_ROOTS``: the only folders image datasets are read from, separated
  by ``:`` (default ``~/.local/share/xai-dashboard/data``). Uploaded zips are
  unpacked into ``<first root>/uploads``.
- ``XAI_AUDITS_DIR``: where dataset audits are kept (default
  ``~/.local/share/xai-dashboard/audits``).
- ``XAI_MAX_PIXELS``: the pixel limit checked before any image is decoded
  (default 4096 x 4096).
- ``XAI_ZIP_MAX_MB`` / ``XAI_ZIP_MAX_FILES``: limits on what an uploaded zip
  may expand to (default 2048 MB and 50,000 files).
- ``XAI_ZIP_MAX_RATIO``: largest expansion ratio of any zip member (default 200).
- ``XAI_USER_DATA_MAX_MB``: budget for everything users add (uploaded models,
  unpacked datasets, decoded dataset copies; default 4096 MB).
- ``XAI_TIME_LIMIT_S``: time limit of one computation (an explanation, a pass
  over a dataset; default 900 s, 0 for none).
- ``XAI_BATCH_MEMORY_MB``: memory one batch of forward passes may take
  (default 512 MB: a 2-core, 8 GB laptop with a few sessions open).
- ``XAI_DICOM_MAX_MB``: largest size a DICOM file may have once inflated
  (default 256 MB).
- ``XAI_MODEL_CONFIG_MAX_MB``: largest ``config.json``/``metadata.json`` inside a
  ``.keras`` file (default 16 MB; real ones are kilobytes).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ASSETS_DIR = PROJECT_ROOT / "assets"
SHIPPED_MODELS_DIR = ASSETS_DIR / "models"

DEFAULT_MODEL = "brain-basic-cnn"
DEFAULT_DATASET = "synthetic-brain-mri"


def cache_dir() -> Path:
    return Path(os.environ.get("XAI_CACHE_DIR", Path.home() / ".cache" / "xai-dashboard")).expanduser()


def cache_max_bytes() -> int:
    return int(float(os.environ.get("XAI_CACHE_MAX_MB", "1024")) * 1024 * 1024)


SESSIONS = ".sessions"  # hidden folder of per-owner private areas (dot folders are never listed as shared)
_OWNER = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def check_owner(owner: str) -> str:
    """An owner id names a private folder, so it must be a plain token (no path tricks)."""
    if not isinstance(owner, str) or not _OWNER.match(owner):
        raise ValueError("An owner id is 8 to 64 letters, digits, '-' or '_'.")
    return owner


def user_models_dir(owner: str | None = None) -> Path:
    """The shared user-model folder (the CLI's), or ``owner``'s private area inside it.

    A dashboard session passes its own random owner id: what it adds stays private to it until it
    chooses to add it to the shared library (``models.importing.share_model``)."""
    default = _share() / "models"
    base = Path(os.environ.get("XAI_USER_MODELS_DIR", default)).expanduser()
    return base if owner is None else base / SESSIONS / check_owner(owner)


def upload_dir(owner: str | None = None) -> Path:
    """The shared folder of unpacked dataset zips (``<first data root>/uploads``), or ``owner``'s private one
    inside it (a dot folder, never listed as shared)."""
    base = data_roots()[0] / "uploads"
    return base if owner is None else base / SESSIONS / check_owner(owner)


def _share() -> Path:
    return Path.home() / ".local" / "share" / "xai-dashboard"


def data_roots() -> list[Path]:
    raw = os.environ.get("XAI_DATA_ROOTS")
    parts = [p for p in raw.split(os.pathsep) if p.strip()] if raw else [str(_share() / "data")]
    return [Path(p).expanduser().resolve() for p in parts]


def max_pixels() -> int:
    return int(float(os.environ.get("XAI_MAX_PIXELS", 4096 * 4096)))


def zip_limits() -> tuple[int, int]:
    """(largest total expanded size in bytes, most files) an uploaded zip may hold."""
    mb = float(os.environ.get("XAI_ZIP_MAX_MB", "2048"))
    return int(mb * 2**20), int(os.environ.get("XAI_ZIP_MAX_FILES", "50000"))


def _num(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else float(default)
    except ValueError:
        return float(default)


def zip_max_ratio() -> float:
    """Largest ratio of expanded to compressed size any zip member may have."""
    return _num("XAI_ZIP_MAX_RATIO", 200)


def user_data_max_bytes() -> int:
    return int(_num("XAI_USER_DATA_MAX_MB", 4096) * 2**20)


def time_limit_s() -> float | None:
    """The per-computation time limit in seconds, or None for none."""
    s = _num("XAI_TIME_LIMIT_S", 900)
    return s if s > 0 else None


def batch_memory_bytes() -> int:
    return max(1, int(_num("XAI_BATCH_MEMORY_MB", 512) * 2**20))


def batch_size_for(per_image_bytes: int, requested: int | None = None) -> int:
    """How many images fit one batch: ``requested`` (default 256) capped by the batch memory budget.

    ``per_image_bytes`` is what one image costs inside the model (its activations, or activations and
    gradients); a 512x512 CNN takes ~35 MB an image, so a fixed 256 would need ~10 GB.
    """
    cap = batch_memory_bytes() // max(1, int(per_image_bytes))
    return int(max(1, min(int(requested or 256), cap)))


def dicom_max_bytes() -> int:
    return int(_num("XAI_DICOM_MAX_MB", 256) * 2**20)


def model_config_max_bytes() -> int:
    return int(_num("XAI_MODEL_CONFIG_MAX_MB", 16) * 2**20)


def audits_dir() -> Path:
    """Where audits are written and the Audit page looks for them (``XAI_AUDITS_DIR``; default
    ``~/.local/share/xai-dashboard/audits``). The page never opens an audit outside this folder."""
    return Path(os.environ.get("XAI_AUDITS_DIR", _share() / "audits")).expanduser().resolve()


def max_volume_voxels() -> int:
    """Most voxels a volume upload (DICOM series, multi-frame file, NIfTI) may hold, checked from its headers
    before decoding (``XAI_MAX_VOLUME_VOXELS``; default 64 Mi, 256 MB as float32: a 512x512x256 CT)."""
    return int(_num("XAI_MAX_VOLUME_VOXELS", 64 * 2**20))
