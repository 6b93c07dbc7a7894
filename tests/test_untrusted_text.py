"""Text from users' files (class names, DICOM fields, model names) is shown as that text: never as Markdown,
HTML, a formula or a terminal command, and never so long that it breaks a page or a report."""

import io
import re
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import tiny_cnn
from tests.files import png
from xai_core.untrusted import clip, html_literal, markdown_literal, mathtext_literal, terminal_literal

LONG = "x" * 10_000
HOSTILE = ["$\\frac{1}{$ 5$ and $x^$", LONG, "[click](https://evil.example) ![px](https://evil.example/p.png) "
           ":red[red] <img src=x onerror=alert(1)> \x1b[31mred\x1b]0;title\x07"]


def test_each_output_gets_a_literal():
    md = markdown_literal(HOSTILE[2], limit=None)
    for raw, escaped in (("[click]", r"\[click\]"), ("](", r"\]\("), ("![", r"\!\["), (":red[", r"\:red\["),
                         ("<img", r"\<img")):
        assert raw in HOSTILE[2] and escaped in md
    assert not re.search(r"(?<!\\)[\[\]()<>:!]", md)  # no markup character left unescaped
    assert "\x1b" not in md and "\\u001b" in md  # the escape character is shown, not sent
    assert "<img" not in html_literal(HOSTILE[2]) and "&lt;img" in html_literal(HOSTILE[2])
    assert "$" not in mathtext_literal("a$b$c").replace("\\$", "")
    t = terminal_literal("ok \x1b[2J\x1b]0;owned\x07 \x9b31m done\nnext\x07")
    assert "\x1b" not in t and "\x07" not in t and "\x9b" not in t and t.startswith("ok ") and "\nnext" in t
    assert len(clip(LONG, 80)) == 80 and clip(LONG, 80).endswith("…") and clip("short", 80) == "short"


def test_the_markdown_literal_renders_as_the_text_itself():
    """Rendered by Streamlit's own Markdown in a session: the user sees exactly the characters."""
    from streamlit.testing.v1 import AppTest

    def page():
        import streamlit as st

        from xai_core.untrusted import markdown_literal

        st.markdown(markdown_literal(st.session_state["name"], limit=None))

    at = AppTest.from_function(page, default_timeout=60)
    at.session_state["name"] = "**bold** [x](https://e.example) $x$ :red[r] <b>b</b>"
    at.run()
    md = at.markdown[0].value
    # every markup character is backslash-escaped: Markdown shows them instead of acting on them
    for ch in "*[]()$:<>":
        assert f"\\{ch}" in md


def _model_dir(d: Path, class_names: list[str]) -> Path:
    """A small classifier with these class names, saved as a user model would be."""
    from xai_core.models.metadata import ModelMetadata

    d.mkdir(parents=True, exist_ok=True)
    tiny_cnn((16, 16, 1), 3).save(d / "model.keras")
    ModelMetadata(class_names=list(class_names), input_size=(16, 16), input_channels=1, input_scale="0-1",
                  dataset=HOSTILE[2]).write(d / "metadata.json")
    return d


@pytest.fixture(scope="module")
def hostile_model(tmp_path_factory):
    """The attacks as class names: TeX, 10,000 characters, Markdown/HTML/terminal markup."""
    return _model_dir(tmp_path_factory.mktemp("hostile-model"), HOSTILE)


