"""Real and malformed files for the upload tests, made on the fly from what ships inside packages."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np


def pydicom_file(name: str) -> Path:
    import pydicom.data

    return Path(os.path.dirname(pydicom.data.__file__)) / "test_files" / name


def without_pixels(name: str) -> bytes:
    """A real image file of pydicom's with its pixel data removed (an image SOP class holding no image)."""
    import pydicom

    ds = pydicom.dcmread(pydicom_file(name))
    del ds.PixelData
    buf = io.BytesIO()
    ds.save_as(buf)
    return buf.getvalue()


def png(array: np.ndarray, **kw) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG", **kw)
    return buf.getvalue()


def photo(name: str = "chelsea") -> np.ndarray:
    import skimage.data

    return getattr(skimage.data, name)()


def jpeg_with_orientation(array: np.ndarray, orientation: int = 6) -> bytes:
    from PIL import Image

    im = Image.fromarray(array)
    exif = im.getexif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    im.save(buf, format="JPEG", exif=exif.tobytes(), quality=95)
    return buf.getvalue()


def encode(array_or_image, fmt: str, **kw) -> bytes:
    from PIL import Image

    im = array_or_image if isinstance(array_or_image, Image.Image) else Image.fromarray(array_or_image)
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def huge_png_header(width: int = 5000, height: int = 5000) -> bytes:
    """A valid PNG of a blank image larger than the pixel limit (it compresses to a few KB)."""
    from PIL import Image

    return encode(Image.new("L", (width, height)), "PNG")


def animated_gif() -> bytes:
    from PIL import Image

    frames = [Image.new("L", (32, 32), v) for v in (0, 128, 255)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buf.getvalue()


def malformed() -> dict[str, tuple[str, bytes, str]]:
    """name -> (file name, bytes, words the one-sentence refusal must contain)."""
    good = png((np.arange(64 * 64) % 251).astype(np.uint8).reshape(64, 64))
    return {
        "zero-byte": ("empty.png", b"", "empty"),
        "renamed-text": ("notes.png", b"patient notes, not an image\n" * 20, "not a readable image"),
        "corrupt": ("corrupt.png", good[:40] + bytes(200) + good[240:], "not a readable image"),
        "truncated": ("truncated.png", good[: len(good) // 2], "not a readable image"),
        "one-pixel": ("dot.png", png(np.zeros((1, 1), np.uint8)), "only 1x1"),
        "too-large": ("huge.png", huge_png_header(), "limit"),
        "animated-gif": ("anim.gif", animated_gif(), "animated"),
        "dicom-no-pixels": ("ct.dcm", without_pixels("CT_small.dcm"), "no pixel data"),
        "dicom-rt-plan": ("plan.dcm", pydicom_file("rtplan.dcm").read_bytes(), "RT Plan"),
        "dicom-truncated": ("cut.dcm", pydicom_file("MR_truncated.dcm").read_bytes(), "truncated"),
    }


def class_tree(root: Path, layout: dict[str, int], size: int = 24, seed: int = 0, suffix: str = ".png") -> None:
    """Write ``layout`` = {"relative/class/folder": count} of small images whose brightness encodes the class."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for k, (rel, count) in enumerate(sorted(layout.items())):
        d = root / rel
        d.mkdir(parents=True, exist_ok=True)
        for i in range(count):
            a = np.clip(rng.normal(40 + 60 * (k % 4), 10, (size, size)), 0, 255).astype(np.uint8)
            Image.fromarray(a).convert("RGB" if suffix == ".jpg" else "L").save(d / f"img_{i:03d}{suffix}")


BRAIN_LAYOUT = {f"{split}/{c}": n for split, n in (("Training", 10), ("Testing", 4))
                for c in ("glioma", "meningioma", "notumor", "pituitary")}
IQ_LAYOUT = {f"The IQ-OTHNCCD lung cancer dataset/{c}": 10 for c in ("Bengin cases", "Malignant cases", "Normal cases")}


def class_tree_zip(src: Path, layout: dict[str, int]) -> bytes:
    """``class_tree(src, layout)`` packed as a zip (paths relative to ``src``), as a user uploads a dataset."""
    import zipfile

    class_tree(src, layout)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for p in src.rglob("*.png"):
            z.write(p, p.relative_to(src).as_posix())
    return buf.getvalue()
