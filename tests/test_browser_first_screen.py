"""A projector is 1280x720 (issue 28): each classroom page shows its headline comparison on the first screen,
with nothing cut off. One server and one browser page for the whole module; screenshots go to test-artifacts/."""

import time

import pytest

from tests.test_browser import ARGS, ARTIFACTS, CHROMIUM, _wait_idle, app_server

pytestmark = pytest.mark.browser
W, H = 1280, 720


@pytest.fixture(scope="module")
def projector(cache_dir):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with app_server(XAI_CACHE_DIR=str(cache_dir)) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield url, browser.new_page(viewport={"width": W, "height": H})
        browser.close()


def _settled(pg, timeout=300):
    """Until the main area's text is unchanged for 3 s with no spinner or skeleton (FIELD_NOTES: the status
    widget does not show reliably)."""
    deadline, last = time.time() + timeout, None
    while time.time() < deadline:
        text = pg.locator('[data-testid="stMain"]').inner_text()
        busy = pg.locator('[data-testid="stSkeleton"], [data-testid="stSpinner"]').count()
        if text == last and not busy:
            return
        last = text
        time.sleep(3)
    pytest.fail("the page did not settle")


def _to_top(pg):
    """Scroll back to the first screen: Streamlit scrolls its main container, not the window."""
    pg.evaluate("() => { window.scrollTo(0, 0); document.querySelectorAll('*').forEach(e => { if (e.scrollTop) "
                "e.scrollTop = 0; }); }")


def _on_first_screen(pg, locator, what):
    _to_top(pg)
    box = locator.bounding_box()
    assert box is not None, what
    assert box["y"] >= 0 and box["y"] + box["height"] <= H, f"{what} is not on the first screen: {box}"
    assert box["x"] >= 0 and box["x"] + box["width"] <= W, f"{what} is wider than the screen: {box}"


def _nothing_cut(pg):
    """No widget label or metric label is cut off with an ellipsis."""
    cut = pg.locator('[data-testid="stWidgetLabel"] *, [data-testid="stMetricLabel"] *').evaluate_all(
        "els => els.filter(e => e.offsetParent && e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)")
    assert not cut, cut


def _titles_apart(pg, plot):
    """The panel titles of one Plotly figure do not overlap one another."""
    boxes = [b for b in (t.bounding_box() for t in plot.locator(".annotation-text").all()) if b]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            apart = (a["x"] + a["width"] <= b["x"] + 1 or b["x"] + b["width"] <= a["x"] + 1
                     or a["y"] + a["height"] <= b["y"] + 1 or b["y"] + b["height"] <= a["y"] + 1)
            assert apart, (a, b)


