"""A real browser (Debian's Chromium, driven by Playwright) against `streamlit run`."""

import contextlib
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.browser


@contextlib.contextmanager
def app_server(**env_extra):
    """The app served the way `make run` starts it (start-up work in a background thread, then Streamlit's
    own CLI) on a free localhost port; yields its URL once /_stcore/health answers."""
    from pages._ui import serve

    assert Path(CHROMIUM).exists(), "Debian chromium is required: apt-get install -y chromium"
    proc, url = serve.start(serve.free_port(), {"XAI_WARM_MODELS": "brain-basic-cnn", **os.environ, **env_extra},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # (tests switch no model)
    if not serve.wait_healthy(url, timeout=120):
        proc.kill()
        pytest.fail("streamlit did not become healthy: " + proc.stdout.read().decode()[-2000:])
    try:
        yield url
    finally:
        serve.stop(proc)


@pytest.fixture(scope="module")
def server(cache_dir):
    with app_server(XAI_CACHE_DIR=str(cache_dir)) as url:
        yield url


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pg = browser.new_page(viewport={"width": 1500, "height": 1100})
        yield pg
        browser.close()


def _wait_idle(pg, timeout=240_000):
    """Wait until the script run is over (Streamlit shows its status widget while a run is going)."""
    time.sleep(0.5)
    pg.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout)


def _no_errors(pg):
    assert pg.locator('[data-testid="stException"]').count() == 0
    assert pg.locator('[data-testid="stAlertContentError"]').count() == 0


def _trust_cards(pg, maps: int, cards: int = 1):
    """Every map panel on the page carries a trust card (issue 13): ``cards`` cards are drawn, each with 3 to 5
    numbers that carry a verdict mark; where one card serves a grid, its picker offers each of the ``maps`` maps."""
    pg.get_by_text("Can this map be trusted?").first.wait_for(timeout=300_000)
    _wait_idle(pg, timeout=300_000)
    heads = pg.get_by_text("Can this map be trusted?")
    assert heads.count() == cards, heads.count()
    for i in range(cards):
        card = heads.nth(i).locator("xpath=ancestor::div[@data-testid='stVerticalBlock'][1]")  # its own box
        values = card.locator('[data-testid="stMetricValue"]').all_inner_texts()
        assert 3 <= len(values) <= 5, values
        assert all(v.strip()[:1] in "✅⚠❌❔➖" for v in values), values
        cut = card.locator('[data-testid="stMetricLabel"] *').evaluate_all(
            "els => els.filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)")
        assert not cut, cut  # each number's name is readable in full
    if cards == 1 and maps > 1:
        picker = pg.get_by_role("combobox", name="Trust card for the map")
        picker.focus()
        picker.press("ArrowDown")  # opens the list (a click on an already focused box may not)
        pg.get_by_role("option").first.wait_for(timeout=30_000)
        options = pg.get_by_role("option").all_inner_texts()
        pg.keyboard.press("Escape")
        assert len(options) == maps, options


def test_home_page_renders_the_gallery(server, page):
    page.goto(server)
    page.get_by_text("Explain image classifiers").first.wait_for(timeout=180_000)
    page.get_by_text("Test accuracy").first.wait_for(timeout=180_000)
    page.get_by_role("button", name="Explain").first.wait_for(timeout=60_000)
    # the gallery's cards arrive one by one while the page runs: wait for all twelve, not the first few
    page.wait_for_function("document.querySelectorAll('[data-testid=\"stImage\"]').length >= 12", timeout=120_000)
    page.screenshot(path=str(ARTIFACTS / "home.png"), full_page=True)
    _no_errors(page)


def test_shap_page_runs_a_comparison_with_both_rows(server, page):
    page.goto(server + "/shap-margin-vs-probability")
    page.get_by_text("Margin (logit) space").wait_for(timeout=240_000)
    page.get_by_role("button", name="Explain").click()
    page.get_by_text("Probability space", exact=True).wait_for(timeout=240_000)
    # the image, the probability bars, and one figure per output space
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 4", timeout=120_000)
    time.sleep(2)  # let the rerun after the click settle before judging the page
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 4", timeout=120_000)
    titles = page.locator(".js-plotly-plot .cbtitle").all_text_contents()
    joined = " ".join(titles)
    assert "logit" in joined and "probability" in joined, titles
    # each map row holds 4 heatmaps (top-4 classes)
    assert page.locator(".js-plotly-plot .heatmaplayer, .js-plotly-plot image").count() >= 8
    _trust_cards(page, maps=2, cards=2)  # one card beside the margin row, one beside the probability row
    page.screenshot(path=str(ARTIFACTS / "shap_margin_vs_probability.png"), full_page=True)
    _no_errors(page)


