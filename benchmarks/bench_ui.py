"""What a person waits for in the browser: a fixed script of actions, timed in Chromium.

The script (one user, Debian's Chromium driven by Playwright):

 1. open Home               2. filter the gallery        3. Explain a scan (SHAP page)
 4. change max_evals        5. switch model              6. upload a DICOM (Your scan)
 7. change its window       8. open LIME                 9. open Cross-domain
10. open Compare           11. press Compare

Each action is timed from the click (or navigation) until the page has settled: no spinner, skeleton,
progress bar, running-script widget or Stop button (work in progress shows one), and the main area unchanged
for ``--quiet`` seconds (on a busy machine a run can sit still for seconds between steps); the time of
the last change is the action's time. A **cold** pass runs against a freshly started server whose result
cache is empty (generated datasets are kept: they are made once per machine); the **warm** pass repeats the
script on the same server. ``--runs`` servers are started; p50 and p95 are over the runs.

After each action that ends on a classroom page's headline comparison (SHAP's margin-vs-probability maps,
LIME's six segmenters, Cross-domain's summary, Compare's grid), the benchmark scrolls back to the top and
checks that the headline's bounding boxes lie wholly inside the ``--viewport`` (issue 28: a projector is
1280x720): the "first screen" column says yes or no, per run.

    python benchmarks/bench_ui.py [--runs 3] [--viewport 1280x720] [--launcher serve|streamlit] [--out results.json]

``--launcher streamlit`` starts the server as before this benchmark existed (``streamlit run app.py``);
``serve`` starts it the way ``make run`` does now (``python -m pages._ui.serve``: start-up work in a
background thread). Kept out of ``make test``: it is a measurement, not a check.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
BUSY = ('[data-testid="stSpinner"], [data-testid="stSkeleton"], [data-testid="stProgress"], '
        '[data-testid="stStatusWidget"]')


STARTS: list[dict] = []  # per run: seconds until the server answered, and until it had started (warm-up done)


def start_server(launcher: str, cache: Path, root: Path = ROOT) -> tuple[subprocess.Popen, str]:
    from pages._ui import serve

    env = {**os.environ, "XAI_CACHE_DIR": str(cache), "TF_CPP_MIN_LOG_LEVEL": "3"}
    log = cache / "server.log"
    t0 = time.time()
    deadline = t0 + 180
    proc, url = serve.start(serve.free_port(), env, launcher=launcher, cwd=root, stdout=subprocess.DEVNULL,
                            stderr=log.open("w"))
    if not serve.wait_healthy(url, timeout=180, poll=0.25):
        proc.kill()
        raise RuntimeError("the server did not start")
    healthy = time.time() - t0
    # "a started server": with the serve launcher, its background warm-up has finished (the streamlit
    # launcher has none, so its first visitor pays for that work)
    while launcher == "serve" and "warm-up: done" not in log.read_text() and time.time() < deadline:
        time.sleep(0.25)
    STARTS.append({"healthy": healthy, "started": time.time() - t0})
    print(f"  server healthy after {healthy:.1f} s, started after {time.time() - t0:.1f} s", file=sys.stderr)
    return proc, url


# A progressive map is on screen: the SHAP page's refinement captions it "... evaluations so far" while it sharpens.
FIRST_MAP = """() => { const m = document.querySelector('[data-testid="stMain"]');
    return !!m && m.innerText.includes('evaluations so far') && m.querySelectorAll('.js-plotly-plot').length > 0; }"""


def settle(page, t0: float, quiet: float, timeout: float = 600, first: dict | None = None) -> float:
    """Seconds from ``t0`` until the main area last changed, once it has been still for ``quiet`` seconds.
    With ``first``, ``first["map"]`` gets the seconds until a heatmap was first drawn."""
    last_sig, last_change = None, time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if first is not None and "map" not in first and page.evaluate(FIRST_MAP):
            first["map"] = time.perf_counter() - t0
        sig = page.evaluate(f"""() => {{
            const m = document.querySelector('[data-testid="stMain"]');
            return [m ? m.innerText.length : -1, m ? m.innerText.slice(0, 4000) : '',
                    document.querySelectorAll('.js-plotly-plot').length,
                    document.querySelectorAll('[data-testid="stImage"] img').length,
                    document.querySelectorAll('{BUSY}').length
                    + [...document.querySelectorAll('button')].filter(b => b.innerText.trim().endsWith('Stop')).length];
        }}""")
        now = time.perf_counter()
        if sig != last_sig:
            last_sig, last_change = sig, now
        elif sig[4] == 0 and sig[0] > 0 and now - last_change >= quiet:
            return last_change - t0
        time.sleep(0.1)
    return float("nan")


# action -> the headline comparison it ends on: (CSS selector, text the element must contain), every one of
# which must lie wholly inside the viewport once scrolled to the top
HEADLINES = {
    "Explain a scan": [(".js-plotly-plot", "margin")],  # the first such map: margin beside probability per class
    "change max_evals": [(".js-plotly-plot", "margin")],
    "open LIME": [(".js-plotly-plot", "fit R²")],
    "open Cross-domain": [('[data-testid="stMetric"]', t) for t in
                          ("Most common answer", "Outside the training domain", "Out-of-domain AUROC")],
    "press Compare": [(".js-plotly-plot", "")],
}
ON_FIRST_SCREEN = """(parts) => {
    window.scrollTo(0, 0);
    document.querySelectorAll('*').forEach(e => { if (e.scrollTop) e.scrollTop = 0; });  // Streamlit's own scroller
    return parts.map(([sel, text]) => {
        const el = [...document.querySelectorAll(sel)].find(e => e.textContent.includes(text));
        if (!el) return null;
        const r = el.getBoundingClientRect();
        return r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth;
    });
}"""


def first_screen(page, name: str) -> bool | None:
    """Whether the headline comparison ``name`` ends on lies wholly on the first screen (None: not found)."""
    found = page.evaluate(ON_FIRST_SCREEN, [list(p) for p in HEADLINES[name]])
    return None if None in found else all(found)


def dicom_file() -> Path:
    from pydicom.data import get_testdata_file

    return Path(get_testdata_file("CT_small.dcm"))


def pick(page, label: str, option: str) -> None:
    """Choose ``option`` in the selectbox labelled ``label``."""
    import re

    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    box.click()
    page.get_by_role("option", name=re.compile(re.escape(option))).first.click()


def script(page, url: str, quiet: float, shots: Path | None = None, tag: str = "",
           screens: dict | None = None) -> dict[str, float]:
    """The fixed script; each action's seconds (NaN if the action could not be done on this version).
    With ``shots``, a screenshot after each action shows what was timed; ``screens`` gets, per action with
    a headline comparison, whether it was on the first screen."""
    out: dict[str, float] = {}

    def act(name, do, first_map: bool = False):
        try:
            first: dict | None = {} if first_map else None
            t0 = time.perf_counter()
            do()
            out[name] = settle(page, t0, quiet, first=first)
            if first_map:  # seen while refining, or (refined too fast to catch, e.g. cached) once settled
                out[f"{name}: first map"] = min(first.get("map", out[name]), out[name])
            if screens is not None and name in HEADLINES:
                screens[name] = first_screen(page, name)
        except Exception as exc:  # a changed page: record the gap, keep going
            print(f"  {name}: could not run ({type(exc).__name__}: {str(exc)[:120]})", file=sys.stderr)
            out[name] = float("nan")
        if shots is not None:
            page.screenshot(path=str(shots / f"{tag}{len(out):02d}-{name.replace(' ', '-')}.png"), full_page=True)

    act("open Home", lambda: page.goto(url))
    act("filter the gallery", lambda: page.get_by_text("misclassified", exact=True).first.click())
    act("Explain a scan", lambda: page.get_by_role("button", name="Explain").first.click(), first_map=True)

    def more_evals():
        import re

        thumb = page.get_by_role("slider", name=re.compile("max_evals")).first
        thumb.focus()
        for _ in range(10):  # 1,000 -> 2,000 evaluations (step 100)
            thumb.press("ArrowRight")
        page.get_by_role("button", name="Explain").first.click()

    act("change max_evals", more_evals, first_map=True)
    act("switch model", lambda: pick(page, "Model", "brain-optimized-cnn"))

    def upload():
        page.goto(url + "/your-scan")
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(dicom_file()))

    act("upload a DICOM", upload)
    act("change its window", lambda: pick(page, "Window", "lung"))
    act("open LIME", lambda: page.goto(url + "/lime-segmenters"))
    act("open Cross-domain", lambda: page.goto(url + "/cross-domain"))
    act("open Compare", lambda: page.goto(url + "/compare-architectures"))
    act("press Compare", lambda: page.get_by_role("button", name="Compare").first.click())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--viewport", default="1500x1100", help="browser window, WIDTHxHEIGHT (a projector: 1280x720)")
    ap.add_argument("--launcher", choices=["serve", "streamlit"], default="serve")
    ap.add_argument("--quiet", type=float, default=1.5, help="seconds without change that count as settled")
    ap.add_argument("--out", default=None, help="also write the figures as JSON")
    ap.add_argument("--screenshots", default=None, help="a folder for a screenshot after every action")
    ap.add_argument("--root", default=str(ROOT), help="the app's folder to serve (e.g. a worktree of an older "
                                                        "commit, for the 'before' figures)")
    args = ap.parse_args()
    width, height = (int(v) for v in args.viewport.lower().split("x"))
    load_before = os.getloadavg()[0]  # the machine is shared: the figures say how busy it was
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    datasets = Path(tempfile.mkdtemp(prefix="bench-ui-datasets-"))
    # generate the datasets once (a one-time cost per machine, not part of any interaction)
    subprocess.run([sys.executable, "-c", "import xai_core as xc; [xc.load_dataset(d) for d in "
                    "('synthetic-brain-mri', 'synthetic-lung-ct')]"], cwd=args.root, check=True,
                   env={**os.environ, "XAI_CACHE_DIR": str(datasets)})
    runs: dict[str, list[dict]] = {"cold": [], "warm": []}
    screens: dict[str, list[dict]] = {"cold": [], "warm": []}
    for r in range(args.runs):
        cache = Path(tempfile.mkdtemp(prefix="bench-ui-cache-"))
        shutil.copytree(datasets / "datasets", cache / "datasets")
        proc, url = start_server(args.launcher, cache, Path(args.root))
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                for phase in ("cold", "warm"):
                    page = browser.new_page(viewport={"width": width, "height": height})
                    shots = Path(args.screenshots) if args.screenshots else None
                    if shots:
                        shots.mkdir(parents=True, exist_ok=True)
                    screens[phase].append({})
                    runs[phase].append(script(page, url, args.quiet, shots, f"run{r + 1}-{phase}-", screens[phase][-1]))
                    page.close()
                    print(f"run {r + 1} {phase}: " + ", ".join(f"{k} {v:.1f}" for k, v in runs[phase][-1].items()),
                          file=sys.stderr, flush=True)
                browser.close()
        finally:
            proc.terminate()
            proc.wait(20)
            shutil.rmtree(cache, ignore_errors=True)
    actions = list(runs["cold"][0])
    table = {a: {ph: {"p50": float(np.nanpercentile([r[a] for r in runs[ph]], 50)),
                      "p95": float(np.nanpercentile([r[a] for r in runs[ph]], 95))} for ph in runs} for a in actions}

    def shown(a):  # per run, cold then warm: yes / no / "not found"
        marks = [{True: "yes", False: "no", None: "not found"}[s[a]] for ph in ("cold", "warm") for s in screens[ph]
                 if a in s]
        return ", ".join(marks) if marks else "—"

    print(f"\nInteraction times in Chromium at {width}x{height}, {args.launcher} launcher, {args.runs} runs, "
          f"{os.cpu_count()} CPU cores, load average {load_before:.1f} at the start and {os.getloadavg()[0]:.1f} at the end, app at {args.root} "
          "(seconds; p50 / p95)\n")
    print("| action | cold p50 | cold p95 | warm p50 | warm p95 | first screen shows the comparison |")
    print("|---|---:|---:|---:|---:|---|")
    for a in actions:
        c, w = table[a]["cold"], table[a]["warm"]
        print(f"| {a} | {c['p50']:.1f} | {c['p95']:.1f} | {w['p50']:.1f} | {w['p95']:.1f} | {'' if ':' in a else shown(a)} |")
    if args.out:
        Path(args.out).write_text(json.dumps({"launcher": args.launcher, "root": args.root, "viewport": [width, height],
                                              "load_average": [load_before, os.getloadavg()[0]], "starts": STARTS, "runs": runs,
                                              "first_screen": screens, "table": table}, indent=2))
    shutil.rmtree(datasets, ignore_errors=True)


if __name__ == "__main__":
    main()
