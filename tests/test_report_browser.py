"""Reports in a real browser (Debian's Chromium via Playwright): the HTML opens offline with every figure,
and "Your scan" hands a report over as a download."""

from __future__ import annotations

import time

import numpy as np
import pytest

from tests.test_browser import ARGS, ARTIFACTS, CHROMIUM, _wait_idle, page, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def test_report_html_opens_offline_with_every_figure(brain_model, tmp_path):
    from playwright.sync_api import sync_playwright

    import xai_core as xc
    from xai_core import report

    image = xc.load_dataset("synthetic-brain-mri").image("test", 2)
    scan = report.scan_from_dataset(brain_model, "synthetic-brain-mri:test:2", image)
    rng = np.random.default_rng(1)
    expls = [xc.Explanation(values=rng.normal(size=(2, 128, 128, 1)), base_values=np.zeros(2),
                            output_values=np.ones(2), class_indices=np.arange(2), class_names=brain_model.class_names[:2],
                            output_space=space, method="shap-partition", params={"seed": 0}, image=scan.model_input)
             for space in ("margin", "probability")]
    rep = report.assemble([report.case(brain_model, scan, expls, report.Verdict.unavailable("not checked here"))],
                          [brain_model])
    path = report.write(rep, tmp_path / "report.html")
    requests = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(offline=True)
        context.on("request", lambda r: requests.append(r.url))
        pg = context.new_page()
        pg.goto(path.as_uri())
        pg.wait_for_load_state("load")
        sizes = pg.eval_on_selector_all("img", "els => els.map(e => [e.complete, e.naturalWidth, e.naturalHeight])")
        text = pg.inner_text("body")
        browser.close()
    assert len(sizes) == 4 and all(c and w > 0 and h > 0 for c, w, h in sizes), sizes  # scan, bars, 2 maps
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    assert "not for diagnosis" in text and "python -m xai_core report" in text


def _settle(pg, quiet_s: float = 3.0, timeout_s: float = 240.0):
    """Wait until the page's text stops changing and no spinner or skeleton shows (FIELD_NOTES: Streamlit 1.67's
    status widget is not a reliable signal)."""
    import time

    _wait_idle(pg)
    last, since, start = None, time.time(), time.time()
    while time.time() - start < timeout_s:
        busy = pg.locator('[data-testid="stSpinner"], [data-testid="stSkeleton"]').count() > 0
        text = pg.locator('[data-testid="stMain"]').inner_text()
        if text != last or busy:
            last, since = text, time.time()
        elif time.time() - since >= quiet_s:
            return
        time.sleep(0.5)


def _build_report(pg):
    """Open "Download report", click "Build report" and return the PDF download button once it shows.

    In two of three full browser runs (CI, then locally) the first click led to no report and no message
    within 240 s, while the same test alone, or after any single other module, passed in 5-7 s. A click
    that lands while the expander is still opening can fold it again, or Streamlit can drop a click; a user
    would look and click again, and so does this test, once, printing what the page showed so a CI log can
    tell which. A message from the build itself fails at once."""
    expander = pg.locator('[data-testid="stExpander"] summary').filter(has_text="Download report")
    build = pg.get_by_role("button", name="Build report")
    button = pg.get_by_role("button", name="Download report (PDF)")
    for attempt in range(2):
        if not build.is_visible():
            expander.click()
        build.wait_for(state="visible", timeout=30_000)
        time.sleep(1.0)  # let the expander finish opening before the click lands
        build.click()
        try:
            button.wait_for(timeout=90_000)
            return button
        except Exception:
            alerts = pg.locator('[data-testid="stAlert"]').all_inner_texts()
            assert not any("report" in a.lower() for a in alerts), alerts
            print(f"no report after click {attempt + 1}; build button visible: {build.is_visible()}; the page shows:",
                  pg.locator('[data-testid="stMain"]').inner_text()[-1500:])
            _settle(pg)
    button.wait_for(timeout=1)  # fails with Playwright's own message
    return button


def test_your_scan_downloads_a_report(server, page, tmp_path):  # noqa: F811
    import pypdf

    from tests import files

    scan = tmp_path / "CT_small.dcm"
    scan.write_bytes(files.pydicom_file("CT_small.dcm").read_bytes())
    page.goto(server + "/your-scan")
    page.get_by_text("Upload a scan to begin").wait_for(timeout=120_000)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(scan))
    anyway = page.get_by_text("Show the prediction and maps anyway")  # a CT is out of this model's domain
    anyway.wait_for(timeout=300_000)
    anyway.click()
    page.get_by_text("Additivity:").wait_for(timeout=300_000)
    _settle(page)
    page.screenshot(path=str(ARTIFACTS / "your_scan_report_before.png"), full_page=True)
    button = _build_report(page)
    _settle(page)
    with page.expect_download(timeout=60_000) as info:
        button.click()
    download = info.value
    assert download.suggested_filename.startswith("xai-case-") and download.suggested_filename.endswith(".pdf")
    assert "CT_small" not in download.suggested_filename
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(str(target)).pages)
    assert "brain-basic-cnn" in text and "python -m xai_core report" in text and "not for diagnosis" in text
