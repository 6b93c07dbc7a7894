"""SHAP in margin (logit) space vs probability space, side by side (thesis figs. 4.19 to 4.21)."""

import numpy as np
import streamlit as st

from pages._ui import widgets
from pages._ui.progressive import refine, stopped_refinement, stopped_words
from pages._ui.render import absolute_scale_toggle, additivity_frame, explanation_row, npz_bytes, user_errors
from pages._ui.report import report_download, scan_case
from pages._ui.trust import scan_mask, trust_card
from pages._ui.literal import lit
from xai_core import plots
from xai_core.prediction import prediction_words
from xai_core.explainers.shap_partition import MASKERS
from xai_core.exports import csv_text

RESULT = "shap_mvp_result"
METHOD = "shap-partition"

st.title("SHAP: margin vs probability")
st.markdown("Per class, the SHAP map of its **margin** (score) beside its **probability**: **red** pixels raise "
            "that output, **blue** lower it.")
with st.expander("How to read the two spaces"):
    st.markdown(
        "A classifier first gives every class a **score** (the *margin*, or logit), then squashes the scores "
        "with softmax into **probabilities** that add up to 1. SHAP shares out the change from a blurred-out "
        "scan (the *base value*) to this scan among the pixels. In margin space that credit is evidence, and it "
        "adds up without limit. Among probabilities the same evidence counts for little once the model is "
        "already sure (98% → 99% needs far more evidence than 40% → 50%), so the maps of confident or unlikely "
        "classes look faint: read the margin map for *what the model uses*, the probability map for *what moves "
        "this decision*.")

