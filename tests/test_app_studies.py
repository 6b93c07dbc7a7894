"""Your scan with a study, in AppTest: a series zip opens on a slice slider in order, the slice on screen is
the one the model and the report get, and "Explain every slice" gives a map volume and its projection, exported as DICOM;
a multi-frame file gets a frame picker counted from 1."""

import io
import zipfile

import numpy as np
import pydicom
from streamlit.testing.v1 import AppTest

from tests import files, volumes
from tests.conftest import ROOT

TIMEOUT = 300


def _page():
    at = AppTest.from_file(str(ROOT / "pages/your_scan.py"), default_timeout=TIMEOUT)
    at.session_state["scan_method"] = "grad-cam"  # the method does not matter here; Grad-CAM is cheap
    return at.run()


def test_a_series_zip_browses_in_order_and_explains_every_slice():
    at = _page()
    data = volumes.zipped(volumes.brain_series(24))
    at.file_uploader(key="scan_upload").set_value(("study.zip", data, "application/zip")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("DICOM series: 24 axial slices of 128×128 · spacing 5 mm between slices, 1.5×1.5 mm" in c.value
               for c in at.caption)
    slider = next(s for s in at.slider if s.label == "Slice")
    slider.set_value(12).run()  # slice 12 of 24, numbered from 1
    assert not at.exception
    expected = volumes.brain_slices(24)[11]  # stored x4 in 12 bits, shown in the file's window (510, 1020)
    stored = at.session_state["uploaded_scan"]
    assert stored["slice"] == ("axial", 11)
    np.testing.assert_allclose(stored["image"][..., 0].astype(int), expected.astype(int), atol=1)
    assert any("axial slice 12 of 24" in c.value for c in at.caption)
    assert any("Most suspicious first (1 − p(no_tumor)): slice 1" in c.value for c in at.caption)
    at.slider(key="vol_range").set_value((10, 15)).run()
    at.button(key="vol_start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    maps = at.session_state["vol_last_maps"]
    assert list(maps.indices) == list(range(9, 15)) and maps.maps.shape == (6, 128, 128)
    assert maps.class_name == "glioma" and maps.mip().shape == (128, 128)
    titles = [str(c.proto.spec) for c in at.get("plotly_chart")]
    assert any("Maximum-intensity projection over 6 slices" in t for t in titles)
    # the case report of slice 12 carries the study: every slice scored, and the projection of these maps
    at.button(key="scan_report_build").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    html = at.session_state["scan_report_built"]["html"].decode()
    assert "Every axial slice of the study" in html and "12 (reported)" in html
    assert "Maximum-intensity projection over 6 slices: glioma" in html and "--slices 10-15 --slice-class glioma" in html
    # the map volume goes out as DICOM a PACS viewer opens, de-identified by default
    at.button(key="vol_dcm_build").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    blob, n_sc, has_pm = at.session_state["vol_dcm_zip"]
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        assert sorted(zf.namelist()) == ["PM_0001.dcm"] + [f"SC_{i:04d}.dcm" for i in range(10, 16)]
        sc = pydicom.dcmread(io.BytesIO(zf.read("SC_0012.dcm")))
    assert n_sc == 6 and has_pm and sc.PatientIdentityRemoved == "YES" and "Doe" not in str(sc.PatientName)


def test_a_multi_frame_file_gets_a_frame_picker_counted_from_one():
    at = _page()
    path = files.pydicom_file("SC_rgb_rle_2frame.dcm")
    at.file_uploader(key="scan_upload").set_value((path.name, path.read_bytes(), "application/dicom")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    frames = pydicom.dcmread(path).pixel_array
    for n in (1, 2):
        next(s for s in at.slider if s.label == "Frame").set_value(n).run()
        assert any(f"frame {n} of 2" in c.value for c in at.caption)
        np.testing.assert_array_equal(at.session_state["uploaded_scan"]["image"], frames[n - 1])


def test_a_non_image_dicom_object_is_refused_saying_what_it_is_and_a_series_of_files_opens():
    at = _page()
    path = files.pydicom_file("rtdose.dcm")
    at.file_uploader(key="scan_upload").set_value((path.name, path.read_bytes(), "application/dicom")).run()
    assert not at.exception
    assert any("RT Dose" in e.value and "not a scan" in e.value for e in at.error)
    # the page keeps working: several files of one series, given at once, open as one ordered study
    series = [(n, d, "application/dicom") for n, d in volumes.brain_series(5, lesion=())]
    at.file_uploader(key="scan_series").set_value(series).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("DICOM series: 5 axial slices" in c.value for c in at.caption)
    assert at.session_state["uploaded_scan"]["name"] == "series of 5 files.zip"



def test_a_flagged_slice_hides_its_own_answer_but_not_the_rest_of_the_study():
    """The out-of-domain gate belongs to one slice: on a noise slice the prediction and map are withheld, and
    the whole series stays open below, each slice with its own verdict (in the table and beside its map)."""
    at = _page()
    pixels = volumes.brain_slices(4, lesion=(1,))
    pixels[2] = np.random.default_rng(0).integers(0, 256, pixels[2].shape)  # slice 3: noise, no brain
    series = [(f"IM{i}.dcm", volumes.mr_file(pixels[i], i, -40.0 + 5 * i)) for i in range(4)]
    at.file_uploader(key="scan_upload").set_value(("study.zip", volumes.zipped(series), "application/zip")).run()
    next(s for s in at.slider if s.label == "Slice").set_value(3).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("hidden for this slice" in c.value for c in at.caption)
    assert not any(" says " in m.value for m in at.markdown)  # no prediction for the flagged slice
    assert any(s.value == "Every slice" for s in at.subheader)
    table = at.dataframe[0].value
    assert dict(zip(table["slice"], table["out of domain"])) == {1: False, 2: False, 3: True, 4: False}
    assert any("1 of 4 slices look outside" in w.value for w in at.warning)
    at.slider(key="vol_range").set_value((3, 4)).run()
    at.button(key="vol_start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert list(at.session_state["vol_last_maps"].indices) == [2, 3]
    at.select_slider(key="vol_map_slice").set_value(3).run()
    assert any("Slice 3 looks outside this model's training domain" in w.value for w in at.warning)
    at.select_slider(key="vol_map_slice").set_value(4).run()
    assert any("Slice 4 passed the out-of-domain check" in c.value for c in at.caption)
    assert any("includes 1 slice outside the training domain (3)" in c.value for c in at.caption)
    # back on an ordinary slice, its own prediction shows again
    next(s for s in at.slider if s.label == "Slice").set_value(2).run()
    assert any(" says " in m.value for m in at.markdown)


def test_maps_of_every_slice_made_in_bf16_say_so_and_are_kept_apart_from_fp32(monkeypatch):
    """bf16 is never silent (issue 27): the map volume of a session on OpenVINO bf16 carries the warning and
    its backend; after choosing fp32 the volume on screen still says it is bf16 until it is explained again,
    and that run reuses none of the bf16 slices."""
    monkeypatch.setenv("XAI_FORWARD_BACKEND", "openvino-bf16")
    at = AppTest.from_file(str(ROOT / "pages/your_scan.py"), default_timeout=TIMEOUT)
    at.session_state["scan_method"] = "occlusion"  # black-box: its passes run on the chosen backend
    at.session_state["scan_occlusion_window"] = 32
    at.session_state["scan_occlusion_stride"] = 32
    at.run()
    at.file_uploader(key="scan_upload").set_value(("study.zip", volumes.zipped(volumes.brain_series(4)),
                                                   "application/zip")).run()
    at.slider(key="vol_range").set_value((1, 2)).run()
    at.button(key="vol_start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    maps = at.session_state["vol_last_maps"]
    assert {e.backend for e in maps.explanations} == {"openvino-bf16"}
    assert any("bf16" in w.value and "fp32" in w.value and "maps" in w.value for w in at.warning)
    monkeypatch.setenv("XAI_FORWARD_BACKEND", "openvino")  # the session now asks for fp32
    at.run()
    assert not at.exception  # the volume on screen is still the bf16 one, and still says so
    assert any("single pixels can differ from the exact (fp32) maps" in w.value for w in at.warning)
    at.button(key="vol_start").click().run()  # a new request: nothing of the bf16 run is reused
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert {e.backend for e in at.session_state["vol_last_maps"].explanations} == {"openvino-fp32"}
    assert not any("single pixels can differ from the exact (fp32) maps" in w.value for w in at.warning)
