"""DICOM series (one file per slice, as several files or a zip) and multi-frame files as a ``Volume``.

Files are grouped by Series Instance UID. Within a series, slices are
ordered by their position along the slice normal (Image Position Patient
projected on the cross product of the two Image Orientation Patient
directions, PS3.3 C.7.6.2.1.1), then by Instance Number, which scanners do
not always assign in order. The spacing between slices comes from those
positions, not from Slice Thickness (which can overlap or leave gaps).

Everything is checked from the headers before a pixel is decoded: the number
of files and the declared zip sizes (``config.zip_limits``, the expansion
ratio), each slice's size and the whole volume against
``config.max_volume_voxels``. An inconsistent series is refused in one
sentence naming the problem: mixed image sizes or orientations, two slices at
one position, a gap where slices are missing.
"""

from __future__ import annotations

import io
import zipfile
from collections import Counter
from pathlib import PurePosixPath

import numpy as np

from .. import config, limits
from ..errors import ImageError, InputError
from .dicom import decode_frame, image_size, is_dicom, open_dicom, to_slice
from .volume import Volume, geometry_spacing

SKIP = ("dicomdir", "readme", "license", ".txt", ".json", ".xml", ".html", ".pdf", ".md", ".csv", ".jpg", ".png")


def zip_members(data: bytes, what: str = "The zip") -> list[tuple[str, bytes]]:
    """(name, bytes) of every file in an uploaded zip, in memory, within the zip limits."""
    max_bytes, max_files = config.zip_limits()
    ratio = config.zip_max_ratio()
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        raise InputError(f"{what} is not a readable zip archive.") from None
    keep = []
    for info in infos:
        limits.check_member_name(info.filename, what)
        p = PurePosixPath(info.filename.replace("\\", "/"))
        if info.is_dir() or p.parts[:1] == ("__MACOSX",) or p.name.startswith("."):
            continue
        if info.file_size > ratio * max(info.compress_size, 1024):
            raise InputError(f"The zip member {info.filename!r} expands more than {ratio:,.0f} times its "
                             f"compressed size, as decompression bombs do; it was refused.")
        keep.append(info)
    if len(keep) > max_files:
        raise InputError(f"{what} holds {len(keep):,} files; the limit is {max_files:,}.")
    declared = sum(i.file_size for i in keep)
    if declared > min(max_bytes, config.dicom_max_bytes() * 4):
        raise InputError(f"{what} would expand to {declared / 2**20:,.0f} MB; the limit for a study is "
                         f"{min(max_bytes, config.dicom_max_bytes() * 4) / 2**20:,.0f} MB.")
    try:
        return [(i.filename, limits.read_member(zf, i.filename, i.file_size, what)) for i in keep]
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
        raise InputError(f"{what} could not be read ({type(exc).__name__}); it may be damaged or encrypted.") from None


def read_zip_study(data: bytes, filename: str, series_uid: str | None = None) -> Volume:
    """A zip holding a DICOM series (or one NIfTI volume) as a ``Volume``."""
    members = zip_members(data)
    nifti = [(n, b) for n, b in members if n.lower().endswith((".nii", ".nii.gz"))]
    if nifti and not any(is_dicom(b, n) for n, b in members):
        if len(nifti) > 1:
            raise ImageError(f"The zip holds {len(nifti)} NIfTI files; upload one volume at a time.")
        from .nifti import read_nifti

        return read_nifti(nifti[0][1], nifti[0][0])
    return read_series(members, series_uid)


def _headers(members: list[tuple[str, bytes]]) -> tuple[list, list[str]]:
    """(name, dataset) of every readable DICOM image among ``members``, and what was skipped and why."""
    found, skipped = [], []
    for name, data in members:
        base = PurePosixPath(name).name.lower()
        if any(base == s or base.endswith(s) for s in SKIP) and not is_dicom(data, name):
            continue
        try:
            found.append((name, open_dicom(data)))
        except ImageError as exc:
            if is_dicom(data, name):
                skipped.append(f"{PurePosixPath(name).name}: {exc}")
    return found, skipped