def test_gallery_explain_button_opens_that_scan(server, page):
    page.goto(server)
    page.get_by_role("button", name="Explain").nth(3).wait_for(timeout=180_000)
    _wait_idle(page)  # click only once the gallery has finished rendering
    page.get_by_role("button", name="Explain").nth(3).click()
    page.get_by_text("Margin (logit) space").wait_for(timeout=240_000)
    page.screenshot(path=str(ARTIFACTS / "gallery_to_shap.png"))
    index = page.get_by_label("Test image #")
    assert index.input_value() == "3"
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 4", timeout=120_000)
    _no_errors(page)


def test_lime_page_runs_six_segmenters(server, page):
    page.goto(server + "/lime-segmenters")
    page.get_by_text("3. Stability across seeds").wait_for(timeout=300_000)
    page.get_by_role("button", name="Explain with every segmenter").wait_for(timeout=60_000)
    # image, probabilities, segmentations, pro/con, hide-the-rest (hidden tab) and spread figures
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 5", timeout=120_000)
    time.sleep(2)
    pro_con = page.locator(".js-plotly-plot").filter(has_text="fit R²").first  # the headline, whatever its place
    titles = pro_con.locator(".gtitle, .annotation-text").all_text_contents()
    assert sum("fit R²" in t for t in titles) == 6, titles  # one explanation panel per segmenter
    assert pro_con.locator(".heatmaplayer .hm, image").count() >= 6
    assert "LIME weight" in " ".join(pro_con.locator(".cbtitle").all_text_contents())
    # the stability table lists all six segmenters
    assert page.locator('[data-testid="stDataFrame"]').count() == 1
    _trust_cards(page, maps=6)
    page.screenshot(path=str(ARTIFACTS / "lime_segmenters.png"), full_page=True)
    _no_errors(page)


def test_cross_domain_page_runs_brain_model_on_lung(server, page):
    page.goto(server + "/cross-domain")
    page.get_by_text("3. Where it looks: SHAP on both domains").wait_for(timeout=300_000)
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 5", timeout=240_000)
    _wait_idle(page)
    page.get_by_text("4. A model trained for the target domain").wait_for(timeout=240_000)
    page.wait_for_function("document.querySelectorAll('[data-testid=\"stDataFrame\"]').length >= 2",
                           timeout=240_000)
    assert page.locator('[data-testid="stDataFrame"]').count() >= 2  # the table, and both models side by side
    assert page.locator('[data-testid="stMetricValue"]').filter(has_text="0.9").count() >= 1  # AUROC
    plots_text = " ".join(page.locator(".js-plotly-plot .xtitle, .js-plotly-plot .cbtitle").all_text_contents())
    assert "predicted (source class)" in plots_text and "SHAP value" in plots_text
    maps = page.locator(".js-plotly-plot").filter(has_text="synthetic-lung-ct #")
    assert maps.count() == 1 and maps.locator(".heatmaplayer .hm, image").count() >= 6
    panels = sum(" #" in t for t in maps.locator(".gtitle, .annotation-text").all_text_contents())
    _trust_cards(page, maps=panels)
    page.screenshot(path=str(ARTIFACTS / "cross_domain.png"), full_page=True)
    _no_errors(page)


def test_compare_page_renders_the_models_by_images_grid(server, page):
    page.goto(server + "/compare-architectures")
    start = page.get_by_role("button", name="Compare", exact=True)
    start.wait_for(timeout=300_000)
    _wait_idle(page)
    start.click(timeout=120_000)
    page.get_by_text("Numbers", exact=True).wait_for(timeout=300_000)
    _wait_idle(page)
    grid = page.locator(".js-plotly-plot").filter(has_text="focus").first
    grid.wait_for(timeout=60_000)
    titles = " ".join(grid.locator(".gtitle, .annotation-text").all_text_contents())
    assert titles.count("test #") >= 6 and "focus" in titles, titles  # >= 2 models x 3 images, with focus
    assert grid.locator(".heatmaplayer .hm, image").count() >= 6
    assert "SHAP value" in " ".join(grid.locator(".cbtitle").all_text_contents())
    assert page.locator('[data-testid="stDataFrame"]').count() == 1
    _trust_cards(page, maps=titles.count("test #"))
    page.screenshot(path=str(ARTIFACTS / "compare_architectures.png"), full_page=True)
    _no_errors(page)


