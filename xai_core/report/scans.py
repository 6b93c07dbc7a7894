"""Scans for reports: from a dataset reference or from a file, with the DICOM window as the page sets it.

A file's name never reaches a report: its source is written as
``scan-<first 12 hex digits of the file's SHA-256><suffix>`` unless the user
asked to include identifiers. DICOM identifiers are read only for the
report's scrubbing guard or, when asked, for display.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np

from ..errors import InputError
from .content import Scan
from .deid import read_identifiers

WINDOW_HELP = "file (the file's own window), full (the full range), a preset name, or CENTRE,WIDTH"


def parse_window(option: str | None, dicom) -> tuple[tuple[float, float] | None, str | None]:
    """(centre, width) and its name from ``--window``/the page's choice; (None, None) for non-DICOM scans."""
    from ..data.dicom import WINDOW_PRESETS

    if dicom is None or dicom.is_colour:
        return None, None
    opt = (option or "file").strip().lower()
    if opt == "file":
        w = dicom.file_window()
        return (w, "file") if w else (dicom.full_window(), "full")
    if opt == "full":
        return dicom.full_window(), "full"
    if opt in WINDOW_PRESETS:
        return WINDOW_PRESETS[opt], opt
    m = re.fullmatch(r"\s*(-?[\d.]+(?:e-?\d+)?)\s*,\s*([\d.]+(?:e-?\d+)?)\s*", opt)
    if m:
        c, w = float(m[1]), float(m[2])
        if w <= 0:
            raise InputError("The window width must be positive.")
        return (c, w), "custom"
    raise InputError(f"--window must be {WINDOW_HELP} ({', '.join(WINDOW_PRESETS)}); got {option!r}.")


def window_option(window: tuple[float, float] | None, name: str | None) -> str | None:
    """The ``--window`` value that reproduces a window."""
    if window is None:
        return None
    if name in (None, "custom"):
        return f"{window[0]!r},{window[1]!r}"
    return name


def file_source(sha256: str, filename: str) -> str:
    suffix = Path(filename).suffix.lower() if re.fullmatch(r"\.[A-Za-z0-9]{1,6}", Path(filename).suffix) else ""
    return f"scan-{sha256[:12]}{suffix}"


def study_identifiers(data: bytes) -> dict[str, str]:
    """``read_identifiers`` over every DICOM file of a study zip (or of one file); a value seen in several
    files is kept once, different values under numbered keys, so the scrubbing guard knows them all."""
    if data[:4] != b"PK\x03\x04":
        return read_identifiers(data)
    from ..data.dicom import is_dicom
    from ..data.series import zip_members

    out: dict[str, str] = {}
    for name, member in zip_members(data):
        if not is_dicom(member, name):
            continue
        for k, v in read_identifiers(member).items():
            if v not in out.values():
                out[k if k not in out else f"{k} ({sum(key.startswith(k) for key in out) + 1})"] = v
    return out


def scan_from_bytes(model, data: bytes, filename: str, window: str | None = None,
                    include_identifiers: bool = False, source: str | None = None, slice=None):
    """(Scan, identifiers shown or None, identifiers to scrub) for an uploaded or named file; ``slice``
    (plane, 0-based index) picks one slice of a study (a series zip, a NIfTI or multi-frame file)."""
    from ..data.images import read_scan
    from ..models import as_model

    lm = as_model(model)
    sha = hashlib.sha256(data).hexdigest()
    if slice is not None:
        from ..data.study import read_volume

        dicom = read_volume(data, filename).slice(int(slice[1]), slice[0])
        img = dicom.render()
    else:
        img, dicom = read_scan(data, filename)
    w, name = parse_window(window, dicom)
    if dicom is not None and w is not None:
        img = dicom.render(w)
    found = (study_identifiers(data) if slice is not None else read_identifiers(data)) if dicom is not None else {}
    shown = found if include_identifiers else None
    src = source if (source and include_identifiers) else file_source(sha, filename)
    scan = Scan(model_input=lm.prepare(img), source=src, sha256=sha, original=img, window=w, window_name=name,
                dicom=dict(dicom.info) if dicom is not None else {})
    return scan, shown, found


def scan_from_dataset(model, ref: str, image: np.ndarray | None = None, true_class: str | None = None) -> Scan:
    """A dataset scan by DATASET:SPLIT:INDEX (its image and true class are looked up when not given)."""
    from ..data.refs import load_image_ref
    from ..data.images import image_hash
    from ..models import as_model

    if image is None:
        image, _, true_class, _ = load_image_ref(ref)
    lm = as_model(model)
    x = lm.prepare(image)  # hashed as the model sees it, so a page and the CLI name the same scan alike
    return Scan(model_input=x, source=ref, sha256=image_hash(x),
                original=None, true_class=true_class)