def series_summary(members: list[tuple[str, bytes]]) -> list[dict]:
    """One row per series in ``members``: uid, description, modality, number of files (largest first)."""
    found, _ = _headers(members)
    groups = Counter(str(ds.get("SeriesInstanceUID", "") or "") for _, ds in found)
    first = {str(ds.get("SeriesInstanceUID", "") or ""): ds for _, ds in reversed(found)}
    return [{"uid": uid, "files": n, "modality": str(first[uid].get("Modality", "")),
             "description": str(first[uid].get("SeriesDescription", "") or "")} for uid, n in groups.most_common()]


def read_series(members: list[tuple[str, bytes]], series_uid: str | None = None) -> Volume:
    """The slices of one series (``series_uid``, default the one with most files) as an ordered ``Volume``."""
    found, skipped = _headers(members)
    if not found:
        if skipped:
            raise ImageError(skipped[0].split(": ", 1)[1])
        raise ImageError("The upload holds no DICOM images.")
    groups: dict[str, list] = {}
    for name, ds in found:
        groups.setdefault(str(ds.get("SeriesInstanceUID", "") or ""), []).append((name, ds))
    uid = series_uid if series_uid in groups else max(groups, key=lambda u: len(groups[u]))
    files = groups[uid]
    if len(files) == 1:
        vol = _multiframe(files[0][1])
    else:
        vol = _stack(files)
    vol.info.update(series=[{"uid": u, "files": len(g), "modality": str(g[0][1].get("Modality", "")),
                             "description": str(g[0][1].get("SeriesDescription", "") or "")}
                            for u, g in sorted(groups.items(), key=lambda kv: -len(kv[1]))],
                    skipped=skipped)
    return vol


def _vector(ds, key: str, n: int) -> np.ndarray | None:
    try:
        v = np.array([float(x) for x in ds.get(key)], float)
    except (TypeError, ValueError):
        return None
    return v if v.shape == (n,) and np.all(np.isfinite(v)) else None


def _common(ds, kind: str, frames: int) -> dict:
    info = {"kind": kind, "modality": str(ds.get("Modality", "")),
            "photometric": str(ds.get("PhotometricInterpretation", "")), "frames": frames,
            "series_uid": str(ds.get("SeriesInstanceUID", "") or ""), "study_uid": str(ds.get("StudyInstanceUID", "") or ""),
            "frame_of_reference_uid": str(ds.get("FrameOfReferenceUID", "") or ""),
            "sop_class_uid": str(ds.get("SOPClassUID", "") or "")}
    try:
        info["slice_thickness"] = float(ds.SliceThickness)
    except (AttributeError, TypeError, ValueError):
        info["slice_thickness"] = None
    return info


