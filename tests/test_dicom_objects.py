"""DICOM as clinics have it: every standard transfer syntax decodes, non-image objects are refused by what
they are, and a multi-frame file shows the frame asked for (1-based in its caption)."""

import io

import numpy as np
import pytest

import xai_core as xc
from tests import files
from xai_core.data.dicom import read_dicom
from xai_core.data.images import read_scan

# One real file per compressed transfer syntax pydicom ships, with its uncompressed twin where one exists.
COMPRESSED = {
    "JPGExtended.dcm": None,  # JPEG Extended 12-bit (1.2.840.10008.1.2.4.51): Pillow cannot, libjpeg can
    "SC_rgb_jpeg_gdcm.dcm": None,  # JPEG Lossless SV1 (.4.70)
    "MR_small_jpeg_ls_lossless.dcm": "MR_small.dcm",  # JPEG-LS lossless (.4.80)
    "JPEGLSNearLossless_16.dcm": None,  # JPEG-LS near-lossless (.4.81)
    "MR_small_jp2klossless.dcm": "MR_small.dcm",  # JPEG 2000 lossless (.4.90)
    "693_J2KI.dcm": None,  # JPEG 2000 (.4.91)
    "MR_small_RLE.dcm": "MR_small.dcm",  # RLE lossless (.5)
    "SC_rgb_dcmtk_+eb+cy+n2.dcm": None,  # JPEG baseline YBR 4:2:2 (.4.50)
}


@pytest.mark.parametrize("name", sorted(COMPRESSED))
def test_every_standard_transfer_syntax_decodes(name):
    img, sl = read_scan(files.pydicom_file(name))
    assert img.dtype == np.uint8 and img.shape[2] in (1, 3) and img.std() > 1  # an image, not a blank
    twin = COMPRESSED[name]
    if twin:  # lossless: the same values as the uncompressed file
        np.testing.assert_array_equal(sl.values, read_scan(files.pydicom_file(twin))[1].values)


@pytest.mark.parametrize("name, what", [
    ("rtdose.dcm", "RT Dose"), ("rtdose_1frame.dcm", "RT Dose"), ("rtplan.dcm", "RT Plan"),
    ("rtstruct.dcm", "RT Structure Set"), ("test-SR.dcm", "structured report"),
    ("reportsi.dcm", "structured report"), ("waveform_ecg.dcm", "waveform"),
    ("liver_1frame.dcm", "segmentation")])
def test_non_image_objects_are_refused_in_one_sentence_saying_what_they_are(name, what):
    with pytest.raises(xc.ImageError) as err:
        read_scan(files.pydicom_file(name))
    msg = str(err.value)
    assert what in msg and "not a scan" in msg and msg.count(". ") == 0 and msg.endswith(".")


def test_a_presentation_state_is_refused_by_its_sop_class():
    import pydicom
    from pydicom.uid import UID

    ds = pydicom.dcmread(files.pydicom_file("MR_small.dcm"))
    ds.SOPClassUID = UID("1.2.840.10008.5.1.4.1.1.11.1")  # Grayscale Softcopy Presentation State Storage
    ds.Modality = "PR"
    buf = io.BytesIO()
    ds.save_as(buf)
    with pytest.raises(xc.ImageError, match="presentation state"):
        read_scan(buf.getvalue(), "ps.dcm")


def test_a_multi_frame_file_shows_the_frame_asked_for_counted_from_one():
    import pydicom

    path = files.pydicom_file("SC_rgb_rle_2frame.dcm")  # frame 1 is red-topped, frame 2 cyan-topped
    frames = pydicom.dcmread(path).pixel_array
    assert not np.array_equal(frames[0], frames[1])
    for index in (0, 1):
        img, sl = read_scan(path, frame=index)
        np.testing.assert_array_equal(img, frames[index])
        assert sl.info["frame_shown"] == index + 1 and sl.info["frames"] == 2
    _, middle = read_scan(path)
    assert middle.info["frame_shown"] == 2  # the default is the middle frame (frames // 2), named 1-based
    with pytest.raises(xc.ImageError, match="2 frames; frame 3 does not exist"):
        read_dicom(path.read_bytes(), 10**7, frame=2)