def test_shap_page_shows_margin_and_probability_per_class_on_the_first_screen(projector):
    url, pg = projector
    pg.goto(url + "/shap-margin-vs-probability")
    pg.get_by_role("button", name="Explain").wait_for(timeout=300_000)
    pg.locator(".js-plotly-plot").filter(has_text="margin").first.wait_for(timeout=300_000)
    _settled(pg)
    pg.screenshot(path=str(ARTIFACTS / "first_screen_shap.png"))
    headline = pg.locator(".js-plotly-plot").first
    titles = headline.locator(".annotation-text").all_text_contents()
    assert titles[:2] == [titles[0].split(":")[0] + ": margin", titles[0].split(" (")[0] + ": probability"], titles
    assert sum(t.endswith("margin") for t in titles) == sum(t.endswith("probability") for t in titles) >= 2
    _on_first_screen(pg, headline, "the margin-vs-probability maps")
    _on_first_screen(pg, pg.get_by_role("button", name="Explain"), "the Explain button")
    _titles_apart(pg, headline)
    ticks = headline.locator(".colorbar .cbaxis text, .colorbar text.ytick").first
    assert float(ticks.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 12
    _nothing_cut(pg)


def test_lime_page_shows_six_segmenters_and_its_whole_table(projector):
    url, pg = projector
    pg.goto(url + "/lime-segmenters")
    pg.get_by_text("3. Stability across seeds").wait_for(timeout=300_000)
    _settled(pg)
    pg.screenshot(path=str(ARTIFACTS / "first_screen_lime.png"))
    headline = pg.locator(".js-plotly-plot").filter(has_text="fit R²").first
    assert sum("fit R²" in t for t in headline.locator(".annotation-text").all_text_contents()) == 6
    _on_first_screen(pg, headline, "the six LIME explanations")
    _titles_apart(pg, headline)
    _nothing_cut(pg)
    grid = pg.locator('[data-testid="stDataFrame"]').first
    grid.scroll_into_view_if_needed()
    scroller = grid.locator(".dvn-scroller").first
    sizes = scroller.evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert sizes[0] <= sizes[1] + 1, f"the stability table scrolls sideways: {sizes}"


def test_cross_domain_page_shows_what_the_model_says_on_the_first_screen(projector):
    url, pg = projector
    pg.goto(url + "/cross-domain")
    pg.get_by_text("Outside the training domain").wait_for(timeout=300_000)
    pg.get_by_text("3. Where it looks: SHAP on both domains").wait_for(timeout=300_000)
    _settled(pg)
    pg.screenshot(path=str(ARTIFACTS / "first_screen_cross_domain.png"))
    for label in ("Most common answer", "Outside the training domain", "Out-of-domain AUROC"):
        _on_first_screen(pg, pg.locator('[data-testid="stMetric"]').filter(has_text=label), label)
    _nothing_cut(pg)
    maps = pg.locator(".js-plotly-plot").filter(has_text="synthetic-lung-ct #")
    maps.scroll_into_view_if_needed()
    _titles_apart(pg, maps)


def test_html_report_tables_stay_inside_the_page(projector, brain_model, tmp_path):
    """A long parameter value (no spaces to break at) wraps inside the parameter table instead of pushing
    it past the right margin."""
    from tests.test_report import _fake_case
    from xai_core import report

    case = _fake_case(brain_model, extra={"masker": "blur(20,20)", "segmenter_params": "n_segments=12," * 40})
    html = report.write(report.assemble([case], [brain_model]), tmp_path / "r.html").read_text()
    _, pg = projector
    pg.set_content(html)
    wide = pg.evaluate("() => Array.from(document.querySelectorAll('table')).map(t => "
                       "[t.getBoundingClientRect().right, document.body.getBoundingClientRect().right])"
                       ".filter(([t, b]) => t > b + 1)")
    assert not wide, wide


def _budget(pg, expander: str, value: int):
    """Open ``expander`` and set SHAP's Max evals to ``value`` (a budget never run before: the work is not
    in the disk cache, so it is still running when the Stop button is measured)."""
    pg.get_by_text(expander).first.click()
    box = pg.locator('input[aria-label="Max evals"]').first
    box.fill(str(value))
    box.press("Enter")


def _start_cross_domain(pg, budget):
    pg.get_by_text("3. Where it looks").wait_for(timeout=300_000)
    _wait_idle(pg, timeout=300_000)
    _budget(pg, "settings", budget)  # the examples start on their own with the new budget


def _start_compare(pg, budget):
    pg.get_by_role("button", name="Compare").wait_for(timeout=300_000)
    _wait_idle(pg, timeout=300_000)
    _budget(pg, "settings (the same for every map)", budget)
    pg.get_by_role("button", name="Compare").click()


def _start_methods(pg, budget):
    pg.get_by_text("Settings of each method").wait_for(timeout=300_000)
    _budget(pg, "Settings of each method", budget)  # the methods start again on their own


def _start_trust(pg, budget):
    pg.get_by_role("button", name="Evaluate").wait_for(timeout=300_000)
    _wait_idle(pg, timeout=300_000)
    pg.get_by_role("button", name="Evaluate").click()


@pytest.mark.parametrize("path, start", [("/cross-domain", _start_cross_domain), ("/compare-architectures", _start_compare),
                                         ("/methods", _start_methods), ("/trust", _start_trust)])
def test_stop_sits_on_the_first_screen_above_the_results(projector, path, start):
    """While long work runs, its Stop button is on the first screen of a projector, above every result
    (map, table, metric) the page shows, so nobody has to scroll to find it; it is pressed after measuring."""
    import random

    url, pg = projector
    pg.goto(url + path)
    start(pg, random.randint(20_000, 60_000))
    stop = pg.locator("button").filter(has_text="Stop").first
    stop.wait_for(timeout=120_000)
    _to_top(pg)
    box = stop.bounding_box()
    pg.screenshot(path=str(ARTIFACTS / f"stop{path.replace('/', '_')}.png"))
    results = pg.locator('.js-plotly-plot, [data-testid="stDataFrame"], [data-testid="stMetric"], '
                         '[data-testid="stImage"]').evaluate_all(
        "els => els.filter(e => e.offsetParent).map(e => e.getBoundingClientRect().top)")
    stop.click()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= H, f"Stop is not on the first screen: {box}"
    assert all(top >= box["y"] + box["height"] for top in results), (box, results)