def _stack(files: list) -> Volume:
    n = len(files)
    sizes = Counter((int(ds.get("Rows", 0) or 0), int(ds.get("Columns", 0) or 0)) for _, ds in files)
    if len(sizes) > 1:
        parts = ", ".join(f"{c}x{r} in {k} files" for (r, c), k in sizes.most_common())
        raise ImageError(f"The series mixes image sizes ({parts}); it cannot be stacked into one volume.")
    per_slice = config.max_pixels()
    total = 0
    for _, ds in files:
        rows, cols, frames = image_size(ds, per_slice)
        if frames > 1:
            raise ImageError("The series mixes multi-frame files with single slices; upload one at a time.")
        total += rows * cols
    if total > config.max_volume_voxels():
        raise ImageError(f"The series holds {total:,} voxels ({n} slices); the limit is "
                         f"{config.max_volume_voxels():,}, so it was not decoded.")
    iops = [_vector(ds, "ImageOrientationPatient", 6) for _, ds in files]
    ipps = [_vector(ds, "ImagePositionPatient", 3) for _, ds in files]
    numbers = []
    for _, ds in files:
        try:
            numbers.append(int(ds.get("InstanceNumber")))
        except (TypeError, ValueError):
            numbers.append(None)
    orientation = positions = normal = None
    if all(v is not None for v in iops) and all(v is not None for v in ipps):
        if max(np.abs(v - iops[0]).max() for v in iops) > 1e-3:
            raise ImageError("The slices of this series are not all oriented the same way (Image Orientation "
                             "Patient differs), so they do not form one volume.")
        orientation = iops[0]
        normal = np.cross(orientation[:3], orientation[3:])
        positions = np.array(ipps)
        order = sorted(range(n), key=lambda i: (float(positions[i] @ normal), numbers[i] or 0))
    elif all(v is not None for v in numbers):
        order = sorted(range(n), key=lambda i: numbers[i])
        dup = [k for k, c in Counter(numbers).items() if c > 1]
        if dup:
            raise ImageError(f"Two files of this series have the same Instance Number ({dup[0]}) and no position; "
                             f"the series holds duplicates.")
    else:
        raise ImageError("The files of this series carry neither positions (Image Position Patient) nor instance "
                         "numbers, so their order is unknown.")
    spacing = None
    if positions is not None:
        positions = positions[order]
        spacing = _check_positions(positions, normal)
    slices = []
    for i in order:
        ds = files[i][1]
        ts = str(getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", "") or "")
        slices.append(to_slice(decode_frame(ds, None, ts), ds, {"photometric": str(ds.get("PhotometricInterpretation", ""))}))
    if len({s.is_colour for s in slices}) > 1:
        raise ImageError("The series mixes colour and grey images; it cannot be stacked into one volume.")
    first = files[order[0]][1]
    info = _common(first, "dicom-series", n)
    mid = slices[n // 2].info
    info.update({k: mid[k] for k in ("window", "inverted") if k in mid})
    info["rescale"] = (1.0, 0.0)
    info["sop_instance_uids"] = [str(files[i][1].get("SOPInstanceUID", "")) for i in order]
    values = np.stack([s.values if s.is_colour else s.values.astype(np.float32) for s in slices])
    return Volume(values, info, positions, orientation, _pixel_spacing(first), spacing,
                  [_header(files[i][1]) for i in order])


def _header(ds):
    """The dataset without its pixel data (kept for DICOM export: patient, study, geometry, references)."""
    h = ds.copy()
    for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData"):
        if k in h:
            del h[k]
    return h


def _pixel_spacing(ds) -> tuple[float, float] | None:
    v = _vector(ds, "PixelSpacing", 2)
    if v is None or np.any(v <= 0):
        return None
    return float(v[0]), float(v[1])


def _check_positions(positions: np.ndarray, normal: np.ndarray) -> float | None:
    """The slice spacing, after refusing duplicated positions and gaps where slices are missing."""
    d = np.diff(positions @ normal)
    if len(d) == 0:
        return None
    step = float(np.median(d))
    tol = max(1e-3, 0.01 * abs(step))
    dup = np.flatnonzero(np.abs(d) < tol)
    if len(dup):
        i = int(dup[0])
        raise ImageError(f"Slices {i + 1} and {i + 2} of this series lie at the same position "
                         f"({float(positions[i] @ normal):.2f} mm along the slice normal); the series holds "
                         f"duplicated slices, perhaps two acquisitions.")
    gaps = np.flatnonzero(d > 1.5 * step)
    if len(gaps):
        i = int(gaps[0])
        raise ImageError(f"Slices are missing from this series: a gap of {d[i]:.2f} mm after slice {i + 1} "
                         f"where the others are {step:.2f} mm apart.")
    if np.any(np.abs(d - step) > 0.1 * step):
        raise ImageError(f"The slices of this series are unevenly spaced ({d.min():.2f} to {d.max():.2f} mm), "
                         f"so they do not form one regular volume.")
    return step


def read_multiframe(data: bytes) -> Volume:
    """A multi-frame DICOM file (enhanced CT/MR, secondary capture, ultrasound cine) as a ``Volume``."""
    return _multiframe(open_dicom(data))


def _multiframe(ds) -> Volume:
    rows, cols, frames = image_size(ds, config.max_volume_voxels())
    ts = str(getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", "") or "")
    arr = decode_frame(ds, None, ts)
    if frames == 1:
        arr = arr[None]
    info = _common(ds, "dicom-multiframe" if frames > 1 else "dicom-file", frames)
    slices = [to_slice(arr[f], _frame_view(ds, f), {"photometric": info["photometric"]}) for f in range(frames)]
    first = slices[frames // 2].info
    info.update({k: first[k] for k in ("window", "inverted") if k in first})
    info["rescale"] = (1.0, 0.0)
    info["sop_instance_uids"] = [str(ds.get("SOPInstanceUID", ""))]
    values = np.stack([s.values if s.is_colour else s.values.astype(np.float32) for s in slices])
    positions, orientation, spacing = _frame_geometry(ds, frames)
    step = None
    if positions is not None and orientation is not None and frames > 1:
        normal = np.cross(orientation[:3], orientation[3:])
        order = np.argsort(positions @ normal, kind="stable")
        values, positions = values[order], positions[order]
        info["frame_order"] = [int(f) for f in order]  # slice i is frame frame_order[i] (0-based) of the file
        try:
            step = _check_positions(positions, normal)
        except ImageError:
            step = geometry_spacing(positions, normal)
    elif positions is not None and frames == 1:
        step = info["slice_thickness"]
    return Volume(values, info, positions, orientation, spacing, step, [_header(ds)])


class _FrameView:
    """The dataset as seen by one frame: its per-frame rescale (enhanced objects keep it in functional groups)."""

    def __init__(self, ds, index: int):
        self._ds, self._over = ds, {}
        for seq in _groups(ds, index, "PixelValueTransformationSequence"):
            self._over.update(RescaleSlope=seq.get("RescaleSlope"), RescaleIntercept=seq.get("RescaleIntercept"),
                              RescaleType=seq.get("RescaleType"))
        for seq in _groups(ds, index, "FrameVOILUTSequence"):
            self._over.update(WindowCenter=seq.get("WindowCenter"), WindowWidth=seq.get("WindowWidth"))
        self._over = {k: v for k, v in self._over.items() if v is not None}

    def get(self, key, default=None):
        return self._over[key] if key in self._over else self._ds.get(key, default)

    def __contains__(self, key):
        return key in self._over or key in self._ds

    def __getattr__(self, key):
        if key in self.__dict__.get("_over", {}):
            return self._over[key]
        return getattr(self._ds, key)


def _frame_view(ds, index: int):
    return _FrameView(ds, index) if "PerFrameFunctionalGroupsSequence" in ds else ds


def _groups(ds, index: int, name: str) -> list:
    """Items of functional group ``name`` for frame ``index`` (per-frame first, then shared)."""
    out = []
    for top, i in (("PerFrameFunctionalGroupsSequence", index), ("SharedFunctionalGroupsSequence", 0)):
        try:
            item = ds[top][i] if top in ds else None
            if item is not None and name in item and len(item[name]):
                out.append(item[name][0])
        except (IndexError, KeyError, TypeError):
            continue
    return out[:1]


def _frame_geometry(ds, frames: int):
    """(positions (F, 3), orientation (6,), pixel spacing) of a multi-frame file, each None when absent."""
    orient = next((_vector(g, "ImageOrientationPatient", 6) for g in _groups(ds, 0, "PlaneOrientationSequence")),
                  _vector(ds, "ImageOrientationPatient", 6))
    measures = _groups(ds, 0, "PixelMeasuresSequence")
    spacing = _pixel_spacing(measures[0]) if measures else _pixel_spacing(ds)
    positions = []
    for f in range(frames):
        g = _groups(ds, f, "PlanePositionSequence")
        p = _vector(g[0], "ImagePositionPatient", 3) if g else (_vector(ds, "ImagePositionPatient", 3)
                                                                if frames == 1 else None)
        positions.append(p)
    pos = np.array(positions) if all(p is not None for p in positions) else None
    return pos, orient, spacing