def test_model_report_renders_every_section(server, page):
    page.goto(server + "/model-report")
    page.get_by_text("6. Correct and misclassified scans").wait_for(timeout=300_000)
    _wait_idle(page)
    assert page.locator('[data-testid="stMetricValue"]').count() >= 6
    text = " ".join(page.locator(".js-plotly-plot .xtitle, .js-plotly-plot .cbtitle").all_text_contents())
    assert "predicted" in text and "epoch" in text and "activation" in text  # confusion, curves, feature maps
    assert page.locator('[data-testid="stGraphVizChart"] svg, .stGraphVizChart svg').count() >= 1
    assert page.locator('[data-testid="stImage"] img').count() >= 10  # the scan and the gallery
    page.screenshot(path=str(ARTIFACTS / "model_report.png"), full_page=True)
    _no_errors(page)


@pytest.mark.parametrize("name, make", [
    ("cat.jpg", lambda: __import__("tests.files", fromlist=["x"]).jpeg_with_orientation(
        __import__("tests.files", fromlist=["x"]).photo("chelsea"), 6)),
    ("CT_small.dcm", lambda: __import__("tests.files", fromlist=["x"]).pydicom_file("CT_small.dcm").read_bytes()),
])
def test_upload_a_scan_and_see_prediction_and_shap(server, page, tmp_path, name, make):
    path = tmp_path / name
    path.write_bytes(make())
    page.goto(server + "/your-scan")
    page.get_by_text("Upload a scan to begin").wait_for(timeout=120_000)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(path))
    # neither is a synthetic brain MRI: the answer is collapsed until asked for (issue 11)
    toggle = page.get_by_text("Show the prediction and maps anyway")
    toggle.wait_for(timeout=240_000)
    _wait_idle(page)
    toggle.click(timeout=120_000)
    page.get_by_text("Where the model looks (SHAP)").wait_for(timeout=240_000)
    page.get_by_text("Additivity:").wait_for(timeout=300_000)
    _wait_idle(page)
    assert page.get_by_text("says").count() >= 1
    assert page.locator('[data-testid="stAlertContentWarning"]').count() >= 1  # not a synthetic brain MRI
    shap = page.locator(".js-plotly-plot").filter(has_text="SHAP")
    shap.first.wait_for(timeout=120_000)  # the chart draws after the script run has ended
    page.wait_for_function("""() => [...document.querySelectorAll('.js-plotly-plot')]
        .some(p => p.textContent.includes('SHAP') && p.querySelectorAll('.heatmaplayer .hm, image').length >= 2)""",
                           timeout=120_000)
    assert shap.count() >= 1 and shap.first.locator(".heatmaplayer .hm, image").count() >= 2
    _trust_cards(page, maps=1)
    page.screenshot(path=str(ARTIFACTS / f"your_scan_{Path(name).suffix[1:]}.png"), full_page=True)
    _no_errors(page)


def test_methods_page_shows_every_default_method_side_by_side(server, page):
    page.goto(server + "/methods")
    page.get_by_text("How much the methods agree").wait_for(timeout=600_000)
    _wait_idle(page, timeout=600_000)
    # one map panel per method (7 by default) plus the agreement matrix
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 8", timeout=120_000)
    maps = page.locator(".js-plotly-plot").filter(has=page.locator(".heatmaplayer"))
    assert maps.count() >= 8
    units = " ".join(page.locator(".js-plotly-plot .cbtitle").all_text_contents())
    assert "IG attribution" in units and "Grad-CAM" in units and "SHAP value" in units, units
    _trust_cards(page, maps=maps.count() - 1)  # every method's map; the agreement matrix is no map
    page.screenshot(path=str(ARTIFACTS / "methods.png"), full_page=True)
    page.get_by_text("Download the table (CSV)").wait_for(timeout=120_000)  # the per-method table's download
    _no_errors(page)
