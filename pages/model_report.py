"""Model report: metrics, confusion matrices, training curves, architecture, feature maps and gallery
(the source paper's figs. 11-12, the thesis's Tables 4.1-4.2 and fig. 4.4)."""

import json

import numpy as np
import pandas as pd
import streamlit as st

from pages._ui import cached, widgets
from pages._ui.render import user_errors
from xai_core import plots
from xai_core.models.inspect import architecture_dot, conv_layers, feature_maps, layer_table
from xai_core.exports import csv_text
from xai_core.userdata import redact_private

st.title("Model report")
st.markdown(
    "Everything about one model on one dataset: how often it is right (overall and per class), which classes "
    "it confuses, how training went, what its layers are, what each convolutional layer sees in a scan, and "
    "which test scans it gets wrong. The same numbers come from "
    "`python -m xai_core evaluate --model M --dataset D --json`."
)

report = lm = ds = None
with user_errors("Scoring the model"):
    model_name, lm, dataset_name, split = widgets.model_and_dataset(split_key="rep_split")
    ds = cached.dataset(dataset_name)
    report = cached.evaluation(model_name, lm.file_hash, dataset_name, split)

if report is not None:
    st.subheader("1. Scores")
    with user_errors("Showing the scores"):
        cols = [c for _ in range(2) for c in st.columns(3)]  # two rows: six labels fit without cut-off
        figures = [("Accuracy", report["accuracy"], "Share of images classified correctly."),
                   ("Balanced accuracy", report["balanced_accuracy"], "Mean of the per-class recalls: "
                    "not fooled by a large class."),
                   ("Cohen's kappa", report["cohen_kappa"], "Agreement with the truth beyond chance (1 = perfect, "
                    "0 = no better than guessing by class frequency)."),
                   ("Macro AUC (one-vs-rest)", report["macro_auc_ovr"], "How well each class's probability "
                    "ranks its images above the others (1 = perfectly, 0.5 = chance), averaged over classes."),
                   ("Log loss", report["log_loss"], "Mean −log probability given to the true class: punishes "
                    "confident mistakes (lower is better)."),
                   ("MSE (Brier)", report["mse"], "Mean squared difference between the probabilities and the "
                    "one-hot truth (lower is better).")]
        for col, (label, value, help_text) in zip(cols, figures):
            col.metric(label, "—" if value is None else f"{value:.3f}", help=help_text)
        per_class = pd.DataFrame(report["per_class"])
        st.dataframe(per_class, hide_index=True, width="stretch", column_config={
            k: st.column_config.NumberColumn(format="%.3f") for k in ("accuracy", "precision", "recall", "f1",
                                                                      "auc_ovr")})
        st.caption(f"{report['n']:,} images of {dataset_name}:{split}. Precision: of the images called this class, "
                   "the share that are. Recall (= per-class accuracy): of the images of this class, the share "
                   "found. F1: their harmonic mean.")
        d1, d2 = st.columns(2)
        d1.download_button("Download the per-class table (CSV)", csv_text(per_class),
                           f"{model_name}-{dataset_name}-{split}-per-class.csv", "text/csv", key="rep_csv")
        d2.download_button("Download all scores and the confusion matrix (JSON)", json.dumps(report, indent=2),
                           f"{model_name}-{dataset_name}-{split}-scores.json", "application/json", key="rep_json",
                           help="The numbers behind sections 1 and 2: every score, the per-class table and the "
                                "confusion matrix (the figures themselves have their own camera button).")

    st.subheader("2. Confusion matrix")
    with user_errors("Drawing the confusion matrices"):
        cm = pd.DataFrame(report["confusion"], index=report["class_names"], columns=report["class_names"])
        cm.index.name, cm.columns.name = "actual", "predicted"
        m1, m2 = st.columns(2)
        m1.markdown("**Counts**")
        m1.plotly_chart(plots.confusion_figure(cm), width="stretch", key="rep_cm")
        m2.markdown("**Share of each actual class** (rows sum to 100%)")
        m2.plotly_chart(plots.confusion_figure(cm, normalise=True), width="stretch", key="rep_cm_norm")

