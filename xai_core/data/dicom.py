"""DICOM slices via pydicom: modality rescale, windowing, MONOCHROME1, and limits before decoding.

Pixel values become physical units first (``RescaleSlope``/``Intercept``;
Hounsfield units for CT), then a window (centre/width) maps them to 0..255:
the window stored in the file, a preset, or the user's own. MONOCHROME1
images (where bright means low) are inverted so bright always means dense.
The header's rows x columns x frames is checked against the pixel limit
before any pixel data is decoded (and must be positive); compressed transfer
syntaxes decode only when one of pydicom's installed handlers can. A file in
the Deflated transfer syntax is inflated once as a stream, counting bytes and
keeping none, and refused past ``config.dicom_max_bytes()`` before pydicom
(which inflates the whole file in memory) reads it: a 1 MB file can hold 1 GB.
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass, field

import numpy as np

from .. import config
from ..errors import ImageError

DEFLATED = "1.2.840.10008.1.2.1.99"  # Deflated Explicit VR Little Endian
_CHUNK = 1 << 20

# (centre, width) in the rescaled units (Hounsfield units for CT)
WINDOW_PRESETS = {
    "brain": (40.0, 80.0),
    "subdural": (75.0, 215.0),
    "stroke": (32.0, 8.0),
    "lung": (-600.0, 1500.0),
    "mediastinum": (50.0, 350.0),
    "abdomen": (40.0, 400.0),
    "bone": (400.0, 1800.0),
}


@dataclass
class DicomSlice:
    values: np.ndarray  # (H, W) float64 in rescaled units, or (H, W, 3) uint8 for colour images
    info: dict = field(default_factory=dict)

    @property
    def is_colour(self) -> bool:
        return self.values.ndim == 3

    def file_window(self) -> tuple[float, float] | None:
        w = self.info.get("window")
        return tuple(w) if w else None

    def full_window(self) -> tuple[float, float]:
        lo, hi = float(np.min(self.values)), float(np.max(self.values))
        return (lo + hi) / 2, max(hi - lo, 1.0)

    def render(self, window: tuple[float, float] | None = None) -> np.ndarray:
        """(H, W, C) uint8 with the given (centre, width), else the file's window, else the full range."""
        if self.is_colour:
            return self.values
        centre, width = window or self.file_window() or self.full_window()
        if width <= 0:
            raise ImageError("The window width must be positive.")
        lo = centre - width / 2
        a = np.clip((self.values - lo) / width, 0, 1) * 255
        if self.info.get("inverted"):  # MONOCHROME1: low values are bright; flip so bright means dense
            a = 255 - a
        return (a + 0.5).astype(np.uint8)[..., None]


def is_dicom(data: bytes, filename: str = "") -> bool:
    return data[128:132] == b"DICM" or filename.lower().endswith((".dcm", ".dicom"))


def _first(v):
    """Window tags may hold several values (one per suggested window); take the first."""
    if v is None:
        return None
    try:
        return float(v[0]) if hasattr(v, "__len__") and not isinstance(v, str) else float(v)
    except (TypeError, ValueError, IndexError):
        return None


def check_inflated_size(data: bytes, limit: int | None = None) -> None:
    """Refuse a Deflated-syntax file whose dataset inflates past ``limit`` bytes, without keeping it."""
    from pydicom.filereader import _read_file_meta_info, read_preamble

    limit = config.dicom_max_bytes() if limit is None else int(limit)
    f = io.BytesIO(data)
    try:
        read_preamble(f, True)
        meta = _read_file_meta_info(f)
    except Exception:
        return  # no readable file meta: not deflated as far as pydicom is concerned either
    if str(meta.get("TransferSyntaxUID", "")) != DEFLATED:
        return
    d = zlib.decompressobj(-zlib.MAX_WBITS)
    view, produced = memoryview(data)[f.tell():], 0
    try:
        for i in range(0, len(view), _CHUNK):
            buf = view[i:i + _CHUNK]
            while buf and not d.eof:
                produced += len(d.decompress(buf, _CHUNK))  # at most one chunk out per call
                if produced > limit:
                    raise ImageError(
                        f"This DICOM file is compressed (Deflated) and would expand to more than "
                        f"{limit / 2**20:,.0f} MB, the limit for one scan; it was refused without expanding it.")
                # past the end of the stream zlib keeps handing back a byte of padding: stop at eof
                buf = d.unconsumed_tail
            if d.eof:
                break
    except zlib.error:
        raise ImageError("This DICOM file is compressed (Deflated) but its data is damaged.") from None


