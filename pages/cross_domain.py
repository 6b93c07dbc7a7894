"""A model on another domain, side by side (the source paper's Tables 1 and 2, sections 3.4 and 4.5)."""

import numpy as np
import pandas as pd
import streamlit as st

import xai_core as xc
from pages._ui import cached, widgets
from pages._ui.forms import method_picker, param_form
from pages._ui.jobs import stop_slot, stoppable, was_stopped
from pages._ui.render import user_errors
from pages._ui.trust import trust_cards
from xai_core.untrusted import plotly_literal
from xai_core import plots
from xai_core.cross_domain import default_groups, entropy, suggested_target
from xai_core.explainers import featured
from xai_core.exports import csv_text

st.title("Cross-domain: a model on data it never saw")
stop_here = stop_slot()  # the example maps of section 3 run on every visit, far below the first screen
st.markdown("A model **always** answers with one of the classes it knows, even on scans from another domain: "
            "what does it say there, and does the out-of-domain score catch them?")
with st.expander("Why this matters, and how the out-of-domain score works"):
    st.markdown(
        "The source paper ran its brain-MRI model, unchanged, on lung CT scans. It still answered, often with "
        "high confidence, and SHAP showed it looking at irrelevant areas, so a confident answer on a foreign scan "
        "means nothing. This page runs a model over another dataset, tabulates what it says, and scores every "
        "image for how far it lies from the model's training data (the **out-of-domain score**: above the "
        "threshold, the image is less like the training data than 95% of the model's own validation images).")

result = None
with user_errors("Running the model on the other domain"):
    c1, c2, c3, c4 = st.columns([2, 2, 1, 2])
    with c1:
        model_name = widgets.model_picker(label="Source model")
    lm = cached.model(model_name)
    names = cached.dataset_names()
    target_default = suggested_target(lm.metadata.dataset, names)
    target = c2.selectbox("Target dataset", names, index=names.index(target_default), key="cd_target")
    split = c3.selectbox("Split", ["test", "val", "train"], key="cd_split")
    groups = c4.text_input(
        "Class groups (summed)", value=default_groups(lm.class_names), key=f"cd_groups_{model_name}",
        help="NAME=class,class; separate groups with ';'. E.g. tumor=glioma,meningioma,pituitary gives a "
             "p_group_tumor column, the paper's combined tumour probability.")
    result = cached.cross_domain(model_name, target, split, groups)

if result is None:
    st.stop()

table, summary = result.table, result.summary
ood = summary["ood"]
ds_target = cached.dataset(target)
same_domain = ood.get("reference_dataset") == target

with user_errors("Showing the summary"):
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Images", f"{len(table):,}")
    top_class, top_count = next(iter(summary["argmax_counts"].items()))
    m2.metric("Most common answer", top_class, f"{top_count / len(table):.0%} of images", delta_color="off")
    if ood["available"]:
        m3.metric("Outside the training domain", f"{ood['flagged_fraction']:.0%}",
                  f"{ood['source_test_flagged_fraction']:.0%} of {ood['reference_dataset']} test", delta_color="off")
        m4.metric("Out-of-domain AUROC", "—" if ood["auroc"] is None else f"{ood['auroc']:.3f}",
                  help="How well the score separates the model's own test images from these (1 = perfectly, "
                       "0.5 = chance).")
        if same_domain:
            st.info(f"**{target}** is what **{model_name}** was trained on; pick another dataset to see a "
                    "domain shift.")
        else:
            st.markdown(
                f"**{model_name}** was trained on **{ood['reference_dataset']}**. On **{target}** it answers "
                f"**{top_class}** for {top_count / len(table):.0%} of images, with a median top probability of "
                f"{table['max_probability'].median():.0%}; the out-of-domain score flags "
                f"{ood['flagged_fraction']:.0%} of them (AUROC {ood['auroc']:.3f}).")
    else:
        m3.metric("Out-of-domain check", "unavailable")
        st.caption(ood["reason"])

