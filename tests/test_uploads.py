"""Single images and DICOM slices: real files decode correctly, malformed ones get one clear sentence."""

import io

import numpy as np
import pytest

import xai_core as xc
from tests import files
from xai_core.data.dicom import WINDOW_PRESETS, read_dicom
from xai_core.data.images import read_image, read_scan


def test_real_ct_slice_is_rescaled_to_hounsfield_units_and_windowed():
    import pydicom

    raw = files.pydicom_file("CT_small.dcm").read_bytes()
    img, sl = read_scan(raw, "CT_small.dcm")
    stored = pydicom.dcmread(io.BytesIO(raw)).pixel_array.astype(float)
    np.testing.assert_allclose(sl.values, stored * 1.0 - 1024.0)  # slope 1, intercept -1024
    assert img.shape == (128, 128, 1) and img.dtype == np.uint8
    assert sl.file_window() is None and img.min() == 0 and img.max() == 255  # full range when the file has none
    lung = sl.render(WINDOW_PRESETS["lung"])
    c, w = WINDOW_PRESETS["lung"]
    expect = (np.clip((sl.values - (c - w / 2)) / w, 0, 1) * 255 + 0.5).astype(np.uint8)
    np.testing.assert_array_equal(lung[..., 0], expect)
    assert not np.array_equal(lung, sl.render(WINDOW_PRESETS["bone"]))


def test_mr_slice_uses_the_window_in_the_file_and_compressed_copies_agree():
    img, sl = read_scan(files.pydicom_file("MR_small.dcm"))
    assert sl.file_window() == (600.0, 1600.0) and img.shape == (64, 64, 1)
    rle, _ = read_scan(files.pydicom_file("MR_small_RLE.dcm"))  # RLE lossless: decoded by pydicom itself
    np.testing.assert_array_equal(img, rle)
    big, _ = read_scan(files.pydicom_file("MR_small_bigendian.dcm"))
    np.testing.assert_array_equal(img, big)


def test_monochrome1_is_inverted_so_bright_means_dense():
    import pydicom

    ds = pydicom.dcmread(files.pydicom_file("MR_small.dcm"))
    ds.PhotometricInterpretation = "MONOCHROME1"
    buf = io.BytesIO()
    ds.save_as(buf)
    inverted, sl = read_scan(buf.getvalue(), "m1.dcm")
    normal, _ = read_scan(files.pydicom_file("MR_small.dcm"))
    assert sl.info["inverted"]
    np.testing.assert_allclose(inverted.astype(int), 255 - normal.astype(int), atol=1)  # rounding only
    assert np.corrcoef(inverted.ravel(), normal.ravel())[0, 1] < -0.99


def test_a_file_no_plug_in_can_decode_is_named_with_what_to_do():
    # JPEG-lossy.dcm is non-conforming (an invalid spectral-selection end in its scan header): every plug-in
    # refuses it; JPGExtended.dcm is pydicom's fixed copy and decodes.
    with pytest.raises(xc.ImageError, match=r"JPEG Extended .*1\.2\.840\.10008\.1\.2\.4\.51.*uncompressed"):
        read_scan(files.pydicom_file("JPEG-lossy.dcm"))


def test_pixel_limit_applies_before_any_decoding(monkeypatch):
    import pydicom
    from PIL import Image

    def boom(*a, **k):
        raise AssertionError("pixels were decoded")

    huge = files.huge_png_header()
    monkeypatch.setattr(Image.Image, "load", boom)
    with pytest.raises(xc.ImageError, match="not decoded"):
        read_image(huge)
    ds = pydicom.dcmread(files.pydicom_file("CT_small.dcm"))
    ds.Rows = ds.Columns = 6000
    buf = io.BytesIO()
    ds.save_as(buf)
    monkeypatch.setattr(pydicom.Dataset, "pixel_array", property(boom))
    with pytest.raises(xc.ImageError, match="not decoded"):
        read_dicom(buf.getvalue(), 4096 * 4096)


def test_exif_orientation_is_applied():
    cat = files.photo("chelsea")  # 300 x 451 RGB
    img = read_image(files.jpeg_with_orientation(cat, 6))  # "rotate 90 CW to display"
    assert img.shape == (451, 300, 3)
    plain = read_image(files.jpeg_with_orientation(cat, 1))
    assert plain.shape == (300, 451, 3)
    np.testing.assert_allclose(np.rot90(plain, -1).astype(float), img.astype(float), atol=40)


@pytest.mark.parametrize("fmt, mode", [("TIFF", "I;16"), ("TIFF", "L"), ("BMP", "RGB"), ("PNG", "P"),
                                       ("PNG", "RGBA"), ("JPEG", "CMYK"), ("PNG", "LA")])
def test_other_modes_are_normalised(fmt, mode):
    from PIL import Image

    camera = files.photo("camera")  # 512 x 512 grey
    if mode == "I;16":
        im = Image.fromarray((camera.astype(np.uint16) * 257))
    elif mode == "L":
        im = Image.fromarray(camera)
    else:
        im = Image.fromarray(files.photo("astronaut")).convert(mode)
    img = read_image(files.encode(im, fmt))
    assert img.dtype == np.uint8 and img.shape[:2] == (512, 512) and img.shape[2] in (1, 3)
    if mode == "I;16":  # 16-bit: stretched to 8 bits, order preserved
        assert img.shape[2] == 1 and np.corrcoef(img[..., 0].ravel(), camera.ravel())[0, 1] > 0.99


@pytest.mark.parametrize("case", sorted(files.malformed()))
def test_malformed_files_get_one_clear_sentence(case):
    name, data, words = files.malformed()[case]
    with pytest.raises(xc.ImageError) as err:
        read_scan(data, name)
    msg = str(err.value)
    assert words in msg and "\n" not in msg and msg.endswith(".") and "Traceback" not in msg
