"""A real browser opens a finished audit on the Audit page: leaderboard, gallery, and a case that opens."""

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_browser import ARGS, ARTIFACTS, CHROMIUM, _free_port, _wait_idle

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
    assert Path(CHROMIUM).exists(), "Debian chromium is required: apt-get install -y chromium"
    port = _free_port()
    env = {**os.environ, "XAI_CACHE_DIR": str(cache_dir), "XAI_AUDITS_DIR": str(audits)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("streamlit did not become healthy: " + proc.stdout.read().decode()[-2000:])
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_open_a_finished_audit_and_see_leaderboard_and_gallery(audit_server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        try:
            page.goto(audit_server + "/audit")
            page.get_by_text("1. Leaderboard").wait_for(timeout=300_000)
            page.get_by_text("4. Worst cases").wait_for(timeout=120_000)
            _wait_idle(page)
            assert page.locator('[data-testid="stDataFrame"]').count() >= 1  # the leaderboard
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 4", timeout=120_000)
            text = " ".join(page.locator(".js-plotly-plot .gtitle, .js-plotly-plot .annotation-text, "
                                         ".js-plotly-plot .ytitle").all_text_contents())
            assert "focus" in text, text
            page.get_by_text("Lowest focus").wait_for(timeout=60_000)
            assert page.locator('[data-testid="stImage"]').count() >= 2  # the gallery's scans
            opens = page.get_by_role("button", name="Open")
            assert opens.count() >= 2
            page.screenshot(path=str(ARTIFACTS / "audit.png"), full_page=True)
            assert page.locator('[data-testid="stException"]').count() == 0
            assert page.locator('[data-testid="stAlertContentError"]').count() == 0
            opens.first.click()  # the case opens on the explanation page
            page.get_by_label("Test image #").wait_for(timeout=240_000)
            assert int(page.get_by_label("Test image #").input_value()) in range(4)
        finally:
            browser.close()
