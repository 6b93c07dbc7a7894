"""Case reports: PDF and HTML content, de-identification, reproducibility, CLI errors, size."""

from __future__ import annotations

import re
import shlex
import shutil

import numpy as np
import pytest

from tests.files import pydicom_file

IDENTIFIERS = {"PatientName": "DOE^JANE", "PatientID": "12345", "InstitutionName": "Ridgeview General Infirmary"}
LEAKS = ("DOE^JANE", "DOE JANE", "12345", "Ridgeview General Infirmary")


def cli(*args) -> int:
    from xai_core.cli import main

    return main([str(a) for a in args])


def pdf_text(path) -> tuple[str, int]:
    import pypdf

    reader = pypdf.PdfReader(str(path))
    return "\n".join(p.extract_text() for p in reader.pages), sum(len(p.images) for p in reader.pages)


def squash(text: str) -> str:
    return "".join(text.split())


def without_data_uris(html: str) -> str:
    return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)


@pytest.fixture(scope="module")
def dicom_with_identifiers(tmp_path_factory):
    import pydicom

    ds = pydicom.dcmread(pydicom_file("CT_small.dcm"))
    for k, v in IDENTIFIERS.items():
        setattr(ds, k, v)
    folder = tmp_path_factory.mktemp("upload")
    path = folder / "DOE_JANE_12345.dcm"  # the upload's own name carries identifiers too
    ds.save_as(path)
    return path


@pytest.fixture(scope="module")
def reports(tmp_path_factory, dicom_with_identifiers):
    """The CLI on a DICOM with identifiers: de-identified (default) and with identifiers, PDF and HTML each."""
    out = {}
    for mode, extra in (("plain", []), ("ids", ["--include-identifiers"])):
        d = tmp_path_factory.mktemp(mode)
        status = cli("report", "--model", "brain-basic-cnn", "--image", dicom_with_identifiers, "--window", "lung",
                     "--output", "margin,probability", "--top-k", "2", "--max-evals", "300", "--seed", "0",
                     *extra, "--figures", d / "png", "--out", d / "r.pdf", "--out", d / "r.html")
        assert status == 0
        out[mode] = d
    return out


def test_report_pdf_has_model_classes_verdict_command_and_an_image_per_map(reports):
    import xai_core as xc

    text, images = pdf_text(reports["plain"] / "r.pdf")
    html = (reports["plain"] / "r.html").read_text()
    command = re.search(r"<pre>(.*?)</pre>", html, re.S)[1].replace("&#x27;", "'").replace("&quot;", '"')
    assert command.startswith("python -m xai_core report --model brain-basic-cnn")
    assert squash(command.replace("&amp;", "&")) in squash(text)
    assert "brain-basic-cnn" in text and all(c in text for c in xc.load_model("brain-basic-cnn").class_names)
    # a lung-windowed CT is not a synthetic brain MRI: the verdict says so in plain words, in both files
    assert "outside this model's training domain" in squash(text).replace("", "") or \
        "outsidethismodel'strainingdomain" in squash(text)
    assert "outside this model&#x27;s training domain" in html
    assert "For research and teaching; not a medical device; not for diagnosis." in text
    assert "window centre -600, width 1500" in text and "lung" in text
    assert images >= 2 + 1  # two maps (margin, probability) and the scan
    assert "Burned-in text" in text


def test_report_is_de_identified_unless_asked(reports):
    plain, ids = reports["plain"], reports["ids"]
    text = pdf_text(plain / "r.pdf")[0]
    html = (plain / "r.html").read_text()
    names = " ".join(p.name for p in (plain / "png").iterdir())
    command = re.search(r"<pre>(.*?)</pre>", html, re.S)[1]
    for leak in LEAKS:
        assert leak not in text and leak not in without_data_uris(html) and leak not in names, leak
        assert leak not in command
    assert "DOE" not in without_data_uris(html) and "JANE" not in text
    assert re.search(r"scan-[0-9a-f]{12}\.dcm", command)  # the scan is named by its hash
    # asked for: this one report prints them
    text_i = pdf_text(ids / "r.pdf")[0]
    html_i = (ids / "r.html").read_text()
    for v in IDENTIFIERS.values():
        assert v in text_i and v in html_i
    assert "--include-identifiers" in html_i


def test_html_is_self_contained(reports):
    html = (reports["plain"] / "r.html").read_text()
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(?!data:)[^"'\s>]""", html)
    assert html.count('src="data:image/png;base64,') >= 4  # scan, probabilities, two maps