def test_reports_accept_any_class_name(hostile_model, tmp_path):
    import xai_core as xc
    from xai_core import report

    lm = xc.load_model(hostile_model)
    scan = report.scan_from_bytes(lm, png((np.arange(256).reshape(16, 16) % 255).astype(np.uint8)), "s.png")[0]
    expls = [xc.Explanation(values=np.random.default_rng(k).normal(size=(1, 16, 16, 1)), base_values=[0.0],
                            output_values=[1.0], class_indices=[k], class_names=[HOSTILE[k]], output_space="margin",
                            method="shap-partition", params={"seed": 0}, image=scan.model_input)
             for k in range(3)]
    rep = report.assemble([report.case(lm, scan, expls, report.Verdict.unavailable("not checked"))], [lm])
    pdf = report.write(rep, tmp_path / "r.pdf")  # a TeX parse error or "row too high" would raise here
    html = report.write(rep, tmp_path / "r.html").read_text()
    assert pdf.stat().st_size > 1000
    assert "<img src=x" not in html and "&lt;img src=x" in html
    pre = html.index("<pre>")  # the regeneration command names the classes in full, wrapped, so it reruns
    assert LONG not in html[:pre] and "x" * 199 + "…" in html[:pre]  # tables and headings: cut with an ellipsis
    assert "overflow-wrap:anywhere" in html
    import pypdf

    text = "".join(p.extract_text() for p in pypdf.PdfReader(pdf).pages)
    assert "x" * 199 + "…" in text.replace("\n", "")


def test_the_cli_prints_no_terminal_escape(hostile_model, capsys, monkeypatch, tmp_path):
    import shutil

    from xai_core.cli import main

    monkeypatch.setenv("XAI_USER_MODELS_DIR", str(tmp_path / "models"))
    shutil.copytree(hostile_model, tmp_path / "models" / "hostile")
    assert main(["models"]) == 0  # prints each model's dataset field: here, the attack
    out = capsys.readouterr().out
    assert "hostile" in out and "red" in out
    assert "\x1b" not in out and "\x07" not in out


def _unescaped_markup(text: str) -> list[str]:
    """Markdown/HTML constructs left live in an element's Markdown source."""
    bad = re.findall(r"(?<!\\)(?:!\[|\]\(|<img|<a |:red\[)", text)
    return bad + re.findall(r"(?<!\\)https?://", text)


def test_pages_show_class_and_file_names_as_text(tmp_path, monkeypatch):
    """A private model whose class names are the attacks, a scan whose file name is one: Your scan shows
    the prediction, captions and errors with every character escaped."""
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT
    from xai_core import config

    owner = "c3" * 16
    monkeypatch.setenv("XAI_USER_MODELS_DIR", str(tmp_path / "models"))
    # every class carries a link, an image and HTML, so whichever the model predicts is an attack
    _model_dir(config.user_models_dir(owner) / "hostile", [f"{HOSTILE[2]} {k} $x$" for k in range(3)])
    at = AppTest.from_file(str(ROOT / "pages/your_scan.py"), default_timeout=300)
    at.session_state["_owner"] = owner
    at.session_state["model"] = "hostile"
    at.session_state["scan_method"] = "grad-cam"  # the cheapest map: the names are the point here
    at.run()
    image = (np.arange(256).reshape(16, 16) * 7 % 255).astype(np.uint8)
    at.file_uploader(key="scan_upload").set_value(("![p](https://evil.example/p.png).png", png(image),
                                                   "image/png")).run()
    assert not at.exception, at.exception
    shown = [e.value for kind in ("markdown", "caption", "success", "info", "warning", "error")
             for e in getattr(at, kind)]
    says = [s for s in shown if " says " in s]
    assert says and "evil" in says[0] and "onerror" in says[0]  # the class name is there, whole...
    for s in shown:
        assert not _unescaped_markup(s), s  # ...as text


def test_download_names_never_carry_the_uploads_own_name():
    """Your scan's .npz (and every page's export of an upload) is named by the scan's hash, as reports are."""
    from pages._ui.widgets import upload_as_scan

    sha = "0123456789ab" + "f" * 52
    scan = upload_as_scan({"name": "Doeington_Johnathan_MRN-99887766.dcm", "image": np.zeros((4, 4, 1), np.uint8),
                           "sha": sha})
    assert scan.slug == "scan-0123456789ab"  # the hash alone, as reports name a scan
    assert "Doeington" not in scan.slug and "99887766" not in scan.slug
