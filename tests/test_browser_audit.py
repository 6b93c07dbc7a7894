"""A real browser opens a finished audit on the Audit page and sees the leaderboard and the gallery."""

import time

import pytest

from tests.test_browser import ARGS, ARTIFACTS, CHROMIUM, _wait_idle, app_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def audits(tmp_path_factory):
    from xai_core.audit import AuditSpec, run_audit

    root = tmp_path_factory.mktemp("audits")
    spec = AuditSpec("brain-basic-cnn", "synthetic-brain-mri", limit=4,
                     method_params={"shap-partition": {"max_evals": 60}, "lime": {"num_samples": 30}})
    run_audit(spec, root / "brain-test", command="python -m xai_core audit ...")
    return root


@pytest.fixture(scope="module")
def audit_server(cache_dir, audits):
    with app_server(XAI_CACHE_DIR=str(cache_dir), XAI_AUDITS_DIR=str(audits)) as url:
        yield url


def _settle(pg, quiet_s=3.0, timeout_s=240):
    """Wait until the main area's text stops changing and nothing is loading (FIELD_NOTES: the status
    widget does not show reliably while a script runs)."""
    _wait_idle(pg)
    last, since, end = None, time.time(), time.time() + timeout_s
    while time.time() < end:
        text = pg.locator('[data-testid="stMain"]').inner_text()
        busy = pg.locator('[data-testid="stSkeleton"], [data-testid="stSpinner"]').count()
        if text != last or busy:
            last, since = text, time.time()
        elif time.time() - since >= quiet_s:
            return
        time.sleep(0.5)


def test_open_a_finished_audit_and_see_leaderboard_and_gallery(audit_server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        try:
            page.goto(audit_server + "/audit")
            page.get_by_text("1. Leaderboard").wait_for(timeout=300_000)
            page.get_by_text("4. Worst cases").wait_for(timeout=240_000)
            _settle(page)
            page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=240_000)  # the leaderboard
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 4", timeout=240_000)
            text = " ".join(page.locator(".js-plotly-plot .gtitle, .js-plotly-plot .annotation-text, "
                                         ".js-plotly-plot .ytitle").all_text_contents())
            assert "mean " in text, text  # one panel per metric, its axis "mean METRIC"
            page.get_by_text("Lowest focus").wait_for(timeout=60_000)
            page.locator('[data-testid="stImage"]').first.wait_for(timeout=240_000)
            page.get_by_role("button", name="Open").first.wait_for(timeout=240_000)
            page.screenshot(path=str(ARTIFACTS / "audit.png"), full_page=True)
            assert page.locator('[data-testid="stImage"]').count() >= 2  # the gallery's scans
            opens = page.get_by_role("button", name="Open")
            assert opens.count() >= 2
            page.screenshot(path=str(ARTIFACTS / "audit.png"), full_page=True)
            assert page.locator('[data-testid="stException"]').count() == 0
            assert page.locator('[data-testid="stAlertContentError"]').count() == 0
            # strategies: this audit's clusters, then the shipped shortcut example with its flag; a member
            # of the example's flagged cluster opens on Methods side by side
            page.get_by_text("6. Strategies: what the model does across the dataset").scroll_into_view_if_needed()
            page.get_by_text("Cluster 0:").first.wait_for(timeout=120_000)
            page.get_by_text("Example: what strategies reveal about a model that learned a shortcut").click()
            flagged = page.locator('[data-testid="stExpander"]').filter(has_text="suspicious").last
            flagged.get_by_text("top-right corner").first.wait_for(timeout=120_000)
            _settle(page)
            page.screenshot(path=str(ARTIFACTS / "audit-strategies.png"), full_page=True)
            assert flagged.locator(".js-plotly-plot").count() == 4  # the embedding and 3 prototypes
            reason = flagged.locator("p", has_text="evidence is in the top-right corner (a flat map").first
            reason.locator("xpath=following::button[normalize-space()='Open'][1]").click()
            page.wait_for_url("**/methods", timeout=120_000)
            _settle(page)
            page.screenshot(path=str(ARTIFACTS / "audit-strategies-open.png"))
            # the example's model and dataset are selected there
            assert page.get_by_role("combobox", name="Model").input_value().startswith("brain-tagged-cnn (")
            assert page.get_by_role("combobox", name="Dataset").input_value() == "synthetic-brain-mri-tagged"
            assert page.locator('[data-testid="stException"]').count() == 0
        finally:
            browser.close()
