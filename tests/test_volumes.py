"""Studies as they come: a DICOM series (files or a zip), a multi-frame file and a NIfTI volume open as one
ordered volume with its geometry; inconsistent or oversized ones are refused in one sentence."""

import gzip

import numpy as np
import pytest

import xai_core as xc
from tests import files, volumes
from xai_core.data.series import read_series
from xai_core.data.study import read_volume


@pytest.fixture(scope="module")
def series():
    return volumes.brain_series(24)


def test_a_24_slice_series_zip_opens_in_order_with_its_spacing(series):
    vol = read_volume(volumes.zipped(series), "study.zip")
    in_order = [n for n, _ in volumes.brain_series(24, shuffle=False)]
    assert [n for n, _ in series] != in_order and sorted(in_order) != in_order  # neither upload nor name order
    np.testing.assert_array_equal(vol.values, volumes.brain_slices(24).astype(np.float32) * 4)
    assert vol.spacing == (5.0, 1.5, 1.5) and vol.planes() == ["axial", "coronal", "sagittal"]
    np.testing.assert_allclose(vol.positions[:, 2], -40.0 + 5.0 * np.arange(24))
    assert vol.info["series_uid"] == volumes.SERIES_UID and len(vol.info["sop_instance_uids"]) == 24
    assert vol.info["sop_instance_uids"][0].endswith(".1") and vol.info["window"] == (510.0, 1020.0)
    sl = vol.slice(11)
    assert sl.info["slice"] == 12 and sl.info["slices"] == 24 and sl.render().shape == (128, 128, 1)
    coronal = vol.slice(64, "coronal")  # 24 slices x 5 mm over 1.5 mm pixels: 80 rows, head up
    assert coronal.values.shape == (80, 128)
    np.testing.assert_allclose(coronal.values[-1], vol.values[0, 64])  # the lowest slice at the bottom
    # several files uploaded at once read the same as the zip
    np.testing.assert_array_equal(read_series(list(reversed(series))).values, vol.values)


def test_order_comes_from_positions_even_when_instance_numbers_disagree():
    import io

    import pydicom

    members = []
    for name, data in volumes.brain_series(6, lesion=(), shuffle=False):
        ds = pydicom.dcmread(io.BytesIO(data))
        ds.InstanceNumber = 100 - ds.InstanceNumber  # numbered backwards
        buf = io.BytesIO()
        ds.save_as(buf)
        members.append((name, buf.getvalue()))
    vol = read_series(members)
    assert np.all(np.diff(vol.positions[:, 2]) == 5.0)


def _with(series, i, **changes):
    import io

    import pydicom

    name, data = series[i]
    ds = pydicom.dcmread(io.BytesIO(data))
    for k, v in changes.items():
        setattr(ds, k, v)
    buf = io.BytesIO()
    ds.save_as(buf)
    return series[:i] + [(name, buf.getvalue())] + series[i + 1:]


@pytest.mark.parametrize("problem, words", [
    ("duplicate", "same position"), ("missing", "missing"), ("sizes", "mixes image sizes"),
    ("orientation", "not all oriented the same way")])
def test_an_inconsistent_series_is_refused_in_one_sentence_naming_the_problem(problem, words):
    s = volumes.brain_series(6, lesion=(), shuffle=False)
    if problem == "duplicate":
        s = _with(s, 3, ImagePositionPatient=[-96.0, -96.0, -40.0 + 2 * 5.0])
    elif problem == "missing":
        s = s[:3] + s[4:]
    elif problem == "sizes":
        small = volumes.mr_file(np.zeros((64, 64), np.uint8), 2, -30.0)
        s = s[:2] + [("small.dcm", small)] + s[3:]
    else:
        s = _with(s, 2, ImageOrientationPatient=[1.0, 0.0, 0.0, 0.0, 0.0, -1.0])
    with pytest.raises(xc.ImageError) as err:
        read_series(s)
    msg = str(err.value)
    assert words in msg and msg.endswith(".") and "\n" not in msg


def test_volume_limits_apply_from_the_headers_before_decoding(monkeypatch, series):
    monkeypatch.setenv("XAI_MAX_VOLUME_VOXELS", str(20 * 128 * 128))

    def boom(*a, **k):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr("xai_core.data.series.decode_frame", boom)
    with pytest.raises(xc.ImageError, match="393,216 voxels .*not decoded"):
        read_volume(volumes.zipped(series), "study.zip")
    # a NIfTI header declaring 1000^3 voxels in a few kB of gzip is refused before its data is inflated
    bomb = volumes.nifti(np.zeros((2, 2, 2), np.int16), np.eye(4), gz=False)
    import nibabel as nib

    hdr = nib.Nifti1Header.from_fileobj(__import__("io").BytesIO(bomb[:348]))
    hdr.set_data_shape((1000, 1000, 1000))
    with pytest.raises(xc.ImageError, match="1,000,000,000 voxels"):
        read_volume(gzip.compress(hdr.binaryblock + b"\0" * 4 + bomb[352:]), "bomb.nii.gz")


def test_a_nifti_volume_opens_axially_with_nibabels_canonical_pixels():
    import nibabel as nib

    rng = np.random.default_rng(0)
    data = rng.integers(0, 1000, (20, 16, 12)).astype(np.int16)
    # stored as L-P-S... in another axis order: voxel axes run (superior, left, anterior)
    affine = np.array([[0, -1.2, 0, 30], [0, 0, 0.9, -20], [2.5, 0, 0, -10], [0, 0, 0, 1]], float)
    img = nib.Nifti1Image(data, affine)
    canonical = nib.as_closest_canonical(img).get_fdata()
    for gz in (True, False):
        vol = read_volume(volumes.nifti(data, affine, gz=gz), "brain.nii.gz" if gz else "brain.nii")
        assert vol.values.shape == (canonical.shape[2], canonical.shape[1], canonical.shape[0])
        for k in (0, 5, canonical.shape[2] - 1):  # anterior up, the patient's right on the left
            np.testing.assert_array_equal(vol.values[k], canonical[::-1, ::-1, k].T)
        assert vol.acquired_plane() == "axial" and vol.spacing == pytest.approx((2.5, 0.9, 1.2))
    np.testing.assert_allclose(np.diff(vol.positions[:, 2]), 2.5)  # slice 0 is the lowest


def test_a_multi_frame_file_is_a_volume_of_its_frames():
    import pydicom

    path = files.pydicom_file("examples_ybr_color.dcm")  # 30-frame ultrasound cine, JPEG baseline YBR
    frames = pydicom.dcmread(path).pixel_array
    vol = read_volume(path.read_bytes(), "cine.dcm")
    assert len(vol) == 30 and vol.is_colour and vol.planes() == ["acquired"]
    np.testing.assert_array_equal(vol.slice(7).values, frames[7])
    with pytest.raises(xc.ImageError, match="30 acquired slices; slice 31 does not exist"):
        vol.slice(30)
