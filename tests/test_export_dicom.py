"""Explanations as DICOM: the Secondary Capture and Parametric Map read back with pydicom and highdicom,
reference the source series, keep its geometry, carry the values with their unit, and hold no identifier
of the source unless asked to."""

import numpy as np
import pytest

import xai_core as xc
from tests import volumes
from xai_core import slices
from xai_core.data.study import read_volume
from xai_core.export.deid import new_uid
from xai_core.export.dicom import export_dicom

IDX = [1, 2, 3]


@pytest.fixture(scope="module")
def explained(brain_model):
    members = volumes.brain_series(6, lesion=range(2, 4), shuffle=False)
    vol = read_volume(volumes.zipped(members), "study.zip")
    maps = slices.explain_slices(brain_model, slices.slice_images(vol, IDX), IDX, "grad-cam")
    return members, vol, maps


def _source_identifiers(members) -> set[str]:
    import io

    import pydicom

    found = set(volumes.IDENTIFIERS.values())
    for _, data in members:
        ds = pydicom.dcmread(io.BytesIO(data))
        found |= {ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID, ds.FrameOfReferenceUID}
    return found


def _all_values(ds) -> list[str]:
    out = [str(el.value) for el in ds.iterall() if el.VR not in ("OB", "OW", "OF", "OD", "SQ")]
    if getattr(ds, "file_meta", None) is not None:
        out += [str(el.value) for el in ds.file_meta]
    return out


def test_exported_secondary_capture_and_parametric_map_read_back_de_identified(explained, tmp_path):
    import highdicom as hd
    import pydicom

    members, vol, maps = explained
    out = export_dicom(vol, maps, tmp_path, include_identifiers=False)
    assert [p.name for p in out["secondary_capture"]] == ["SC_0002.dcm", "SC_0003.dcm", "SC_0004.dcm"]
    src = {h.SOPInstanceUID: h for h in vol.headers}
    leaks = _source_identifiers(members)
    series_uids = set()
    for i, path in zip(IDX, out["secondary_capture"]):
        sc = pydicom.dcmread(path)
        assert sc.SOPClassUID.name == "Secondary Capture Image Storage" and sc.BurnedInAnnotation == "YES"
        assert sc.pixel_array.shape == (128, 128, 3) and sc.PhotometricInterpretation == "RGB"
        # geometry of the source slice
        assert [float(v) for v in sc.ImagePositionPatient] == list(vol.positions[i])
        assert [float(v) for v in sc.ImageOrientationPatient] == [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        assert [float(v) for v in sc.PixelSpacing] == [1.5, 1.5]
        # references: the (de-identified) source series and slice, under the same new study
        assert sc.ReferencedSeriesSequence[0].SeriesInstanceUID == new_uid(volumes.SERIES_UID)
        assert sc.SourceImageSequence[0].ReferencedSOPInstanceUID == new_uid(f"{volumes.SERIES_UID}.{i + 1}")
        assert sc.StudyInstanceUID == new_uid(volumes.STUDY_UID)
        assert sc.FrameOfReferenceUID == new_uid(volumes.FOR_UID)
        assert sc.PatientIdentityRemoved == "YES" and str(sc.PatientName) == "ANONYMOUS^"
        values = _all_values(sc)
        assert not [v for v in values for s in leaks if s in v], "a source identifier leaked"
        series_uids.add(sc.SeriesInstanceUID)
    assert len(series_uids) == 1 and new_uid(volumes.SERIES_UID) not in series_uids  # one new series
    # the parametric map: raw values with their unit, one frame per slice at the slice's position
    pm = hd.pm.ParametricMap.from_dataset(pydicom.dcmread(out["parametric_map"]))
    assert pm.SOPClassUID.name == "Parametric Map Storage" and int(pm.NumberOfFrames) == 3
    rwvm = pm.SharedFunctionalGroupsSequence[0].RealWorldValueMappingSequence[0]
    assert rwvm.MeasurementUnitsCodeSequence[0].CodeValue == "1" and "grad-cam" in rwvm.LUTExplanation
    frames = pm.pixel_array
    assert frames.dtype == np.float32 and frames.shape == (3, 128, 128)
    seen = []
    for k, fg in enumerate(pm.PerFrameFunctionalGroupsSequence):  # highdicom orders frames along the normal
        pos = [float(v) for v in fg.PlanePositionSequence[0].ImagePositionPatient]
        i = next(i for i in IDX if list(vol.positions[i]) == pos)  # every frame sits on an explained slice
        np.testing.assert_allclose(frames[k], maps.maps[IDX.index(i)], rtol=1e-6)  # its raw values, unresized
        ref = fg.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
        assert ref == new_uid(f"{volumes.SERIES_UID}.{i + 1}")  # derived from that slice
        seen.append(i)
    assert sorted(seen) == IDX
    shared = pm.SharedFunctionalGroupsSequence[0]
    assert [float(v) for v in shared.PixelMeasuresSequence[0].PixelSpacing] == [1.5, 1.5]
    assert pm.ReferencedSeriesSequence[0].SeriesInstanceUID == new_uid(volumes.SERIES_UID)
    raw = out["parametric_map"].read_bytes() + b"".join(p.read_bytes() for p in out["secondary_capture"])
    assert not [s for s in leaks if s.encode() in raw]
    assert len(src) == 6


def test_with_identifiers_asked_for_the_export_files_under_the_source_study(explained, tmp_path):
    import pydicom

    _, vol, maps = explained
    out = export_dicom(vol, maps, tmp_path, include_identifiers=True)
    sc = pydicom.dcmread(out["secondary_capture"][0])
    assert str(sc.PatientName) == "Doe^Jane" and sc.StudyInstanceUID == volumes.STUDY_UID
    assert sc.ReferencedSeriesSequence[0].SeriesInstanceUID == volumes.SERIES_UID
    assert sc.SeriesInstanceUID != volumes.SERIES_UID  # still a new series of its own
    pm = pydicom.dcmread(out["parametric_map"])
    assert pm.ReferencedSeriesSequence[0].SeriesInstanceUID == volumes.SERIES_UID


def test_a_nifti_source_cannot_be_exported_as_dicom_and_says_why(tmp_path):
    vol = read_volume(volumes.nifti(np.zeros((8, 8, 3), np.int16), np.eye(4)), "v.nii.gz")
    maps = slices.SliceMaps(np.array([0]), np.zeros((1, 8, 8)), "glioma", "grad-cam", "margin", "")
    with pytest.raises(xc.InputError, match="needs a DICOM source .*NIfTI"):
        export_dicom(vol, maps, tmp_path)


def test_cli_export_dicom_writes_both_objects(explained, tmp_path, capsys):
    from xai_core.cli import main

    members, _, _ = explained
    study = tmp_path / "study.zip"
    study.write_bytes(volumes.zipped(members))
    assert main(["export-dicom", "--model", "brain-basic-cnn", "--image", str(study), "--slices", "2-4",
                 "--method", "grad-cam", "--out", str(tmp_path / "out")]) == 0
    assert "wrote 3 Secondary Capture file(s) and PM_0001.dcm" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["PM_0001.dcm", "SC_0002.dcm", "SC_0003.dcm",
                                                                   "SC_0004.dcm"]