with user_errors("Loading the model"):
    scan = widgets.model_and_scan()
    model_name, lm, image = scan["model_name"], scan["model"], scan["image"]
    x = lm.prepare(image)
    probs = lm.forward_image(x)[1]  # the same pass explain() uses to pick the top-K classes
    true_name = scan["true"]
    if not widgets.domain_gate(scan["model_name"], scan["image"], key="shap_show_anyway"):
        st.caption("The prediction and the maps are hidden for this scan.")
        st.stop()

    with st.form("shap_settings", border=False):  # no frame: the maps below must fit a 1280x720 first screen
        s1, s2, s3, s4, s5 = st.columns([3, 3, 2, 2, 1.3], vertical_alignment="bottom")
        masker = s1.selectbox("Masker", MASKERS, help="How hidden pixels are filled.")
        max_evals = s2.slider("max_evals", 100, 10_000, 1000, step=100, help="More evaluations: a finer map, slower.")
        top_k = s3.slider("Top-K classes", 1, lm.num_classes, min(4, lm.num_classes))
        seed = s4.number_input("Seed", 0, 2**31 - 1, 0)
        submitted = s5.form_submit_button("Explain", type="primary")

    request = dict(model=model_name, model_hash=lm.file_hash, scan=scan["scan"].key, label=scan["label"],
                   slug=scan["scan"].slug, masker=masker, max_evals=int(max_evals), top_k=int(top_k), seed=int(seed))
    shown = st.session_state.get(RESULT)
    partial = stopped_refinement("shap_refine")  # the rerun a Stop click caused: keep what had finished
    if submitted or (partial and any(partial["request"][k] != request[k] for k in ("model_hash", "scan"))):
        partial = None  # a new start, or another scan chosen mid-run: its probabilities would not match
    if partial is not None and partial["explanations"] is None:
        st.warning(stopped_words(partial, "evaluations per map", "Explain"), icon=":material/stop_circle:")
        st.stop()
    if partial is not None:
        margin, prob = partial["explanations"]
        shown = st.session_state[RESULT] = {"request": partial["request"], "margin": margin, "probability": prob,
                                            "probs": probs, "true": true_name,
                                            "stopped": stopped_words(partial, "evaluations per map", "Explain")}
    elif submitted or shown is None:
        # A coarse map at once, sharpened up to max_evals; the last step is the one-shot map, bit for bit.
        params = dict(max_evals=int(max_evals), masker=masker, seed=int(seed), top_k=int(top_k))
        live = {}

        def places():
            live.update({space: st.empty() for space in ("margin", "probability")})

        def draw(j, e):
            space = e.output_space
            with live[space].container():
                st.markdown(f"**{'Margin (logit)' if space == 'margin' else 'Probability'} space**, "
                            f"{e.params['max_evals']:,} evaluations so far")
                explanation_row(e, probabilities=probs, key=f"live_{space}_{e.params['max_evals']}")

        margin, prob = refine(model_name, image, [dict(method=METHOD, output=o, title=f"SHAP, {o}", **params)
                                                  for o in ("margin", "probability")], draw, key="shap_refine",
                              request=request, places=places)
        for ph in live.values():
            ph.empty()
        shown = st.session_state[RESULT] = {"request": request, "margin": margin, "probability": prob,
                                            "probs": probs, "true": true_name}
    elif shown["request"] != request:
        st.caption("The maps below are for the previous settings; press **Explain** to update them.")
    if shown.get("stopped"):
        st.warning(shown["stopped"], icon=":material/stop_circle:")

    margin, prob = shown["margin"], shown["probability"]
    req = shown["request"]
    absolute = st.session_state.get("shap_absolute", False)
    st.plotly_chart(plots.spaces_figure(margin, prob, probabilities=shown["probs"], absolute=absolute,
                                        panel_height=150), width="stretch", key="spaces")
    st.markdown(f"**Prediction:** {lit(prediction_words(lm.class_names, shown['probs']), 400)} · {lit(req['label'])}"
                + (f" (true: {lit(shown['true'])})" if shown["true"] else ""))
    evals = int(margin.params["max_evals"])  # below the request's budget when refinement was stopped
    region = margin.info.get("features", 0) / max(1, evals / 2)
    how = "computed" if not (margin.cached and prob.cached) else "served from cache"
    st.caption(f"{evals:,} evaluations per map ({how}; {margin.seconds + prob.seconds:.1f} s of compute). "
               f"At this budget SHAP resolves regions of roughly {region:,.0f} pixels; raise max_evals for finer maps. "
               "The margin is the class score just before softmax turns the scores into probabilities.",
               help=f"Margin from the {lm.head_how}.")
    absolute_scale_toggle("shap_absolute")
    left, right = st.columns([1, 2])
    with left:
        st.plotly_chart(plots.image_figure(margin.image, req["label"] + (f" (true: {shown['true']})"
                                                                          if shown["true"] else "")),
                        width="stretch", key="img")
    with right:
        top = int(np.argmax(shown["probs"]))
        st.plotly_chart(plots.probability_figure(shown["probs"], lm.class_names, highlight=top),
                        width="stretch", key="probs")
    mask = scan_mask(scan["scan"], req["scan"])
    # below the first screen: each space's maps at full size, each with its trust card
    st.subheader("Margin (logit) space")
    explanation_row(margin, probabilities=shown["probs"], key="margin", absolute=absolute)
    trust_card(req["model"], margin.image, margin, mask=mask, key="trust_margin")
    st.subheader("Probability space")
    explanation_row(prob, probabilities=shown["probs"], key="probability", absolute=absolute)
    trust_card(req["model"], prob.image, prob, mask=mask, key="trust_probability")

    st.subheader("Additivity: base value + sum of SHAP values = model output")
    table = additivity_frame(margin, prob)
    st.dataframe(table.style.format({c: "{:.6g}" for c in table.columns if c not in ("space", "class")}
                                    | {"residual": "{:.1e}"}), hide_index=True, width="stretch")
    worst = table["residual"].max()
    st.caption("The maps add up exactly: base value plus the map's sum equals the model's output"
               + (" to within rounding." if worst < 1e-4 else f", except for a gap of {worst:.2g}: "
                  "something went wrong, please report it."),
               help=f"Largest residual: {worst:.1e} (SHAP's Partition explainer is exactly additive; "
                    "a residual above about 1e-4 of the output would mean something went wrong).")
    d1, d2, d3 = st.columns(3)
    stem = f"shap_{req['model']}_{req['slug']}_{evals}evals"
    d1.download_button("Margin maps (.npz)", npz_bytes(margin), f"{stem}_margin.npz", key="dl_m")
    d2.download_button("Probability maps (.npz)", npz_bytes(prob), f"{stem}_probability.npz", key="dl_p")
    d3.download_button("Additivity table (.csv)", csv_text(table), f"{stem}_additivity.csv", key="dl_t")
    report_download("shap_report", [scan_case(req["model"], [margin, prob], req["scan"], margin.image, shown["true"])],
                    handout="shap")
