"""A case report of one slice of a study: it says which slice, its command regenerates that slice, and no
identifier of any file of the series reaches it."""

import base64
import json
import re
import shlex

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
    text = without_library(html)
    for leak in [*volumes.IDENTIFIERS.values(), "Doe", "DOE_JANE", volumes.SERIES_UID, volumes.STUDY_UID]:
        assert leak not in text, leak
    import xai_core as xc

    scan, _, found = scan_from_bytes(xc.load_model("brain-basic-cnn"), data, "s.zip", slice=("axial", 2))
    vol = read_volume(data, "s.zip")
    np.testing.assert_array_equal(scan.original, vol.slice(2).render())
    assert "Doe^Jane" in found.values() and f"{volumes.SERIES_UID}.6" in found.values()  # the guard knows all


def without_library(html: str) -> str:
    """The report without the figures' PNG data and the inlined plotly.js (a fixed third-party file whose
    code holds words such as "Doe"): what is left is what the report itself says."""
    html = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)
    return re.sub(r"<script>/\*\*\s*\* plotly\.js v.*?</script>", "", html, flags=re.S)


def plotly_figures(html: str) -> list[list[dict]]:
    """The traces of every interactive figure, read back from the ``Plotly.newPlot(id, traces, ...)`` calls,
    with Plotly's base64 typed arrays (``{"dtype", "bdata", "shape"}``) decoded to numpy arrays."""
    def decoded(v):
        if isinstance(v, dict) and "bdata" in v:
            a = np.frombuffer(base64.b64decode(v["bdata"]), np.dtype(v["dtype"]))
            return a.reshape([int(n) for n in str(v["shape"]).split(",")]) if "shape" in v else a
        return {k: decoded(x) for k, x in v.items()} if isinstance(v, dict) else v

    out, decoder = [], json.JSONDecoder()
    for m in re.finditer(r'Plotly\.newPlot\(\s*"[^"]+",\s*', html):
        traces, _ = decoder.raw_decode(html, m.end())
        out.append([decoded(t) for t in traces])
    return out


def test_a_study_report_plots_every_slice_marks_the_reported_one_and_projects_the_maps(tmp_path):
    """Item 5 of the studies issue: the case report of a slice shows the model along the whole series (the
    reported slice marked, the ranked table, the out-of-domain check per slice) and the projection of the
    explained slices' maps, interactive in the HTML and static in the PDF; its command rebuilds it."""
    import pypdf

    import xai_core as xc
    from xai_core.cli import main
    from xai_core.data.study import read_volume

    data = volumes.zipped(volumes.brain_series(8, lesion=range(2, 5)))  # glioma on slices 3-5 (from 1)
    study = tmp_path / "DOE_JANE_study.zip"
    study.write_bytes(data)
    args = ["report", "--model", "brain-basic-cnn", "--image", str(study), "--slice", "axial:3", "--slices", "2-4",
            "--methods", "grad-cam", "--top-k", "1"]
    assert main(args + ["--out", str(tmp_path / "r.html"), "--out", str(tmp_path / "r.pdf")]) == 0
    html = (tmp_path / "r.html").read_text()

    # interactive in the HTML, with plotly.js inlined once and nothing fetched from anywhere
    assert html.count("plotly.js v") == 1
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", without_library(html))
    curves, mip = plotly_figures(html)
    lm = xc.load_model("brain-basic-cnn")
    vol = read_volume(data, "s.zip")
    window = (510.0, 1020.0)  # the file's own window, the report's default
    expected = lm.predict_proba(np.stack([lm.prepare(vol.slice(i).render(window)) for i in range(8)]))
    glioma = next(t for t in curves if t.get("name") == "p(glioma)")
    assert list(glioma["x"]) == list(range(1, 9))
    np.testing.assert_allclose(glioma["y"], expected[:, 0], atol=1e-5)
    assert [i + 1 for i in np.flatnonzero(np.asarray(glioma["y"]) > 0.5)] == [3, 4, 5]  # the lesion, found
    assert any(t.get("name") == "out-of-domain score" and len(t["y"]) == 8 for t in curves)
    assert "reported slice 3" in html
    # the projection is the largest positive evidence for glioma over slices 2-4, each explained on its own
    heat = next(t for t in mip if t["type"] == "heatmap")
    maps = [xc.explain(lm, lm.prepare(vol.slice(i).render(window)), method="grad-cam", classes=["glioma"])
            for i in (1, 2, 3)]
    np.testing.assert_allclose(np.asarray(heat["z"], float),
                               np.max([np.maximum(e.values[0][..., 0], 0) for e in maps], 0), atol=1e-5)
    # the per-slice table: every slice, most suspicious first, the reported one marked
    section = html[html.index("Every axial slice of the study"):]
    rows = re.findall(r"<tr><td>([^<]*)</td>", section.split("</table>")[0])
    assert len(rows) == 8 and "3 (reported)" in rows and set(rows[:3]) == {"3 (reported)", "4", "5"}

    # static in the PDF: the per-slice figure (curves beside the projection, 9 x 3 inches) after the scan and map
    reader = pypdf.PdfReader(str(tmp_path / "r.pdf"))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "Every axial slice of the study" in text and "3 (reported)" in text and "ranks" in text
    assert [im.image.size for p in reader.pages for im in p.images][-1] == (900, 300)

    # nothing of the patient in the report itself, and the command rebuilds the same projection
    for leak in [*volumes.IDENTIFIERS.values(), "Doe", "DOE_JANE", volumes.SERIES_UID]:
        assert leak not in without_library(html), leak
    command = re.search(r"<pre>(.*?)</pre>", html, re.S)[1].replace("&#x27;", "'")
    assert "--slice axial:3 --slices 2-4 --slice-class glioma" in command
    again = shlex.split(command)[3:]
    again[again.index("--image") + 1] = str(study)
    again = [a for a in again[:again.index("--out")]] + ["--out", str(tmp_path / "again.html")]
    assert main(again) == 0
    np.testing.assert_array_equal(next(t for t in plotly_figures((tmp_path / "again.html").read_text())[1]
                                       if t["type"] == "heatmap")["z"], heat["z"])