def test_regeneration_command_reproduces_the_maps_bit_for_bit(reports, dicom_with_identifiers, tmp_path,
                                                             monkeypatch):
    import html as html_lib

    page = (reports["plain"] / "r.html").read_text()
    command = html_lib.unescape(re.search(r"<pre>(.*?)</pre>", page, re.S)[1])
    args = shlex.split(command)
    assert args[:4] == ["python", "-m", "xai_core", "report"]
    name = args[args.index("--image") + 1]
    shutil.copy(dicom_with_identifiers, tmp_path / name)  # the user saves the scan under the printed name
    monkeypatch.chdir(tmp_path)
    assert cli(*args[3:], "--no-cache") == 0  # recompute, do not read the first run's cache
    stem = args[args.index("--out") + 1].removesuffix(".pdf")
    again = (tmp_path / f"{stem}.html").read_text()
    first = re.findall(r"Map SHA-256 <code>([0-9a-f]{64})</code>", page)
    assert len(first) == 2 and re.findall(r"Map SHA-256 <code>([0-9a-f]{64})</code>", again) == first


def test_dicom_slice_info_holds_no_identifier(dicom_with_identifiers):
    from xai_core.data.images import read_scan
    from xai_core.report.deid import SAFE_INFO_KEYS, read_identifiers

    _, dicom = read_scan(dicom_with_identifiers)
    assert set(dicom.info) <= SAFE_INFO_KEYS
    for leak in LEAKS:
        assert leak not in repr(dicom)
    found = read_identifiers(dicom_with_identifiers.read_bytes())
    assert {k: found[k] for k in IDENTIFIERS} == IDENTIFIERS
    assert "StudyInstanceUID" in found and "StudyDate" in found  # UIDs and dates count too
    assert "TransferSyntaxUID" not in found and "Modality" not in found


def test_basic_profile_is_real_dicom_keywords():
    from pydicom.datadict import tag_for_keyword

    from xai_core.report.deid import BASIC_PROFILE

    unknown = [k for k, _ in BASIC_PROFILE if tag_for_keyword(k) is None]
    assert not unknown
    assert len(BASIC_PROFILE) > 200 and {"PatientName", "PatientID", "PatientBirthDate", "AccessionNumber",
                                          "InstitutionName", "ReferringPhysicianName"} <= {k for k, _ in BASIC_PROFILE}


