"""Which method can I trust? Every chosen method on a set of scans, scored by every chosen metric."""

from __future__ import annotations


import numpy as np
import streamlit as st

import xai_core as xc
from pages._ui import cached, widgets
from pages._ui.jobs import stop_slot, stoppable, was_stopped
from pages._ui.render import progress_bar, user_errors
from xai_core import estimate, trust
from xai_core.explainers import featured
from xai_core.metrics import METRICS
from xai_core.plots import trust as trust_plots
from xai_core.exports import csv_text

RESULT = "trust_page_result"
DEFAULT_METHODS = 4  # the first four featured methods (xai_core.explainers.featured)
DEFAULT_METRICS = ("deletion", "insertion", "relevance-mass", "pointing-game", "relevance-rank")

st.title("Which method can I trust?")
stop_here = stop_slot()  # on the first screen, whatever the settings below take up
st.markdown(
    "A map can look convincing and still be wrong. This page runs several explanation methods on the same "
    "scans and scores every map: **deletion/insertion** (does the score move when the map's top pixels go or "
    "come, compared with random pixels?), and, where the lesion is known, **localisation** (does the map's "
    "evidence lie on the lesion, compared with chance?). Each cell is the mean over the scans with a "
    "bootstrap 95% interval; the best method per metric is highlighted."
)


@st.cache_data(show_spinner=False, max_entries=8)
def _evaluate(model_name: str, model_hash: str, dataset_name: str, indices: tuple, methods: tuple,
              metrics: tuple, output: str, backend: str = "") -> trust.MethodsTable:  # bf16 kept apart
    with progress_bar("Explaining and scoring…") as progress:
        return trust.evaluate_methods(cached.model(model_name), cached.dataset(dataset_name), list(indices),
                                      {m: {} for m in methods}, list(metrics), output=output, progress=progress)


def _styled(table: trust.MethodsTable):
    wide = table.wide()
    best = table.summary.pivot(index="method", columns="metric", values="best").reindex_like(wide)
    return wide.style.apply(lambda _: np.where(best.fillna(False).to_numpy(bool),
                                               "background-color: rgba(214,39,40,0.25); font-weight: bold", ""),
                            axis=None)


eta_words = "the time depends on the model"
with user_errors("Setting up the comparison"):
    model_name, lm, dataset_name, _ = widgets.model_and_dataset()
    ds = cached.dataset(dataset_name)
    with st.form("trust_settings"):
        f1, f2 = st.columns(2)
        methods_all = xc.EXPLAINERS.names()
        methods = f1.multiselect("Methods", methods_all, featured(DEFAULT_METHODS),
                                 format_func=lambda n: xc.EXPLAINERS.get(n).display_name, key="trust_methods")
        metrics = f2.multiselect("Metrics", METRICS.names(), [m for m in DEFAULT_METRICS if m in METRICS],
                                 format_func=lambda n: f"{METRICS.get(n).display_name}"
                                                       f"{' (slow)' if METRICS.get(n).cost == 'costly' else ''}",
                                 key="trust_metrics")
        g1, g2 = st.columns(2)
        n_scans = g1.slider("Test scans with lesions", 1, 48, 16, key="trust_n",
                            help="The first N test scans whose lesion mask is not empty.")
        output = g2.radio("Output space", ["margin", "probability"], horizontal=True, key="trust_output")
        submitted = st.form_submit_button("Evaluate", type="primary")
    indices = trust.lesion_scans(ds, "test", int(n_scans))
    per_image = cached.forward_seconds(model_name, lm.file_hash)
    eta = estimate.trust_seconds(per_image, methods, metrics, len(indices), tuple(lm.input_shape[:2]))
    eta_words = (f"{estimate.words(eta)} for {len(indices)} scans x {len(methods)} methods x {len(metrics)} "
                 f"metrics with {model_name} ({estimate.basis(per_image)})")
    st.caption(f"Estimate: {eta_words}.", help="Images each method and metric sends through the model, at their "
               "default settings, times a forward pass timed on this machine: an order of magnitude, not a promise.")
    request = dict(model=model_name, dataset=dataset_name, indices=indices, methods=methods, metrics=metrics,
                   output=output)
    was_stopped("trust", "Evaluate")
    if submitted:
        if not methods or not metrics:
            st.warning("Pick at least one method and one metric.")
        else:
            with stoppable("trust", stop_here, f"Explaining and scoring: {eta_words}…"):
                st.session_state[RESULT] = {"request": request, "table": _evaluate(
                    model_name, lm.file_hash, dataset_name, tuple(indices), tuple(methods), tuple(metrics), output,
                    cached.backend(model_name))}

shown = st.session_state.get(RESULT)
if shown is None:
    st.info(f"Choose methods and metrics, then press **Evaluate** ({eta_words}).")  # timed, not promised
    st.stop()

with user_errors("Showing the comparison"):
    table, req = shown["table"], shown["request"]
    if req != request:
        st.caption("The results below are for the previous settings; press **Evaluate** to update them.")
    st.subheader("Methods x metrics")
    st.dataframe(_styled(table), width="stretch", key="trust_table")
    for method, why in getattr(table, "excluded", {}).items():
        st.caption(f"**{xc.EXPLAINERS.get(method).display_name if method in xc.EXPLAINERS else method}** {why}")
    st.caption(f"{len(req['indices'])} scans of {req['dataset']} ({req['model']}, {req['output']} space); each "
               "cell is the mean [bootstrap 95% interval]. " + "; ".join(
                   f"{METRICS.get(m).display_name}: {b} is better" for m, b in table.better.items()) + ".")
    chance = table.rows.groupby("metric")["chance"].mean().dropna()
    if len(chance):
        st.caption("Chance levels (a map blind to the lesion): " + ", ".join(
            f"{METRICS.get(m).display_name} {v:.3f}" for m, v in chance.items()) + ".")
    st.plotly_chart(trust_plots.methods_figure(table.summary, table.better), width="stretch", key="trust_bars")
    with st.expander("Per-scan rows"):
        st.dataframe(table.rows, hide_index=True, width="stretch", key="trust_rows")
    settings = {"model": req["model"], "model file sha256": cached.model(req["model"]).file_hash,
                "dataset": req["dataset"], "output space": req["output"],
                "scans": [f"test #{i}" for i in req["indices"]], "methods": list(req["methods"]),
                "metrics": list(req["metrics"])}
    files = list(table.exports(settings).items())  # each file carries its settings and is named after them
    d1, d2, d3 = st.columns(3)
    for col, label, key, (name, content) in zip((d1, d2, d3), ("Summary (.csv)", "Per-scan rows (.csv)",
                                                               "Everything (.json)"),
                                                ("trust_dl_s", "trust_dl_r", "trust_dl_j"), files):
        col.download_button(label, content, name, key=key, help=f"Saved as {name}; every row carries the settings.")
