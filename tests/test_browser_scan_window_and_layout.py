"""In a real browser: the DICOM window after a new upload, the out-of-domain collapse, deep links, and
texts that must not be cut off (``scrollWidth <= clientWidth``)."""

from pathlib import Path

import pytest

from tests import files
from tests.test_browser import ARTIFACTS, _no_errors, _wait_idle, page, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

UPLOAD = '[data-testid="stFileUploaderDropzoneInput"]'
NOT_CUT = """els => els.map(e => [(e.value || e.innerText).trim(), e.scrollWidth, e.clientWidth])
                      .filter(([t, s, c]) => t && s > c + 1)"""


def _settle(pg):
    _wait_idle(pg)
    pg.wait_for_timeout(1500)
    _wait_idle(pg)


def _upload(pg, tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    pg.locator(UPLOAD).first.set_input_files(str(path))  # the scan uploader (a series uploader follows it)
    _settle(pg)


def _captions(pg):
    return " ".join(pg.locator('[data-testid="stCaptionContainer"]').all_inner_texts())


def test_a_first_visitors_deep_link_opens_that_page_inside_the_app(cache_dir):
    """A bookmark to /trust on a fresh server: the page runs inside app.py's navigation (titles in the sidebar,
    wide layout), not on its own as an old-style pages/ script, and no "Page not found" notice pops up."""
    from playwright.sync_api import sync_playwright

    from tests.test_browser import ARGS, CHROMIUM, app_server

    with app_server(XAI_CACHE_DIR=str(cache_dir)) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pg = browser.new_page(viewport={"width": 1500, "height": 1100})
        pg.goto(url + "/trust")
        pg.get_by_text("Which method can I trust?").first.wait_for(timeout=120_000)
        _wait_idle(pg)
        pg.wait_for_timeout(1500)
        nav = pg.locator('[data-testid="stSidebarNav"]').inner_text()
        assert "Home: models, data and gallery" in nav and "\napp\n" not in f"\n{nav}\n", nav
        assert pg.locator('[role="dialog"]').count() == 0
        assert pg.locator('[data-testid="stMain"] h1').first.bounding_box()["width"] > 1000  # app.py's wide layout
        browser.close()


def test_ct_bone_then_mr_shows_the_mr_in_its_own_window(server, page, tmp_path):  # noqa: F811
    page.goto(server + "/your-scan")
    page.get_by_text("Upload a scan to begin").wait_for(timeout=120_000)
    _upload(page, tmp_path, "CT_small.dcm", files.pydicom_file("CT_small.dcm").read_bytes())
    page.get_by_text("Show the prediction and maps anyway").wait_for(timeout=300_000)  # the run is over
    _settle(page)
    page.screenshot(path=str(ARTIFACTS / "scan_window_ct.png"), full_page=True)
    window = page.get_by_role("combobox", name="Window")
    assert window.input_value() == "full range"  # CT_small stores no window of its own
    window.click()
    page.get_by_role("option", name="bone", exact=True).click()
    page.get_by_text("window bone").first.wait_for(timeout=120_000)
    _settle(page)
    assert "window bone: centre 400, width 1800" in _captions(page)
    _upload(page, tmp_path, "MR_small.dcm", files.pydicom_file("MR_small.dcm").read_bytes())
    page.get_by_text("MR_small.dcm").first.wait_for(timeout=60_000)
    page.get_by_text("Show the prediction and maps anyway").wait_for(timeout=300_000)
    _settle(page)
    assert window.input_value() == "from the file"  # the label
    caps = _captions(page)
    assert "window from the file: centre 600, width 1600" in caps and "centre 400" not in caps  # the caption
    # the pixels: the image shown is the MR rendered in its own window, not all white
    from xai_core.data.images import read_scan

    _, mr = read_scan(files.pydicom_file("MR_small.dcm").read_bytes(), "MR_small.dcm")
    expected = mr.render((600.0, 1600.0))
    img = page.locator('[data-testid="stImage"] img').first
    shown = page.evaluate("""img => { const c = document.createElement('canvas');
        c.width = img.naturalWidth; c.height = img.naturalHeight; const x = c.getContext('2d');
        x.drawImage(img, 0, 0); const d = x.getImageData(0, 0, c.width, c.height).data;
        let s = 0; for (let i = 0; i < d.length; i += 4) s += d[i]; return [c.width, s / (d.length / 4)]; }""",
                          img.element_handle())
    assert shown[0] == expected.shape[1]
    assert abs(shown[1] - float(expected.mean())) < 3.0, (shown, float(expected.mean()))
    assert shown[1] < 200  # the lung preset left over made it all white
    page.screenshot(path=str(ARTIFACTS / "scan_window_mr.png"), full_page=True)
    _no_errors(page)


def test_out_of_domain_photo_is_said_in_plain_words_and_collapsed(server, page, tmp_path):  # noqa: F811
    page.goto(server + "/your-scan")
    page.wait_for_timeout(2000)
    _upload(page, tmp_path, "cat.png", files.png(files.photo("chelsea")))
    page.get_by_text("Show the prediction and maps anyway").wait_for(timeout=300_000)
    _settle(page)
    text = page.locator('[data-testid="stAlertContentWarning"]').first.inner_text()
    assert "less like" in text and "mahalanobis" not in text.lower(), text
    assert page.get_by_text("Show the prediction and maps anyway").count() == 1
    assert page.get_by_text("Where the model looks (SHAP)").count() == 0  # collapsed by default
    assert page.get_by_text(" says ").count() == 0
    _no_errors(page)


@pytest.mark.parametrize("path, ready, selector, needle", [
    ("/lime-segmenters", "2. Segmentation", 'input[role="combobox"]', "mean colour"),
    ("/cross-domain", "Only flagged images", '[data-testid="stWidgetLabel"] p', "Only flagged images"),
    ("/model-report", "Macro AUC", '[data-testid="stMetricLabel"] p', "Macro AUC"),
])
def test_labels_are_not_cut_off(server, page, path, ready, selector, needle):  # noqa: F811
    page.goto(server + path)
    page.get_by_text(ready).first.wait_for(timeout=300_000)
    _settle(page)
    els = page.locator(selector)
    assert any(needle in t for t in els.evaluate_all("els => els.map(e => e.value || e.innerText)"))
    cut = els.evaluate_all(NOT_CUT)
    assert not cut, cut


def test_probability_axis_reaches_100_percent(server, page):  # noqa: F811
    page.goto(server + "/shap-margin-vs-probability")
    page.get_by_text("Probability space").first.wait_for(timeout=300_000)
    _settle(page)
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 4", timeout=120_000)
    page.screenshot(path=str(ARTIFACTS / "scan_window_shap.png"), full_page=True)
    ticks = page.locator(".js-plotly-plot .xtick").all_text_contents()
    page.screenshot(path=str(ARTIFACTS / "scan_window_shap.png"), full_page=True)
    assert "100%" in ticks, ticks
    # maps readable: each SHAP panel at least ~300 px wide at a 1,500 px window
    widths = page.locator(".js-plotly-plot").filter(has_text="SHAP value").first.evaluate(
        "p => Array.from(p.querySelectorAll('.heatmaplayer image, .heatmaplayer .hm image'))"
        ".map(i => i.getBoundingClientRect().width)")
    assert widths and min(widths) >= 280, widths
