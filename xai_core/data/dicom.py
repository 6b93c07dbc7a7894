"""DICOM slices via pydicom: modality rescale, windowing, MONOCHROME1, and limits before decoding.

Pixel values become physical units first (``RescaleSlope``/``Intercept``;
Hounsfield units for CT), then a window (centre/width) maps them to 0..255:
the window stored in the file, a preset, or the user's own. MONOCHROME1
images (where bright means low) are inverted so bright always means dense.
The header's rows x columns x frames is checked against the pixel limit
before any pixel data is decoded (and must be positive); compressed transfer
syntaxes decode through pydicom's pixel-data plug-ins (pylibjpeg with its
libjpeg, openjpeg and RLE plug-ins, and pyjpegls), and a file that still
cannot be decoded is refused with what to do about it. Objects that hold no
scan (RT Dose grids, RT Plans, structured reports, waveforms, presentation
states, segmentations) are refused by their SOP class in one sentence that
says what the file is. A multi-frame file is read one frame at a time
(``frame``, 0-based; ``info["frame_shown"]`` is the 1-based number). A file in
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


# What a non-image object is, matched on its SOP class name (PS3.4 Annex B) or, without one, its modality.
_NON_IMAGE = (
    (("RT Dose",), ("RTDOSE",), "an RT Dose object (a radiotherapy dose grid)"),
    (("RT Plan", "RT Ion Plan", "RT Beams", "RT Brachy"), ("RTPLAN",), "an RT Plan (radiotherapy treatment settings)"),
    (("RT Structure Set",), ("RTSTRUCT",), "an RT Structure Set (contours drawn on another scan)"),
    (("RT ",), ("RTRECORD",), "a radiotherapy record"),
    (("SR Storage", "Structured Report"), ("SR",), "a structured report (text and measurements)"),
    (("Waveform",), ("ECG", "HD", "EPS", "RESP"), "a waveform recording (such as an ECG)"),
    (("Presentation State",), ("PR",), "a presentation state (display settings for other images)"),
    (("Segmentation",), ("SEG",), "a segmentation (a mask drawn on another scan)"),
    (("Key Object Selection",), ("KO",), "a key-object selection (a list of other images)"),
    (("Encapsulated",), ("DOC",), "an encapsulated document (PDF or CDA)"),
    (("Raw Data", "Spatial Registration", "Spatial Fiducials", "Deformable"), ("REG", "FID"),
     "a registration or raw-data object"),
)


def non_image_kind(ds) -> str | None:
    """What ``ds`` is, in words, when it is a DICOM object that holds no scan to explain; None for images."""
    sop = ds.get("SOPClassUID")
    try:
        sop_name = str(sop.name) if sop is not None else ""
    except Exception:
        sop_name = ""
    modality = str(ds.get("Modality", "") or "").upper()
    for names, modalities, what in _NON_IMAGE:
        if any(n in sop_name for n in names) or (not sop_name.endswith("Image Storage") and modality in modalities):
            return what
    return None


def refuse_non_image(ds) -> None:
    what = non_image_kind(ds)
    if what:
        raise ImageError(f"This DICOM file is {what}, not a scan, so there is nothing to explain; upload an "
                         f"image such as a CT, MR or X-ray slice.")


def _undecodable(ts: str) -> ImageError:
    from pydicom.uid import UID

    name = UID(ts).name if ts else "an unknown transfer syntax"
    return ImageError(f"The pixel data of this DICOM file ({name}, {ts or 'no UID'}) could not be decoded: it is "
                      f"damaged or not standard-conforming; export it again from the scanner or PACS, uncompressed "
                      f"(Explicit VR Little Endian), or convert it with dcmdjpeg or gdcmconv --raw, and upload "
                      f"that copy.")


def open_dicom(data: bytes, stop_before_pixels: bool = False):
    """The dataset of one DICOM file (pixels not decoded), refused in one sentence if unreadable or not a scan."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    check_inflated_size(data)
    try:
        ds = pydicom.dcmread(io.BytesIO(data), force=data[128:132] != b"DICM", stop_before_pixels=stop_before_pixels)
    except (InvalidDicomError, EOFError, OSError, ValueError, TypeError, KeyError, AttributeError, zlib.error,
            RecursionError, MemoryError) as exc:
        raise ImageError(f"This file is not a readable DICOM file ({type(exc).__name__}).") from None
    refuse_non_image(ds)
    if not stop_before_pixels and not any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
        raise ImageError("This DICOM file holds no image (it has no pixel data); it may be a report or a plan.")
    return ds


def image_size(ds, max_pixels: int) -> tuple[int, int, int]:
    """(rows, columns, frames) from the header, refused when impossible or above ``max_pixels`` in all."""
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
    return rows, cols, frames


def read_dicom(data: bytes, max_pixels: int, frame: int | None = None) -> DicomSlice:
    ds = open_dicom(data)
    rows, cols, frames = image_size(ds, max_pixels)
    ts = str(getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", "") or "")
    index = frames // 2 if frame is None else int(frame)
    if not 0 <= index < frames:
        raise ImageError(f"This DICOM file has {frames} frames; frame {index + 1} does not exist.")
    arr = decode_frame(ds, index if frames > 1 else None, ts)
    info = {"modality": str(ds.get("Modality", "")), "photometric": str(ds.get("PhotometricInterpretation", "")),
            "transfer_syntax": ts, "frames": frames, "size": (rows, cols),
            "rescale": (_first(ds.get("RescaleSlope")) or 1.0, _first(ds.get("RescaleIntercept")) or 0.0)}
    if frames > 1:
        info["frame_shown"] = index + 1  # 1-based, as captions and viewers count frames
    return to_slice(arr, ds, info)


def decode_frame(ds, index: int | None, ts: str) -> np.ndarray:
    """One frame (``index``) or the whole pixel data of ``ds``, decoded by pydicom's plug-ins."""
    from pydicom.pixels import pixel_array

    try:
        return pixel_array(ds, index=index) if index is not None else ds.pixel_array
    except (NotImplementedError, RuntimeError):
        raise _undecodable(ts) from None
    except Exception as exc:  # truncated or inconsistent pixel data
        raise ImageError(f"The DICOM pixel data could not be decoded ({type(exc).__name__}); the file may be "
                         f"truncated.") from None


def to_slice(arr: np.ndarray, ds, info: dict) -> DicomSlice:
    """A decoded frame as a ``DicomSlice``: palette and colour to RGB, grey to rescaled units with its window."""
    from pydicom.pixels import apply_modality_lut

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