if lm is not None:
    st.subheader("3. Training curves")
    with user_errors("Drawing the training curves"):
        history = lm.metadata.history
        if history.get("loss"):
            st.plotly_chart(plots.curves_figure(history), width="stretch", key="rep_curves")
            tw = lm.metadata.trained_with
            st.caption(f"{tw.get('epochs_run', len(history['loss']))} epochs (at most {tw.get('epochs_max', '?')}), "
                       f"best weights kept by early stopping on validation loss. Made with: "
                       f"`{redact_private(tw.get('command', 'unknown'))}`")
        else:
            st.info("This model file carries no training history.")

    st.subheader("4. Architecture")
    with user_errors("Describing the architecture"):
        rows = layer_table(lm.keras_model)
        total = sum(r["parameters"] for r in rows)
        trainable = sum(r["trainable"] for r in rows)
        st.markdown(f"**{len(rows)} layers**, {total:,} parameters ({trainable:,} trainable). "
                    f"Architecture `{lm.metadata.arch or 'unknown'}`: {lm.metadata.description or ''}")
        t1, t2 = st.columns([3, 2])
        t1.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", height=420)
        with t2:
            st.graphviz_chart(architecture_dot(lm.keras_model), width="content")

    st.subheader("5. What each convolutional layer sees")
    with user_errors("Computing the feature maps"):
        convs = conv_layers(lm.keras_model)
        if not convs:
            st.info("This model has no convolutional layers.")
        elif ds is not None:
            f1, f2, f3 = st.columns([1, 3, 1])
            n_split = len(ds.split(split))
            index = f1.number_input("Image #", 0, n_split - 1, 0, key="rep_fm_index")
            shown = f2.multiselect("Layers", convs, default=convs if len(convs) <= 12 else convs[:3] + convs[-3:],
                                   key=f"rep_fm_layers_{model_name}")
            channels = f3.select_slider("Channels per layer", [8, 16, 32, 64], value=16, key="rep_fm_channels")
            image = ds.image(split, index)
            st.image(image, caption=f"{dataset_name}:{split} #{index} · "
                                    f"{ds.class_names[ds.split(split).labels[index]]}", width=160)
            fmaps = feature_maps(lm, image, shown) if shown else {}
            for name, a in fmaps.items():
                st.markdown(f"**{name}**: {a.shape[0]}×{a.shape[1]} pixels, {a.shape[2]} channels "
                            f"(first {min(channels, a.shape[2])} shown)")
                st.plotly_chart(plots.feature_maps_figure(a, name, max_channels=channels), width="stretch",
                                key=f"rep_fm_{name}")

if report is not None and ds is not None:
    st.subheader("6. Correct and misclassified scans")
    with user_errors("Showing the gallery"):
        probs = cached.predictions(model_name, lm.file_hash, dataset_name, split)
        labels = ds.split(split).labels
        pred = probs.argmax(1)
        g1, g2 = st.tabs([f"Misclassified ({int((pred != labels).sum())})", f"Correct ({int((pred == labels).sum())})"])
        for tab, pick in ((g1, np.flatnonzero(pred != labels)), (g2, np.flatnonzero(pred == labels))):
            with tab:
                if not len(pick):
                    st.info("None.")
                    continue
                order = pick[np.argsort(-probs[pick, pred[pick]])][:24]  # most confident first
                cols = st.columns(8)
                for k, i in enumerate(order):
                    cols[k % 8].image(ds.image(split, int(i)), width="stretch", caption=(
                        f"#{i}: {ds.class_names[labels[i]]} → {ds.class_names[pred[i]]} "
                        f"({probs[i, pred[i]]:.0%})"))
                st.caption("Most confident first (up to 24). Caption: actual → predicted (probability).")

if lm is not None:
    from pages._ui import amortised

    with user_errors("Showing the explainers trained for this model"):
        amortised.section(model_name, lm, dataset_name, 7)