st.subheader("1. Per-image table")
with user_errors("Showing the table"):
    f1, f2 = st.columns([2, 1])
    actual = f1.multiselect("Actual class", result.target_classes, default=result.target_classes, key="cd_actual")
    only_out = f2.toggle("Only flagged images", key="cd_only_out", disabled="outside_domain" not in table,
                         help="Show only the images outside the model's training domain.")
    view = table[table["actual"].isin(actual)]
    if only_out and "outside_domain" in view:
        view = view[view["outside_domain"]]
    prob_cols = [c for c in table.columns if c.startswith("p_")]
    st.dataframe(view.style.format({c: "{:.4f}" for c in prob_cols + ["max_probability", "entropy"]}
                                   | {"ood_score": "{:.2f}"}),
                 hide_index=True, width="stretch", height=320, key="cd_table")
    st.caption(f"{len(view):,} of {len(table):,} rows. Click a column header to sort. p_<class> are the source "
               "model's class probabilities (each row sums to 1); p_group_<name> sums a group's members.")
    d1, d2 = st.columns(2)
    d1.download_button("Shown rows (.csv)", csv_text(view), f"cross_domain_{model_name}_{target}_{split}_rows.csv",
                       key="cd_dl_view")
    d2.download_button("Summary (.json)", pd.Series(summary).to_json(indent=2), f"cross_domain_{model_name}_{target}_{split}_summary.json",
                       key="cd_dl_summary")

st.subheader("2. What the model answers, and how sure it is")
with user_errors("Drawing the matrix and distributions"):
    left, right = st.columns(2)
    with left:
        norm = st.toggle("Shares of each row", key="cd_norm")
        st.plotly_chart(plots.confusion_figure(result.confusion(), normalise=norm), width="stretch",
                        key="cd_matrix")
    with right:
        series = {f"{target} ({split})": table["max_probability"].to_numpy()}
        if result.source_probabilities is not None and not same_domain:
            series = {f"{ood['reference_dataset']} (test)": result.source_probabilities.max(1), **series}
        st.plotly_chart(plots.distributions_figure(series, "Top probability"), width="stretch", key="cd_maxp")
    left, right = st.columns(2)
    with left:
        ent = {f"{target} ({split})": table["entropy"].to_numpy()}
        if result.source_probabilities is not None and not same_domain:
            ent = {f"{ood['reference_dataset']} (test)": entropy(result.source_probabilities), **ent}
        st.plotly_chart(plots.distributions_figure(ent, "Entropy of the probabilities (nats; 0 = certain)"),
                        width="stretch", key="cd_entropy")
    with right:
        if ood["available"]:
            det = cached.detector(model_name, lm.file_hash)
            sc = {f"{ood['reference_dataset']} (test)": det.test_scores, f"{target} ({split})": table["ood_score"]}
            st.plotly_chart(plots.distributions_figure(
                sc, f"Out-of-domain score ({det.spec.display_name})", threshold=det.threshold,
                xaxis_title="score (0 = a typical training scan; higher = less like them)",
                zero_note="typical training scan"), width="stretch", key="cd_ood")
            st.caption("The score is measured from the average training scan (in training standard deviations, "
                       "summed over layers), so it goes below zero for scans that are *more* typical than the "
                       "average one: negative is not an error, it means well inside the domain.")
    st.caption("A model that is as sure on the foreign scans as on its own is not telling you it is lost: "
               "only the out-of-domain score, which looks at what the network sees inside, separates them.")

