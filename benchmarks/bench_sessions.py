"""Several browser sessions explaining at once on one server: seconds per session, the server's peak
memory, and whether each session's SHAP map is bit-identical to the same map computed alone.

    nice -n 10 python benchmarks/bench_sessions.py [--sessions 6] [--timeout 900]

The server is ``python -m pages._ui.serve`` on 127.0.0.1 (loopback only) with a fresh cache; the
sessions are Chromium pages (Debian's, Playwright's async API) that each upload a different test scan
of synthetic-brain-mri on *Your scan* at the same moment and wait for the SHAP map, its additivity line
and its trust card. Afterwards every SHAP explanation the server stored for those scans is recomputed
here, alone, without any cache, and compared array for array (``np.array_equal``, not a tolerance).
The peak memory is the server process's own high-water mark (``VmHWM`` in ``/proc/PID/status``).
Every wait is bounded by ``--timeout``: a session that does not finish in time is reported, not waited on.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MODEL = "brain-basic-cnn"


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _scan_png(index: int) -> bytes:
    import xai_core as xc
    from PIL import Image

    img = xc.load_dataset("synthetic-brain-mri").image("test", index)
    buf = io.BytesIO()
    Image.fromarray(np.asarray(img, np.uint8).squeeze()).save(buf, format="PNG")
    return buf.getvalue()


async def _session(browser, url: str, path: Path, timeout_s: float) -> dict:
    page = await browser.new_page(viewport={"width": 1440, "height": 900})
    t0 = time.perf_counter()
    out = {"scan": path.name}
    try:
        await page.goto(url + "/your-scan", timeout=timeout_s * 1000)
        await page.get_by_text("Upload a scan to begin").wait_for(timeout=timeout_s * 1000)
        await page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(path))
        left = lambda: max(1.0, timeout_s - (time.perf_counter() - t0)) * 1000  # noqa: E731
        # a scan the out-of-domain check flags keeps its answer folded until asked (about 1 in 20 test scans)
        gate = page.get_by_text("Show the prediction and maps anyway")
        await page.get_by_text("Additivity:").or_(gate).first.wait_for(timeout=left())
        if await gate.count():
            out["flagged"] = True
            await gate.click(timeout=left())
            await page.get_by_text("Additivity:").wait_for(timeout=left())
        await page.get_by_text("Can this map be trusted?").first.wait_for(timeout=left())
        await page.wait_for_function("""() => [...document.querySelectorAll('.js-plotly-plot')]
            .some(p => p.textContent.includes('SHAP') && p.querySelectorAll('.heatmaplayer .hm, image').length)""",
                                     timeout=left())
        out["seconds"] = time.perf_counter() - t0
        out["errors"] = await page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]').count()
        out["shown"] = True
    except Exception as exc:  # a timeout or a broken page: reported in the table, not raised
        out.update(seconds=time.perf_counter() - t0, shown=False, errors=-1, problem=type(exc).__name__)
    finally:
        await page.close()
    return out


async def _drive(url: str, files: list[Path], timeout_s: float) -> list[dict]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            return await asyncio.gather(*[_session(browser, url, f, timeout_s) for f in files])
        finally:
            await browser.close()


def _compare_alone(cache: Path, scans: dict[str, int]) -> list[dict]:
    """Every SHAP map the server stored for the sessions' scans, against the same call made alone here."""
    import xai_core as xc
    from xai_core.data.images import image_hash
    from xai_core.explainers import EXPLAINERS

    lm = xc.load_model(MODEL)
    rows = []
    for f in sorted(cache.rglob("explanations/*/*.npz")):  # the result cache's "explanations" kind
        served = xc.Explanation.load(f)
        if served.method != "shap-partition" or served.model_name != lm.name or served.image is None:
            continue
        scan = scans.get(image_hash(np.asarray(served.image)))
        if scan is None:
            continue
        names = {p.name for p in EXPLAINERS.get(served.method).params}
        params = {k: v for k, v in served.params.items() if k in names}
        alone = xc.explain(lm, served.image, served.method, served.output_space,
                           classes=[int(c) for c in served.class_indices], cache=None, **params)
        rows.append({"scan": scan, "output": served.output_space, "params": params,
                     "identical": bool(np.array_equal(alone.values, served.values)
                                       and np.array_equal(alone.base_values, served.base_values))})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=6)
    ap.add_argument("--timeout", type=float, default=900, help="seconds each session may take at most")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-sessions-"))
    cache = work / "cache"
    files = []
    for k in range(args.sessions):
        files.append(work / f"scan-{k}.png")
        files[-1].write_bytes(_scan_png(k))
    from pages._ui import serve

    env = {**os.environ, "XAI_CACHE_DIR": str(cache), "XAI_USER_MODELS_DIR": str(work / "models"),
           "XAI_WARM_MODELS": MODEL}
    server, url = serve.start(serve.free_port(), env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not serve.wait_healthy(url, timeout=180):
            raise SystemExit("the server did not become healthy within 180 s")
        idle_mb = _peak_rss_mb(server.pid)
        t0 = time.perf_counter()
        sessions = asyncio.run(_drive(url, files, args.timeout))
        wall = time.perf_counter() - t0
        peak_mb = _peak_rss_mb(server.pid)
    finally:
        serve.stop(server, grace=15)
    from xai_core.data.images import image_hash
    import xai_core as xc

    lm = xc.load_model(MODEL)
    scans = {image_hash(lm.prepare(xc.load_dataset("synthetic-brain-mri").image("test", k))): k
             for k in range(args.sessions)}
    compared = _compare_alone(cache, scans)
    print(f"{args.sessions} sessions on one server (127.0.0.1), each uploading its own scan on Your scan:")
    print("| session | scan | seconds to map + trust card | map shown | errors on page |")
    print("|---|---|---|---|---|")
    for i, s in enumerate(sessions):
        shown = ("yes" + (" (after the out-of-domain gate)" if s.get("flagged") else "") if s["shown"]
                 else "NO (" + s["problem"] + ")")
        print(f"| {i + 1} | {s['scan']} | {s['seconds']:.1f} | {shown} | {s['errors']} |")
    print(f"All sessions: {wall:.1f} s wall. Server peak RSS: {idle_mb:,.0f} MB after start-up, {peak_mb:,.0f} MB "
          "at the end (VmHWM).")
    got = sorted({r["scan"] for r in compared})
    same = sum(r["identical"] for r in compared)
    print(f"SHAP maps stored by the server for the sessions' scans: {len(compared)} (scans {got}); "
          f"bit-identical to the same call alone: {same} of {len(compared)}.")
    missing = sorted(set(range(args.sessions)) - set(got))
    if missing or same != len(compared) or not all(s["shown"] for s in sessions):
        print(f"PROBLEM: scans without a stored map {missing}; see the table above.")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
