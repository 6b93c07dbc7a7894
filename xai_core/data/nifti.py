"""NIfTI volumes (``.nii``, ``.nii.gz``) through nibabel, reoriented so axial means axial.

The image is brought to nibabel's closest canonical orientation (RAS+:
voxel axes run towards the patient's Right, Anterior and Superior;
``nibabel.as_closest_canonical``), then stacked as a ``Volume`` of axial
slices in the radiological convention DICOM axial series use: axial slice
``k`` is the canonical ``data[:, :, k]`` with anterior at the top and the
patient's right on the left, that is ``data[::-1, ::-1, k].T``. Slice 0 is
the most inferior. Geometry is carried over in DICOM's LPS coordinates.

The header is read first (a few hundred bytes, inflated from a ``.gz`` as a
stream) and the volume refused before its data is expanded when it holds
more than ``config.max_volume_voxels`` voxels; the data is then inflated no
further than the header's declared size, so a gzip bomb stops there.
"""

from __future__ import annotations

import io
import zlib

import numpy as np

from .. import config
from ..errors import ImageError
from .volume import Volume

_HEAD = 544  # a NIfTI-2 header (540 bytes) and its 4-byte extension flag
LPS = np.array([-1.0, -1.0, 1.0])


def _inflate(data: bytes, limit: int) -> bytes:
    """The first ``limit`` bytes of ``data``, inflated from gzip if it is compressed."""
    if data[:2] != b"\x1f\x8b":
        return data[:limit]
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out, view = [], memoryview(data)
    got = 0
    try:
        for i in range(0, len(view), 1 << 20):
            buf = view[i:i + (1 << 20)]
            while buf and got < limit and not d.eof:
                chunk = d.decompress(buf, min(1 << 20, limit - got))
                out.append(chunk)
                got += len(chunk)
                buf = d.unconsumed_tail
            if got >= limit or d.eof:
                break
    except zlib.error:
        raise ImageError("This .nii.gz file is damaged (its gzip stream cannot be read).") from None
    return b"".join(out)


def _header(head: bytes):
    import nibabel as nib

    if len(head) < 348:
        raise ImageError("This file is too short to be a NIfTI volume.")
    size = int.from_bytes(head[:4], "little")
    if size not in (348, 540):
        size = int.from_bytes(head[:4], "big")
    cls = {348: nib.Nifti1Header, 540: nib.Nifti2Header}.get(size)
    if cls is None:
        raise ImageError("This file is not a NIfTI volume (its header size is neither 348 nor 540 bytes).")
    try:
        return cls.from_fileobj(io.BytesIO(head[:size])), size
    except Exception as exc:  # nibabel raises HeaderDataError, ValueError, ...
        raise ImageError(f"This NIfTI header cannot be read ({type(exc).__name__}).") from None


def read_nifti(data: bytes, filename: str = "") -> Volume:
    """A NIfTI volume as a ``Volume`` of axial slices in the canonical (RAS+) orientation."""
    import nibabel as nib

    hdr, size = _header(_inflate(data, _HEAD))
    shape = tuple(int(s) for s in hdr.get_data_shape())
    if len(shape) > 3 and int(np.prod(shape[3:])) > 1:
        raise ImageError(f"This NIfTI file holds {int(np.prod(shape[3:]))} volumes (shape {shape}); upload "
                         f"a single 3-D volume.")
    if not shape or min(shape) < 1:
        raise ImageError(f"This NIfTI header gives an impossible shape {shape}.")
    voxels = int(np.prod(shape))
    if voxels > config.max_volume_voxels():
        raise ImageError(f"The NIfTI volume is {' x '.join(map(str, shape))} = {voxels:,} voxels; the limit is "
                         f"{config.max_volume_voxels():,}, so it was not read.")
    if hdr.get_data_dtype().fields is not None or hdr.get_data_dtype().kind not in "iufb":
        raise ImageError("This NIfTI volume is not grey-scale (its voxels are colour or complex values).")
    need = int(hdr.get_data_offset()) + voxels * hdr.get_data_dtype().itemsize
    raw = _inflate(data, need)
    if len(raw) < need:
        raise ImageError(f"This NIfTI file is truncated: its header declares {need:,} bytes, it holds {len(raw):,}.")
    try:
        img = (nib.Nifti2Image if size == 540 else nib.Nifti1Image).from_bytes(raw)
        canon = nib.as_closest_canonical(img)
        arr = np.asarray(canon.get_fdata(dtype=np.float32))
    except Exception as exc:
        raise ImageError(f"This NIfTI volume cannot be read ({type(exc).__name__}).") from None
    arr = arr.reshape(arr.shape[:3]) if arr.ndim > 3 else arr.reshape(arr.shape + (1,) * (3 - arr.ndim))
    if not np.all(np.isfinite(arr)):
        arr = np.nan_to_num(arr, nan=0.0, posinf=0.0, neginf=0.0)
    values = np.ascontiguousarray(np.transpose(arr[::-1, ::-1, :], (2, 1, 0)), np.float32)
    A = canon.affine
    zooms = np.sqrt((A[:3, :3] ** 2).sum(0))
    row_dir = -A[:3, 0] / zooms[0] * LPS  # along a row, columns run towards the patient's left
    col_dir = -A[:3, 1] / zooms[1] * LPS  # down a column, rows run towards posterior
    nx, ny, nz = arr.shape
    corners = np.array([A @ [nx - 1, ny - 1, k, 1] for k in range(nz)])[:, :3] * LPS
    lo, hi = np.percentile(values, [0.5, 99.5]) if values.size else (0.0, 1.0)
    info = {"kind": "nifti", "modality": "", "photometric": "MONOCHROME2", "frames": nz, "rescale": (1.0, 0.0),
            "window": ((lo + hi) / 2, max(hi - lo, 1e-6)), "slice_thickness": float(zooms[2]),
            "orientation_from": "".join(nib.aff2axcodes(img.affine))}
    return Volume(values, info, corners, np.concatenate([row_dir, col_dir]), (float(zooms[1]), float(zooms[0])),
                  float(zooms[2]) if nz > 1 else None)
