"""``python -m pages._ui.serve [streamlit flags]``: start the dashboard with its start-up work done in the background.

``streamlit run`` executes the page scripts only when a browser connects, so a
fresh server paid for TensorFlow's import, the model load, the out-of-domain
fit and shap's numba compilation inside the first visitor's request. Here the
server process starts a daemon thread that runs ``xai_core.warmup.warm``
(filling the same in-process and disk caches the pages use), then hands over
to Streamlit's own command line in the same process.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A localhost port nothing listens on now (for a server started by a test or a benchmark)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(port: int, env: dict, *, launcher: str = "serve", cwd: Path = ROOT, **popen) -> tuple[subprocess.Popen, str]:
    """This launcher (``serve``, as ``make run`` starts it, or plain ``streamlit run app.py``) of the checkout at
    ``cwd`` on ``port`` of 127.0.0.1, headless; returns the process and its URL at once (``wait_healthy`` waits
    for it)."""
    flags = ["--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1"]
    cmd = ([sys.executable, "-m", "pages._ui.serve", *flags] if launcher == "serve"
           else [sys.executable, "-m", "streamlit", "run", "app.py", *flags])
    return subprocess.Popen(cmd, cwd=cwd, env=env, **popen), f"http://127.0.0.1:{port}"


def wait_healthy(url: str, timeout: float = 180.0, poll: float = 0.5) -> bool:
    """True once Streamlit's /_stcore/health answers "ok" at ``url``; False after ``timeout`` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                return True
        except OSError:
            time.sleep(poll)
    return False


def stop(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """Terminate a started server, killing it if it has not gone after ``grace`` seconds."""
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()


def main(argv: list[str]) -> None:
    from xai_core.warmup import warm

    threading.Thread(target=warm, kwargs={"log": lambda m: print(m, file=sys.stderr, flush=True)},
                     name="xai-warmup", daemon=True).start()
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli

    # app.py declares every page with st.navigation. Until some visitor's run of app.py has said so,
    # Streamlit treats the folder named pages/ as old-style pages: a first visitor's deep link to
    # /methods ran pages/methods.py on its own (no page config, no navigation, file names in the
    # sidebar) and /lime-segmenters showed "Page not found". Say it before the first visitor.
    PagesManager.uses_pages_directory = False

    app = str(ROOT / "app.py")
    sys.argv = ["streamlit", "run", app, *argv]
    sys.exit(cli.main())


if __name__ == "__main__":
    main(sys.argv[1:])
