"""Where things live. Every location can be moved with an environment variable.

- ``XAI_CACHE_DIR``: disk cache for explanations, predictions and generated
  datasets (default ``~/.cache/xai-dashboard``).
- ``XAI_CACHE_MAX_MB``: size bound of the explanation cache (default 1024).
- ``XAI_USER_MODELS_DIR``: models trained or added by the user, kept apart
  from the shipped ones (default ``~/.local/share/xai-dashboard/models``).
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
    default = Path.home() / ".local" / "share" / "xai-dashboard" / "models"
    return Path(os.environ.get("XAI_USER_MODELS_DIR", default)).expanduser()