_shown = xc.EXPLAINERS.get(st.session_state.get("cd_method") or featured(1)[0])
st.subheader(f"3. Where it looks: {_shown.short_label()} on both domains")
with user_errors("Explaining the examples"):
    ref_name = ood.get("reference_dataset") or lm.metadata.dataset
    s0, s1, s2, s3 = st.columns(4)
    method = method_picker(s0, key="cd_method")
    ecls = xc.EXPLAINERS.get(method)
    cls = s1.selectbox("Source class to explain", lm.class_names, key=f"cd_class_{model_name}",
                       index=lm.class_names.index(top_class))
    n_each = s2.slider("Images per domain", 1, 4, 3, key="cd_n")
    with s3.expander(f"{ecls.display_name} settings"):
        params = param_form(ecls.params, f"cd_{method}", columns=1)
    c = lm.class_names.index(cls)
    rows, titles = [], []
    if ref_name and ref_name in xc.DATASETS and not same_domain:
        src = cached.dataset(ref_name)
        src_test = src.split("test")
        pick = np.flatnonzero(src_test.labels == src.class_names.index(cls))[:n_each] \
            if cls in src.class_names else np.arange(n_each)
        rows.append([(src.image("test", int(i)), f"{ref_name} #{i}<br>({src.class_names[src_test.labels[i]]})")
                     for i in pick])
        titles.append("source")
    order = np.argsort(-table[f"p_{cls}"].to_numpy(), kind="stable")[:n_each]
    rows.append([(ds_target.image(split, int(table['index'].iloc[i])),
                  f"{target} #{int(table['index'].iloc[i])}<br>({table['actual'].iloc[i]})") for i in order])
    titles.append("target")
    panels = []
    if was_stopped("cd", "Explain the examples"):  # the maps wait; the rest of the page stays
        st.button("Explain the examples", key="cd_go_on", type="primary")
    else:
        with stoppable("cd", stop_here, "Explaining the example images of section 3, below…"):
            for r, row in enumerate(rows):
                out = []
                for j, (image, title) in enumerate(row):
                    e = cached.explain(model_name, image, method, "margin", classes=[c],
                                       label=f"{ecls.display_name} for {cls}, {titles[r]} image {j + 1} of {len(row)}",
                                       **params)
                    p = lm.forward_image(lm.prepare(image))[1][c]
                    out.append((e, 0, f"{title}<br><sup>p({plotly_literal(cls)}) = {p:.1%}</sup>"))
                panels.append(out)
    if panels:
        st.plotly_chart(plots.panels_figure(panels, row_titles=titles), width="stretch", key="cd_maps")
        trust_cards([(f"{titles[r]} {j + 1}", model_name, e, None) for r, row in enumerate(panels)
                     for j, (e, _, _) in enumerate(row)], key="cd_trust")
        st.caption(f"{ecls.display_name} ({ecls.unit_label('margin')}) for **{cls}**, one colour scale for all panels: "
                   f"red raises the {cls} score, blue lowers it. Target images are the ones the model gives the highest "
                   f"p({cls}).")

targets = [r for r in widgets.models() if r.get("dataset") == target and r["name"] != model_name]
if targets and not same_domain:
    st.subheader("4. A model trained for the target domain, on the same images")
    with user_errors("Comparing with the target-domain model"):
        other = st.selectbox("Target-domain model", [r["name"] for r in targets], key="cd_other")
        olm = cached.model(other)
        oprobs = cached.predictions(other, olm.file_hash, target, split)
        both = pd.DataFrame({
            "index": table["index"], "actual": table["actual"],
            f"{model_name} says": table["argmax"], f"{model_name} p": table["max_probability"],
            f"{other} says": [olm.class_names[i] for i in oprobs.argmax(1)], f"{other} p": oprobs.max(1)})
        acc = (both[f"{other} says"] == both["actual"]).mean()
        st.markdown(f"**{other}** gets **{acc:.1%}** of these {len(both):,} images right; **{model_name}** cannot "
                    f"get any right, because {', '.join(result.target_classes)} are not among its classes.")
        st.dataframe(both.style.format({f"{model_name} p": "{:.1%}", f"{other} p": "{:.1%}"}), hide_index=True,
                     width="stretch", height=280, key="cd_both")
        st.download_button("Both models (.csv)", csv_text(both), f"cross_domain_{model_name}_vs_{other}_{target}_{split}.csv",
                           key="cd_dl_both")
