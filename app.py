"""Entry point: page config and navigation, nothing else."""

import streamlit as st

from pages._ui.backend import backend_setting
from pages._ui.liveness import this_session
from xai_core import cancel
from xai_core.models.openvino_backend import using
from xai_core.segmenters import SEGMENTERS

st.set_page_config(page_title="XAI dashboard: explain image classifiers", page_icon=":material/neurology:", layout="wide")
# A projector is 1280x720: less empty space above and beside the page, and a smaller page title, so each
# classroom page's headline comparison fits on the first screen (tests/test_browser_first_screen.py).
st.html("<style>[data-testid='stMainBlockContainer']{padding:3.5rem 2rem 3rem 2rem}"
        "[data-testid='stMainBlockContainer'] h1{font-size:2.1rem;padding:0.25rem 0 0.5rem 0}"
        # a metric's name wraps instead of ending in "…" in narrow columns (trust cards)
        "[data-testid='stMetricLabel'] *{white-space:normal !important;overflow:visible !important}</style>")

pages = [
    st.Page("pages/home.py", title="Home: models, data and gallery", icon=":material/home:", default=True),
    st.Page("pages/shap_margin_vs_probability.py", title="SHAP: margin vs probability", icon=":material/compare:",
            url_path="shap-margin-vs-probability"),
    st.Page("pages/lime_segmenters.py", title=f"LIME: {len(SEGMENTERS)} segmenters", icon=":material/grid_view:",
            url_path="lime-segmenters"),
    st.Page("pages/methods.py", title="Methods side by side", icon=":material/view_column:", url_path="methods"),
    st.Page("pages/cross_domain.py", title="Cross-domain: another domain", icon=":material/swap_horiz:",
            url_path="cross-domain"),
    st.Page("pages/compare_architectures.py", title="Compare architectures", icon=":material/view_comfy:",
            url_path="compare-architectures"),
    st.Page("pages/trust.py", title="Which method can I trust?", icon=":material/verified:", url_path="trust"),
    st.Page("pages/model_report.py", title="Model report", icon=":material/analytics:", url_path="model-report"),
    st.Page("pages/audit.py", title="Audit a dataset", icon=":material/fact_check:", url_path="audit"),
    st.Page("pages/train.py", title="Train a model", icon=":material/model_training:", url_path="train"),
    st.Page("pages/shortcut.py", title="Debug a model: find a shortcut", icon=":material/bug_report:", url_path="shortcut"),
    st.Page("pages/your_scan.py", title="Your scan", icon=":material/upload_file:", url_path="your-scan"),
    st.Page("pages/your_models_and_data.py", title="Your models and data", icon=":material/folder_open:",
            url_path="your-models-and-data"),
]


@st.cache_resource(show_spinner=False)
def _start_up() -> int:
    """Once per server process: remove what killed writers left (half-unpacked zips, temporary files)."""
    from xai_core import userdata

    return len(userdata.housekeeping())


_start_up()
# a closed tab's computation stops at its next batch; forward passes run on this session's chosen backend
with cancel.stop_on(this_session()), using(backend_setting()):
    st.navigation(pages).run()
