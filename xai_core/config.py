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
"""

from __future__ import annotations

import os
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


def user_models_dir() -> Path:
    default = _share() / "models"
    return Path(os.environ.get("XAI_USER_MODELS_DIR", default)).expanduser()


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


def audits_dir() -> Path:
    """Where audits are written and the Audit page looks for them (``XAI_AUDITS_DIR``; default
    ``~/.local/share/xai-dashboard/audits``). The page never opens an audit outside this folder."""
    return Path(os.environ.get("XAI_AUDITS_DIR", _share() / "audits")).expanduser().resolve()
