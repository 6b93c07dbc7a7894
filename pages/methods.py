"""Methods side by side: every registered explanation method on one scan and one class."""

import hashlib

import numpy as np
import pandas as pd
import streamlit as st

from pages._ui import cached, widgets
from pages._ui.forms import param_form
from pages._ui.jobs import run_steps, stop_slot, stopped_note
from pages._ui.render import user_errors
from pages._ui.report import report_download, scan_case
from pages._ui.trust import scan_mask, trust_cards
from pages._ui.literal import lit
from xai_core.magnitude import negligible_message
from xai_core import plots
from xai_core.explainers import EXPLAINERS, featured
from xai_core.method_comparison import normalised, rank_agreement, summary_row
from xai_core.exports import csv_text

PER_ROW = 4
RESULT = "methods_result"

st.title("Methods side by side")
stop_here = stop_slot()  # on the first screen, whatever the settings below take up
st.markdown(
    f"{len(EXPLAINERS)} explanation methods are available. They answer different questions: **gradients** say "
    "how the score would change if a pixel changed a little, **CAM** methods say where the last convolutional "
    "features fire, **perturbation** methods hide parts of the scan and watch the score, and **SHAP** methods "
    "share the score out fairly among pixels or regions. Where they agree, trust the map more; where they "
    "disagree, the map says more about the method than about the scan. Red raises the class score, blue "
    "lowers it."
)

with user_errors("Loading the model and scan"):
    scan = widgets.model_and_scan()
    model_name, lm, image, title = scan["model_name"], scan["model"], scan["image"], f"test #{scan['index']}"
    upload = st.file_uploader("Or explain your own scan", type=["png", "jpg", "jpeg", "tif", "tiff", "bmp", "dcm"],
                              key="methods_upload", help="Used instead of the test scan while it is loaded.")
    if upload is not None:
        image, _ = cached.read_scan(upload.getvalue(), upload.name)
        title = upload.name
    x = lm.prepare(image)
    probs = lm.forward_image(x)[1]
    widgets.domain_warning(model_name, x)

    c1, c2, c3 = st.columns([2, 2, 1])
    top = int(np.argmax(probs))
    cls = c1.selectbox("Class to explain", range(lm.num_classes), index=top, key="methods_class",
                       format_func=lambda i: f"{lm.class_names[i]} ({probs[i]:.1%}){' · predicted' if i == top else ''}")
    output = c2.radio("Output space", ["margin", "probability"], horizontal=True, key="methods_output",
                      help="Margin: the raw class score (logit). Probability: the softmax output.")
    common = c3.toggle("Common scale", value=False, key="methods_common",
                       help="Divide every map by its largest |value|, so all read on one -1..1 scale.")
    names = EXPLAINERS.names()
    chosen = st.multiselect("Methods", names, default=featured(), key="methods_set",
                            format_func=lambda n: f"{EXPLAINERS.get(n).display_name} ({EXPLAINERS.get(n).family})")

    settings = {}
    with st.expander("Settings of each method"):
        for n in chosen:
            cls_ = EXPLAINERS.get(n)
            if cls_.params:
                st.markdown(f"**{cls_.display_name}**: {cls_.description}")
                settings[n] = param_form(cls_.params, f"methods_{n}")
    for n in chosen:  # a method whose cost depends on the scan says so before computing
        cls_ = EXPLAINERS.get(n)
        note = cls_.cost_note(lm, x, cls_.validate(settings.get(n, {})))
        if note:
            st.caption(f"{cls_.display_name}: {note}")

    jobs = [dict(method=n, output=output, classes=[int(cls)], title=EXPLAINERS.get(n).display_name,
                 **settings.get(n, {})) for n in chosen]
    # One step per method, with a Stop button; a Stop (a rerun with the same settings while it computed)
    # keeps the finished maps shown and waits; any other action goes on with the rest.
    request = dict(model=model_name, model_hash=lm.file_hash, scan=hashlib.sha256(x.tobytes()).hexdigest(),
                   jobs=jobs)
    prev = st.session_state.get(RESULT)
    interrupted = prev is not None and prev.get("running") and prev["request"] == request
    steps = [(job["method"], lambda job=job: cached.explain_each(
        model_name, x, [job], label=f"Explaining with {job['title']}")[0]) for job in jobs]
    state = run_steps(RESULT, request, steps, start=not interrupted, slot=stop_here,
                      what="Explaining with each method", titles={j["method"]: j["title"] for j in jobs})
    results = [(n, state["done"][n]) for n in chosen if n in state["done"]] if state else []
    if state is not None and state["stopped"]:
        stopped_note(state, "methods", "Go on")
        st.button("Go on", key="methods_go_on", type="primary")

