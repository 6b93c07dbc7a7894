"""Studies inside a dataset folder: each NIfTI volume, DICOM series or multi-frame file is one case of its class.

Clinics and research collections keep a scan as a study, not as loose slices:
a brain-tumour collection as one ``.nii.gz`` per patient, a PACS export as one
folder of DICOM files per series. In a class folder (either layout of
``folder.py``) a case is:

* a ``.nii``/``.nii.gz`` file, or a ``.zip`` of one series (read as uploads are);
* a folder below the class folder whose DICOM files belong to one series
  (one Series Instance UID, at least two files): the files of one patient's
  series never straddle the train/test split, because the split is drawn per
  case;
* a multi-frame DICOM file (more than one frame).

DICOM files directly in a class folder stay single images, as before. A case is
read through ``xai_core.data.study``/``series`` (the same limits, the same slice
order by position) and each slice of its acquired plane is one image, rendered
in the file's own window. Audits name a slice ``<case>:<slice>``, the slice
numbered from 1 as viewers number them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ImageError, InputError

VOLUME_SUFFIXES = (".nii", ".nii.gz", ".zip")
DICOM_SUFFIXES = (".dcm", ".dicom")


def listed(f: Path) -> bool:
    """A file a folder dataset reads besides its images: a volume or a zipped series."""
    return f.name.lower().endswith(VOLUME_SUFFIXES)


def _series_uid(f: Path) -> str | None:
    from .dicom import open_dicom

    try:
        return str(open_dicom(f.read_bytes(), stop_before_pixels=True).get("SeriesInstanceUID", "") or "") or None
    except (ImageError, InputError, OSError):
        return None


def _frames(f: Path) -> int:
    from .dicom import open_dicom

    try:
        return int(open_dicom(f.read_bytes(), stop_before_pixels=True).get("NumberOfFrames", 1) or 1)
    except (ImageError, InputError, OSError, TypeError, ValueError):
        return 1


def group_cases(files: list[Path], class_dir: Path) -> list[Path]:
    """The files of one class folder as entries: single images and volume files as they are, and each folder
    below ``class_dir`` whose DICOM files form one series as that folder (one case)."""
    below: dict[Path, list[Path]] = {}
    out = []
    for f in files:
        if f.name.lower().endswith(DICOM_SUFFIXES) and f.parent != class_dir:
            below.setdefault(f.parent, []).append(f)
        else:
            out.append(f)
    for d, group in below.items():
        uids = [u for u in map(_series_uid, group) if u]
        out.extend([d] if len(group) > 1 and len(uids) > 1 and len(set(uids)) == 1 else group)
    return sorted(out)


def is_case(path: Path) -> bool:
    """A study (several slices), not a single image."""
    p = Path(path)
    return p.is_dir() or listed(p) or (p.name.lower().endswith(DICOM_SUFFIXES) and _frames(p) > 1)


def series_files(folder: Path) -> list[Path]:
    return sorted(f for f in Path(folder).iterdir()
                  if f.is_file() and not f.name.startswith(".") and f.name.lower().endswith(DICOM_SUFFIXES))


def read_case(path: Path):
    """The case as a ``Volume`` (a series folder, a NIfTI file, a zipped series or a multi-frame file)."""
    from .series import read_series
    from .study import read_volume

    p = Path(path)
    if p.is_dir():
        return read_series([(f.name, f.read_bytes()) for f in series_files(p)])
    return read_volume(p.read_bytes(), p.name)


def signature(path: Path) -> tuple[int, int]:
    """(bytes, newest modification) of a case or file, for the decoded dataset's cache key."""
    p = Path(path)
    stats = [f.stat() for f in series_files(p)] if p.is_dir() else [p.stat()]
    return sum(s.st_size for s in stats), max((s.st_mtime_ns for s in stats), default=0)


def dataset_image(img: np.ndarray, size: tuple[int, int], channels: int) -> np.ndarray:
    """An image as a folder dataset stores it: fitted to ``size`` x ``channels``, uint8."""
    from .images import adapt_image

    return np.clip(adapt_image(img, (*size, channels)) + 0.5, 0, 255).astype(np.uint8)


def slice_images(vol, size: tuple[int, int], channels: int) -> list[np.ndarray]:
    """Every slice of the acquired plane in the file's own window, fitted as dataset images."""
    return [dataset_image(vol.slice(i).render(), size, channels) for i in range(len(vol))]


def case_info(vol) -> dict:
    """The case's series facts an audit row carries."""
    sp = vol.spacing
    return {"plane": vol.acquired_plane(), "slices": len(vol), "modality": str(vol.info.get("modality") or ""),
            "study": str(vol.info.get("kind") or ""),
            "spacing": " x ".join(f"{v:.4g}" for v in sp) + " mm" if sp else ""}


def slice_id(case: str, index: int) -> str:
    """The audit id of slice ``index`` (0-based) of ``case``: ``<case>:<slice from 1>``."""
    return f"{case}:{index + 1}"


def parse_slice_id(image_id: str) -> tuple[str, int | None]:
    """(case, 0-based slice) of ``<case>:<n>``; (id, None) for any other id."""
    case, sep, n = image_id.rpartition(":")
    if sep and n.isdigit() and int(n) >= 1:
        return case, int(n) - 1
    return image_id, None
