"""Reading single images safely, and adapting them to a model's input.

Limits apply before decoding: Pillow reads only the header on ``open``, so
we check the pixel count first and never let it decode a bomb. Pillow's own
guard is too loose (it raises only above 2x 89 MP) and some of its guards
raise ``ValueError``, so every failure is caught and turned into one
sentence for the user.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np

from ..errors import ImageError

MAX_BYTES = 64 * 1024 * 1024
MIN_SIDE = 8


def image_hash(image: np.ndarray) -> str:
    a = np.ascontiguousarray(image)
    h = hashlib.sha256(f"{a.dtype}|{a.shape}|".encode())
    h.update(a.tobytes())
    return h.hexdigest()


def _read_bytes(source: str | Path | bytes) -> bytes:
    """The file's bytes, refusing empty files and files over ``MAX_BYTES`` (a path is measured before it is read)."""
    if isinstance(source, bytes):
        data = source
    else:
        try:
            size = Path(source).stat().st_size
            if size > MAX_BYTES:
                raise ImageError(f"The file is {size / 2**20:.0f} MB; the limit is {MAX_BYTES // 2**20} MB.")
            data = Path(source).read_bytes()
        except OSError as exc:
            raise ImageError(f"Could not read the file: {exc.strerror or exc}.") from None
    if not data:
        raise ImageError("The file is empty (0 bytes).")
    if len(data) > MAX_BYTES:
        raise ImageError(f"The file is {len(data) / 2**20:.0f} MB; the limit is {MAX_BYTES // 2**20} MB.")
    return data


def _check_side(w: int, h: int) -> None:
    if min(w, h) < MIN_SIDE:
        raise ImageError(f"The image is only {w}x{h} pixels; at least {MIN_SIDE}x{MIN_SIDE} is needed.")


def read_image(source: str | Path | bytes, max_pixels: int | None = None) -> np.ndarray:
    """Decode a PNG/JPEG/TIFF/BMP into a (H, W, C) uint8 array (C is 1 or 3)."""
    from .. import config

    return _decode(_read_bytes(source), config.max_pixels() if max_pixels is None else max_pixels)


def _decode(data: bytes, max_pixels: int) -> np.ndarray:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
            if w * h > max_pixels:
                raise ImageError(
                    f"The image is {w}x{h} pixels; the limit is {max_pixels:,} pixels, so it was not decoded."
                )
            _check_side(w, h)
            if getattr(im, "n_frames", 1) > 1:
                raise ImageError(f"This is an animated or multi-page image ({im.n_frames} frames); "
                                 f"upload a single still image.")
            im = ImageOps.exif_transpose(im)
            return _to_array(im)
    except ImageError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageError(f"This file is not a readable image ({type(exc).__name__}).") from None


def read_scan(source: str | Path | bytes, filename: str = "", window: tuple[float, float] | None = None,
              max_pixels: int | None = None, frame: int | None = None):
    """Any supported single image or DICOM slice -> ((H, W, C) uint8, DicomSlice or None).

    DICOM files are recognised by their preamble or a ``.dcm`` name; ``window`` (centre, width) overrides
    the file's window; ``frame`` (0-based) picks a frame of a multi-frame file (default: the middle one).
    Everything else is decoded as ``read_image`` does.
    """
    from .. import config
    from .dicom import is_dicom, read_dicom

    max_pixels = config.max_pixels() if max_pixels is None else max_pixels
    data = _read_bytes(source)
    filename = filename or ("" if isinstance(source, bytes) else Path(source).name)
    if is_dicom(data, filename):
        sl = read_dicom(data, max_pixels, frame)
        img = sl.render(window)
        _check_side(img.shape[1], img.shape[0])
        return img, sl
    return _decode(data, max_pixels), None


def _to_array(im) -> np.ndarray:
    from PIL import Image

    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        a = np.asarray(im, np.float64)
        lo, hi = np.percentile(a, [0.5, 99.5]) if a.size else (0, 1)
        a = np.clip((a - lo) / max(hi - lo, 1e-9), 0, 1) * 255
        return (a + 0.5).astype(np.uint8)[..., None]
    if im.mode in ("L", "1"):
        return np.asarray(im.convert("L"), np.uint8)[..., None]
    if im.mode in ("LA", "La"):
        return np.asarray(im.convert("L"), np.uint8)[..., None]
    if im.mode == "P":  # palette: through RGBA so a transparent index does not become a colour
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "RGBa"):  # composite on black, the background of every scan
        bg = Image.new("RGBA", im.size, (0, 0, 0, 255))
        im = Image.alpha_composite(bg, im.convert("RGBA"))
    return np.asarray(im.convert("RGB"), np.uint8)


def adapt_image(image: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Resize and convert grey<->RGB so ``image`` fits (H, W, C); returns float32 0..255."""
    from PIL import Image

    a = np.asarray(image)
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[-1] not in (1, 3, 4):
        raise ImageError(f"An image of shape {a.shape} cannot be used; expected height x width x 1, 3 or 4.")
    if a.shape[-1] == 4:
        a = a[..., :3]
    h, w, c = shape
    if a.shape[:2] != (h, w):
        a8 = np.clip(a, 0, 255).astype(np.uint8)
        pil = Image.fromarray(a8[..., 0] if a8.shape[-1] == 1 else a8)
        a = np.asarray(pil.resize((w, h), Image.BILINEAR))
        if a.ndim == 2:
            a = a[..., None]
    a = a.astype(np.float32)
    if a.shape[-1] == 1 and c == 3:
        a = np.repeat(a, 3, axis=-1)
    elif a.shape[-1] == 3 and c == 1:
        a = (a @ np.array([0.299, 0.587, 0.114], np.float32))[..., None]
    return a
