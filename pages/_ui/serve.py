"""``python -m pages._ui.serve [streamlit flags]``: start the dashboard with its start-up work done in the background.

``streamlit run`` executes the page scripts only when a browser connects, so a
fresh server paid for TensorFlow's import, the model load, the out-of-domain
fit and shap's numba compilation inside the first visitor's request. Here the
server process starts a daemon thread that runs ``xai_core.warmup.warm``
(filling the same in-process and disk caches the pages use), then hands over
to Streamlit's own command line in the same process.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path


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

    app = str(Path(__file__).resolve().parents[2] / "app.py")
    sys.argv = ["streamlit", "run", app, *argv]
    sys.exit(cli.main())


if __name__ == "__main__":
    main(sys.argv[1:])
