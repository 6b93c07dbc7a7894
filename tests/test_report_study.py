"""A case report of one slice of a study: it says which slice, its command regenerates that slice, and no
identifier of any file of the series reaches it."""

import re

import numpy as np

from tests import volumes


def test_report_of_a_study_slice_names_the_slice_and_leaks_nothing(tmp_path, capsys):
    from xai_core.cli import main
    from xai_core.data.study import read_volume
    from xai_core.report.scans import scan_from_bytes

    data = volumes.zipped(volumes.brain_series(6, lesion=range(2, 4)))
    study = tmp_path / "DOE_JANE_study.zip"
    study.write_bytes(data)
    assert main(["report", "--model", "brain-basic-cnn", "--image", str(study), "--slice", "axial:3",
                 "--methods", "grad-cam", "--top-k", "1", "--out", str(tmp_path / "r.html")]) == 0
    html = (tmp_path / "r.html").read_text()
    assert "Axial slice 3 of 6 of the study." in html
    command = re.search(r"<pre>(.*?)</pre>", html, re.S)[1]
    assert "--slice axial:3" in command and re.search(r"scan-[0-9a-f]{12}\.zip", command)
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)
    for leak in [*volumes.IDENTIFIERS.values(), "Doe", "DOE_JANE", volumes.SERIES_UID, volumes.STUDY_UID]:
        assert leak not in text, leak
    import xai_core as xc

    scan, _, found = scan_from_bytes(xc.load_model("brain-basic-cnn"), data, "s.zip", slice=("axial", 2))
    vol = read_volume(data, "s.zip")
    np.testing.assert_array_equal(scan.original, vol.slice(2).render())
    assert "Doe^Jane" in found.values() and f"{volumes.SERIES_UID}.6" in found.values()  # the guard knows all