@pytest.mark.parametrize("args, says", [
    (["--image", "synthetic-brain-mri:test:0", "--out", "x.docx"], "--out must name a .pdf or .html"),
    (["--image", "no/such/file.png", "--out", "x.pdf"], "neither an image file"),
    (["--image", "synthetic-brain-mri:test:0", "--output", "logit", "--out", "x.pdf"], "--output must be"),
    (["--image", "synthetic-brain-mri:test:0", "--methods", "lime", "--max-evals", "5", "--out", "x.pdf"],
     "takes --max-evals"),
    (["--image", "synthetic-brain-mri:test:0", "--job", "{not json", "--out", "x.pdf"], "--job must be"),
])
def test_bad_input_exits_2_with_one_line(args, says, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli("report", "--model", "brain-basic-cnn", *args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and says in err and "\n" not in err


def test_bad_window_on_a_dicom_exits_2(dicom_with_identifiers, capsys, tmp_path):
    assert cli("report", "--model", "brain-basic-cnn", "--image", dicom_with_identifiers, "--window", "sideways",
               "--out", tmp_path / "x.pdf") == 2
    assert "--window must be" in capsys.readouterr().err


def test_eight_maps_fit_in_3_mb_of_html_and_each_has_an_image_in_the_pdf(brain_model, tmp_path):
    import xai_core as xc
    from xai_core import report

    image = xc.load_dataset("synthetic-brain-mri").image("test", 1)
    scan = report.scan_from_dataset(brain_model, "synthetic-brain-mri:test:1", image, "meningioma")
    rng = np.random.default_rng(0)
    expls = [xc.Explanation(values=rng.normal(size=(4, 128, 128, 1)), base_values=np.zeros(4),
                            output_values=np.ones(4), class_indices=np.arange(4), class_names=brain_model.class_names,
                            output_space="margin", method="shap-partition", params={"seed": i},
                            image=scan.model_input) for i in range(8)]
    verdict = report.Verdict.unavailable("not checked in this test")
    rep = report.assemble([report.case(brain_model, scan, expls, verdict)], [brain_model])
    html_path, pdf_path = report.write(rep, tmp_path / "r.html"), report.write(rep, tmp_path / "r.pdf")
    assert html_path.stat().st_size < 3 * 2**20
    assert pdf_text(pdf_path)[1] >= 8 + 1
    assert "--job" in rep.command  # eight maps with different seeds need one job each
    pngs = report.write_pngs(rep, tmp_path / "png")
    assert len(pngs) == 8 + 2 and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)


def _fake_case(model, method="shap-partition", spaces=("margin",), seeds=(0,), true="glioma", index=0, extra=None):
    import xai_core as xc
    from xai_core import report

    image = xc.load_dataset("synthetic-brain-mri").image("test", index)
    scan = report.scan_from_dataset(model, f"synthetic-brain-mri:test:{index}", image, true)
    rng = np.random.default_rng(index)
    expls = [xc.Explanation(values=rng.normal(size=(1, 128, 128, 1)), base_values=[0.0], output_values=[1.0],
                            class_indices=[0], class_names=[model.class_names[index % 4]], output_space=space,
                            method=method, params={"seed": seed, **(extra or {})}, image=scan.model_input,
                            extras={"score": np.array([0.42])} if method == "lime" else {})
             for seed in seeds for space in spaces]
    return report.case(model, scan, expls, report.Verdict.unavailable("not checked in this test"))


def test_handout_carries_the_plain_language_notes_and_prints_well(brain_model, tmp_path):
    from xai_core import report

    rep = report.assemble([_fake_case(brain_model, "lime", extra={"segmenter": "slic"})], [brain_model],
                          kind="handout", handout="lime")
    text = pdf_text(report.write(rep, tmp_path / "h.pdf"))[0]
    html = report.write(rep, tmp_path / "h.html").read_text()
    assert rep.title.startswith("Class handout") and rep.file_stem().startswith("xai-handout-")
    for heading in ("What LIME does", "What a segmenter does", "Margin versus probability"):
        assert heading in text and heading in html
    assert squash("local fit R²: glioma 0.420") in squash(text), text
    assert squash("Unit: LIME weight (logit). Green supports the class") in squash(text)
    assert '<body class="handout">' in html and "@media print" in html
    assert "Model card" not in text  # a handout leaves the analyst's tables out, not the command or disclaimer
    assert "--handout lime" in rep.command and "not for diagnosis" in text


def test_comparison_command_names_every_model_and_scan_and_the_class_rule(brain_model):
    from xai_core import report

    cases = [_fake_case(brain_model, index=i) for i in (0, 1)]
    rep = report.assemble(cases, [brain_model], classes_rule="true")
    assert rep.command.startswith("python -m xai_core report --model brain-basic-cnn --image "
                                  "synthetic-brain-mri:test:0 --image synthetic-brain-mri:test:1 "
                                  "--methods shap-partition --output margin --classes true --seed 0 --out xai-case-")
    # without a rule the two scans' classes differ, so the short form cannot say it: one --job per map
    assert "--job" in report.assemble(cases, [brain_model]).command


def test_trust_cards_join_the_report_when_asked(tmp_path):
    assert cli("report", "--model", "brain-basic-cnn", "--image", "synthetic-brain-mri:test:0", "--top-k", "1",
               "--max-evals", "300", "--trust", "--out", tmp_path / "t.html") == 0
    html = (tmp_path / "t.html").read_text()
    assert "<th>metric</th>" in html and "<th>verdict</th>" in html  # the map's trust card
    assert "--trust" in re.search(r"<pre>(.*?)</pre>", html, re.S)[1]


@pytest.mark.parametrize("backend, flag", [("openvino-bf16", True), ("openvino-fp32", False), ("tensorflow", False)])
def test_regeneration_command_asks_for_bf16_when_a_map_was_computed_in_it(brain_model, backend, flag):
    """A bf16 map is not the fp32 map: the printed command must ask for the precision the map was made in
    (fp32 OpenVINO gives TensorFlow's maps, so it needs no flag), and the CLI must take it where it is put."""
    import xai_core as xc
    from xai_core import report
    from xai_core.cli import build_parser

    image = xc.load_dataset("synthetic-brain-mri").image("test", 0)
    scan = report.scan_from_dataset(brain_model, "synthetic-brain-mri:test:0", image)
    expl = xc.Explanation(values=np.zeros((1, 128, 128, 1)), base_values=np.zeros(1), output_values=np.zeros(1),
                          class_indices=np.arange(1), class_names=brain_model.class_names[:1], output_space="margin",
                          method="shap-partition", params={"max_evals": 300, "seed": 0}, image=scan.model_input,
                          backend=backend)
    rep = report.assemble([report.case(brain_model, scan, [expl], report.Verdict.unavailable("not checked"))],
                          [brain_model])
    args = shlex.split(rep.command)
    assert ("--backend" in args) == flag
    if flag:
        assert args[args.index("--backend") + 1] == "openvino-bf16"
    assert build_parser().parse_args(args[3:]).backend == ("openvino-bf16" if flag else None)