def read_dicom(data: bytes, max_pixels: int) -> DicomSlice:
    import pydicom
    from pydicom.errors import InvalidDicomError
    from pydicom.pixels import apply_modality_lut

    check_inflated_size(data)
    try:
        ds = pydicom.dcmread(io.BytesIO(data), force=data[128:132] != b"DICM")
    except (InvalidDicomError, EOFError, OSError, ValueError, TypeError, KeyError, AttributeError, zlib.error,
            RecursionError, MemoryError) as exc:
        raise ImageError(f"This file is not a readable DICOM file ({type(exc).__name__}).") from None
    if "PixelData" not in ds and "FloatPixelData" not in ds and "DoubleFloatPixelData" not in ds:
        raise ImageError("This DICOM file holds no image (it has no pixel data); it may be a report or a plan.")
    try:
        rows, cols = int(ds.Rows), int(ds.Columns)
        frames = int(ds.get("NumberOfFrames", 1) if ds.get("NumberOfFrames") not in (None, "") else 1)
    except (AttributeError, TypeError, ValueError):
        raise ImageError("This DICOM file does not say how large its image is (Rows/Columns missing).") from None
    if rows < 1 or cols < 1 or frames < 1:
        raise ImageError(f"This DICOM file's header gives an impossible image size ({rows} rows, {cols} columns, "
                         f"{frames} frames); it was not decoded.")
    if rows * cols * frames > max_pixels:
        raise ImageError(f"The DICOM image is {cols}x{rows} pixels x {frames} frames; the limit is "
                         f"{max_pixels:,} pixels, so it was not decoded.")
    ts = str(getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", "") or "")
    try:
        arr = ds.pixel_array
    except (NotImplementedError, RuntimeError):
        raise ImageError(f"This DICOM file is compressed with a transfer syntax ({ts or 'unknown'}) that the "
                         f"installed decoders cannot read.") from None
    except Exception as exc:  # truncated or inconsistent pixel data
        raise ImageError(f"The DICOM pixel data could not be decoded ({type(exc).__name__}); the file may be "
                         f"truncated.") from None
    info = {"modality": str(ds.get("Modality", "")), "photometric": str(ds.get("PhotometricInterpretation", "")),
            "transfer_syntax": ts, "frames": frames, "size": (rows, cols),
            "rescale": (_first(ds.get("RescaleSlope")) or 1.0, _first(ds.get("RescaleIntercept")) or 0.0)}
    if frames > 1:
        arr = arr[frames // 2]
        info["frame_shown"] = frames // 2
    if info["photometric"] == "PALETTE COLOR" and arr.ndim == 2:
        from pydicom.pixels import apply_color_lut

        arr = apply_color_lut(arr, ds)
    if arr.ndim == 3 and arr.shape[-1] == 3:  # colour (pydicom converts YBR to RGB)
        a = np.asarray(arr, np.float64)
        if a.max() > 255:
            a = a / a.max() * 255
        return DicomSlice(np.clip(a, 0, 255).astype(np.uint8), info)
    if arr.ndim != 2:
        raise ImageError(f"This DICOM image has an unsupported shape {arr.shape}.")
    values = np.asarray(apply_modality_lut(arr, ds), np.float64)
    if info["photometric"] == "MONOCHROME1":
        info["inverted"] = True
    c, w = _first(ds.get("WindowCenter")), _first(ds.get("WindowWidth"))
    if c is not None and w is not None and w > 0:
        info["window"] = (c, w)
    return DicomSlice(values, info)
