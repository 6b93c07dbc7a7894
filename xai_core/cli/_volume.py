"""Volumes on the command line: a study zip, a folder of one DICOM series, a NIfTI file or a multi-frame DICOM."""

from __future__ import annotations

from pathlib import Path

from .. import config
from ..errors import InputError


def is_volume_source(image: str) -> bool:
    p = Path(image)
    if p.is_dir() or p.name.lower().endswith((".zip", ".nii", ".nii.gz")):
        return True
    if p.is_file() and p.suffix.lower() in (".dcm", ".dicom", "") and p.stat().st_size <= config.dicom_max_bytes():
        import pydicom

        from ..data.dicom import check_inflated_size

        try:
            check_inflated_size(p.read_bytes())  # a Deflated bomb is refused by the slice reader, not inflated here
            ds = pydicom.dcmread(p, stop_before_pixels=True, force=True)
            return int(ds.get("NumberOfFrames", 1) or 1) > 1
        except Exception:
            return False
    return False


def load_volume(image: str, series: str | None = None):
    """The ``Volume`` at ``image`` (file or series folder), read within the upload limits."""
    from ..data.series import read_series
    from ..data.study import read_volume

    p = Path(image)
    if p.is_dir():
        paths = sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith("."))
        _, max_files = config.zip_limits()
        if len(paths) > max_files:
            raise InputError(f"{image} holds {len(paths):,} files; the limit is {max_files:,}.")
        limit = config.dicom_max_bytes() * 4
        if sum(f.stat().st_size for f in paths) > limit:
            raise InputError(f"{image} holds more than {limit / 2**20:,.0f} MB; the limit for a study.")
        return read_series([(str(f.relative_to(p)), f.read_bytes()) for f in paths], series)
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise InputError(f"Could not read {image}: {exc.strerror or exc}.") from None
    if size > config.dicom_max_bytes() * 4:
        raise InputError(f"{image} is {size / 2**20:,.0f} MB; the limit for a study is "
                         f"{config.dicom_max_bytes() * 4 / 2**20:,.0f} MB.")
    return read_volume(p.read_bytes(), p.name, series)


def volume_window(volume, option: str | None):
    """(centre, width) for ``--window`` on a grey volume (file, full, a preset, or CENTRE,WIDTH)."""
    from ..report.scans import parse_window

    if volume.is_colour:
        return None
    return parse_window(option, volume.slice(len(volume) // 2))[0]