if not chosen:
    st.info("Choose at least one method.")
    st.stop()

done = [(n, r) for n, r in results if not isinstance(r, str)]
for _, r in results:
    if isinstance(r, str):
        st.warning(r)

st.subheader(f"{lit(lm.class_names[cls])} on {title}, {output} space")
rows, maps = [], {}
for start in range(0, len(done), PER_ROW):
    cols = st.columns(PER_ROW)
    for col, (n, e) in zip(cols, done[start:start + PER_ROW]):
        ecls = EXPLAINERS.get(n)
        m = e.map(0)
        maps[ecls.display_name] = m
        row = summary_row(e, ecls)
        rows.append(row)
        label = "relative (map / max |map|)" if common else row["unit"]
        fig = plots.method_map_figure(e.image, normalised(m) if common else m, label,
                                      ecls.display_name + plots.approximate_note(e, short=True),
                                      vmax=1.0 if common else None, says_nothing=plots.faint(e))
        with col:
            st.plotly_chart(fig, width="stretch", key=f"methods_map_{n}")
            check = (f"{row['check']} {row['value']:.1e}" if row["check"] == "residual" else
                     f"{row['check']} {row['value']:.2f}" if row["check"] not in ("—", "no fit") else
                     "no fit (the output does not move)" if row["check"] == "no fit" else "not additive")
            st.caption(f"{row['unit']} · {row['seconds']:.2f} s{' (cached)' if row['cached'] else ''} · {check}")
            if plots.faint(e):  # drawn faintly above; one line says why, and its card gives no verdict
                st.caption(negligible_message(e, 0))

if done:
    mask = None if upload is not None else scan_mask(scan.get("scan"))
    trust_cards([(EXPLAINERS.get(n).display_name, model_name, e, mask) for n, e in done], key="methods_trust")

if rows:
    table = pd.DataFrame(rows)
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "seconds": st.column_config.NumberColumn(format="%.2f"),
        "value": st.column_config.NumberColumn("residual / fit", format="%.3g",
                                               help="Additive methods: |base + sum − output| relative to the "
                                                    "output. LIME: R² of its local fit.")})
    st.download_button("Download the table (CSV)", csv_text(table).encode(), "methods.csv", "text/csv")
    report_download("methods_report", [{"model": model_name, "explanations": [e for _, e in done],
                                        "upload": (upload.getvalue(), upload.name)} if upload is not None else
                                       scan_case(model_name, [e for _, e in done], scan["scan"].key, x, scan["true"])])

if len(maps) >= 2:
    st.subheader("How much the methods agree")
    agree = rank_agreement(maps)
    st.plotly_chart(plots.agreement_figure(agree), width="stretch", key="methods_agreement")
    st.caption("Spearman rank correlation between maps, over pixels: 1 means the two methods order the pixels "
               "the same way, 0 unrelated, −1 reversed. Methods that only give non-negative maps (Grad-CAM, "
               "RISE, XRAI) can agree with signed ones only on the pixels that raise the score.")
    st.download_button("Download the matrix (CSV)", csv_text(agree, index=True).encode(), "method_agreement.csv", "text/csv")
