"""Debug a model: find a shortcut, see it in the explanations, retrain without it, prove the fix."""

import time

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

import xai_core as xc
from pages._ui import cached
from pages._ui import shortcut as ui
from pages._ui.forms import budget_values
from pages._ui.render import user_errors
from pages._ui.trust import dataset_mask, trust_cards
from pages._ui.literal import lit, lits
from xai_core.untrusted import plotly_literal
from xai_core import estimate, plots, precision
from xai_core.explainers import featured
from xai_core.exports import csv_text
from xai_core.prediction import percentage_points
from xai_core.shortcut import shortcut_setup
from xai_core.training.guided import DEFAULT_GUIDE_METHOD

st.title("Debug a model: find a shortcut")
st.markdown(
    "A model can score well for the wrong reason: chest X-ray models have read the hospital's burned-in "
    "markers, skin-lesion models the rulers beside the lesion. This page walks through one such case in four "
    "steps: **(1)** the accuracy drop when the suspected shortcut is removed, **(2)** the scans that fail "
    "without it, **(3)** which explanation methods show the model looking at it, and **(4)** a retraining "
    "that erases what the explanations point at, against a random-erasing control. The shipped example is "
    "`brain-tagged-cnn`, trained on brain scans where a small letter *R* sits on 95% of the glioma scans "
    "and 5% of the others.")

models = [r["name"] for r in xc.list_models()]
c1, c2 = st.columns(2)
model_name = c1.selectbox("Model", models, key="sc_model",
                          index=models.index("brain-tagged-cnn") if "brain-tagged-cnn" in models else 0)
datasets = cached.dataset_names()
default_ds = "synthetic-brain-mri-tagged" if "synthetic-brain-mri-tagged" in datasets else datasets[0]
dataset_name = c2.selectbox("Dataset with a shortcut (a clean split or a second mask)", datasets, key="sc_dataset",
                            index=datasets.index(default_ds))
ready = False
with user_errors("Reading the model and the dataset"):
    lm, ds = cached.model(model_name), cached.dataset(dataset_name)
    setup = shortcut_setup(ds)
    if list(lm.class_names) != list(ds.class_names):
        st.info(f"{lit(model_name)} predicts {lits(lm.class_names)}, but {lit(dataset_name)} is labelled "
                f"{lits(ds.class_names)}; pick a model trained on this kind of data.")
    elif setup["clean_split"] is None and setup["mask"] is None:
        st.info(f"{dataset_name} has neither a clean split nor a shortcut mask, so there is nothing to compare. "
                "Try synthetic-brain-mri-tagged.")
    else:
        ready = True
if not ready:
    st.stop()

# ---------------------------------------------------------------- step 1
st.subheader("1. Accuracy with and without the shortcut")
if setup["clean_split"] is None:
    st.info(f"{dataset_name} has no clean split, so this step is skipped; step 3 still works from its mask.")
else:
    with user_errors("Scoring the model"):
        drop = ui.recall_drop(model_name, lm.file_hash, dataset_name, cached.backend(model_name))
        m1, m2, m3 = st.columns(3)
        m1.metric(f"Accuracy on {drop['tagged_split']}", f"{drop['accuracy_tagged']:.1%}")
        m2.metric(f"Accuracy on {drop['clean_split']}", f"{drop['accuracy_clean']:.1%}",
                  delta=percentage_points(-drop["drop"]), delta_color="normal")
        worst = max(drop["per_class"], key=lambda r: r["drop"])
        m3.metric(f"Largest recall drop: {lit(worst['class'], 60)}", f"{worst['recall_clean']:.0%}",
                  delta=percentage_points(-worst["drop"], 0), delta_color="normal")
        verdict = ("This looks like a shortcut: " if drop["drop"] >= 0.15 else
                   "No clear shortcut here: " if drop["drop"] < 0.05 else "Some reliance on the shortcut: ")
        st.markdown(f"{verdict}accuracy changes by {percentage_points(-drop['drop'])} (percentage points) once the shortcut is gone, and "
                    f"**{lit(worst['class'])}** recall falls from {worst['recall_tagged']:.0%} to "
                    f"{worst['recall_clean']:.0%}.")
        st.plotly_chart(ui.recall_figure(drop), width="stretch", key="sc_recall")
        recall_table = pd.DataFrame(drop["per_class"])
        st.download_button("Download the recall table (CSV)", csv_text(recall_table),
                           f"{model_name}-recall-drop.csv", "text/csv", key="sc_dl_recall")

# ---------------------------------------------------------------- step 2
st.subheader("2. Scans it gets wrong without the shortcut")
if setup["clean_split"] is not None:
    with user_errors("Finding the failures"):
        fails = ui.failures(model_name, lm.file_hash, dataset_name, cached.backend(model_name))
        fails.sort(key=lambda f: (not f["right_when_tagged"], f["index"]))
        st.caption(f"{len(fails)} of {len(ds.split(setup['clean_split']))} clean scans are misclassified. "
                   "Left: the clean scan and what the model says. Right: the same scan with the marker, its SHAP "
                   "map for the class the model then picks, and the marker outlined in black.")
        tagged_split = ds.split(setup["tagged_split"])
        tag = tagged_split.mask(setup["mask"]) if setup["mask"] else None
        shown = [f for f in fails if tag is not None and tag[f["index"]].any()][:3] or fails[:3]
        cards = []
        for f in shown:
            i = f["index"]
            a, b = st.columns([1, 2])
            a.plotly_chart(plots.image_figure(ds.split(setup["clean_split"]).images[i],
                                              f"clean #{i}: {plotly_literal(f['label'])} → "
                                              f"{plotly_literal(f['predicted_clean'])}"),
                           width="stretch", key=f"sc_clean_{i}")
            expl = cached.explain(model_name, tagged_split.images[i], featured(1)[0], "margin", top_k=1,
                                  label="Explaining the tagged scan", **budget_values(featured(1)[0], 0.5))
            fig = plots.explanation_figure(expl, title=f"with the marker: {plotly_literal(f['predicted_tagged'] or '?')}")
            if tag is not None and tag[i].any():
                rows, cols = np.nonzero(ui.outline(tag[i]))
                fig.add_trace(go.Scatter(x=cols, y=rows, mode="markers", marker=dict(size=3, color="black"),
                                         name="marker", hovertemplate="marker<extra></extra>"))
                share = xc.METRICS.get("marker-share")(lm, tagged_split.images[i], expl, tag[i])
                fig.update_layout(title=f"with the marker: {plotly_literal(f['predicted_tagged'])} · {share.value:.0%} of the "
                                        f"evidence on the marker")
            b.plotly_chart(fig, width="stretch", key=f"sc_map_{i}")
            cards.append((f"tagged #{i}", model_name, expl, dataset_mask(dataset_name, setup["tagged_split"], i)))
        trust_cards(cards, key="sc_trust")
        if not shown:
            st.success("No clean scan is misclassified.")

# ---------------------------------------------------------------- step 3
st.subheader("3. Which explanations show it: marker share vs lesion focus")
methods = st.multiselect("Methods", xc.EXPLAINERS.names(), default=featured(2), key="sc_methods")
res = None
with user_errors("The attribution audit"):
    if methods:
        res = ui.audit(model_name, dataset_name, methods, n=12, allow_compute=False)
        if res is None:
            audited = cached.model(model_name)
            per = cached.forward_seconds(model_name, audited.file_hash)
            eta = per * 12 * sum(estimate.method_passes(m, tuple(audited.input_shape[:2]), ui.FAST_SHARE)
                                 for m in methods)
            st.caption(f"No stored audit for this model; running it explains 12 marked test scans per method at "
                       f"fast settings. Estimate: {estimate.words(eta)} ({estimate.basis(per)}).")
            if st.button("Run the audit", key="sc_audit_go"):
                res = ui.audit(model_name, dataset_name, methods, n=12, fast=True)
if res is not None:
    rows = [r for r in res["methods"] if r["method"] in methods]
    st.plotly_chart(ui.audit_figure(rows), width="stretch", key="sc_audit_fig")
    for r in rows:
        reveals = r["marker_share"] >= 0.2 or r["marker_share"] >= 10 * max(r["marker_area"], 1e-9)
        st.markdown(f"- **{r['method']}** puts {r['marker_share']:.1%} of the evidence on a marker that covers "
                    f"{r['marker_area']:.2%} of the image and {r['lesion_focus']:.1%} on the lesion: it "
                    + ("**reveals** the shortcut." if reveals else "**hides** the shortcut."))
    st.caption("**Marker share** is the part of a map's evidence that lies on the marker. This model is known to "
               "lean on the marker (step 1), so a method whose map puts much of its evidence there **reveals** the "
               "shortcut; a method that **hides** it shows maps where the marker looks unimportant, and reading "
               "them you would not notice that the model cheats. For the *model*, the opposite holds: in step 4, "
               "**a lower marker share is better**, because it means the retrained model relies less on the marker.")
    if precision.is_approximate(res.get("backend", "")):
        st.warning(precision.warning_text(res["backend"], maps=2, tail=", and the shares above with them"),
                   icon=":material/speed:")
    table = pd.DataFrame(rows).drop(columns=["params"], errors="ignore")
    st.download_button("Download the audit (CSV)", csv_text(table), f"{model_name}-audit.csv",
                       "text/csv", key="sc_dl_audit")

# ---------------------------------------------------------------- step 4
st.subheader("4. Retrain with guided augmentation")
st.markdown("The model's own explanations of training scans show where it looks outside the lesion; retraining "
            "fills that region with its surroundings in every training scan. The control erases a rectangle of "
            "the same size at random places, so a gain is due to *where* the guided run erases.")


def before_after(extra: list[dict] | None = None) -> pd.DataFrame:
    rows = []
    for role, name in ui.related_models(model_name).items():
        a = ui.audit(name, dataset_name, featured(1), n=12, allow_compute=False)
        r = a["methods"][0] if a else {}
        acc = (cached.evaluation(name, cached.model(name).file_hash, dataset_name, setup["clean_split"])["accuracy"]
               if setup["clean_split"] else float("nan"))
        rows.append({"role": role, "model": name, "clean accuracy": acc,
                     "marker share (SHAP)": r.get("marker_share", float("nan")),
                     "lesion focus (SHAP)": r.get("lesion_focus", float("nan"))})
    rows.extend(extra or [])
    return pd.DataFrame(rows)


g1, g2, g3, g4 = st.columns(4)
epochs = g1.number_input("Epochs (at most)", 1, 200, 30, key="sc_epochs")
limit = g2.number_input("Images per split (0 = all)", 0, 100_000, 0, key="sc_limit",
                        help="A quick run on a subset, e.g. 64, to try it.")
guide_method = g3.selectbox("Guide method", xc.EXPLAINERS.names(), key="sc_guide_method",
                            index=xc.EXPLAINERS.names().index(DEFAULT_GUIDE_METHOD))
guide_images = g4.number_input("Training scans explained", 1, 1000, 64, key="sc_guide_images")
if st.button("Retrain with guided augmentation", type="primary", key="sc_go"):
    history: dict[str, list[float]] = {}
    phase = ["guided"]  # the control's epochs count from 1 again: its live charts need their own keys
    bar = st.progress(0.0, text="Explaining training scans…")
    chart = st.empty()

    def on_epoch(epoch, total, logs):
        for k, v in logs.items():
            history.setdefault(k, []).append(v)
        bar.progress(min(1.0, epoch / total), text=f"Epoch {epoch} of at most {total}")
        chart.plotly_chart(plots.curves_figure(history), width="stretch", key=f"sc_live_{len(phase)}_{epoch}")

    with user_errors("Retraining"):
        from xai_core.training import train

        target = ui.live_target(model_name)
        settings = dict(epochs=int(epochs), seed=int(lm.metadata.seed or 0), limit=int(limit) or None,
                        on_epoch=on_epoch)
        started = time.perf_counter()  # the whole click: explaining training scans, training, scoring, saving
        meta = train(dataset_name, lm.metadata.arch or "basic-cnn", target, guided_augmentation=True,
                     guide_method=guide_method, guide_model=lm, guide_images=int(guide_images),
                     progress=lambda f, m: bar.progress(min(1.0, f), text=m), **settings)
        guided_seconds = time.perf_counter() - started
        # the control: the same training with a rectangle of the same area erased at random places
        bar.progress(0.0, text="Training the random-erasing control…")
        history.clear()
        phase.append("control")
        control_target = target.with_name(target.name.replace("-guided-live", "-erasing-live"))
        control = train(dataset_name, lm.metadata.arch or "basic-cnn", control_target, random_erasing=True,
                        erase_area=float(meta.trained_with["guided"]["area"]), **settings)
        seconds = time.perf_counter() - started
        bar.empty()
        cached.model.clear()
        other = "accuracy_on_other_splits"
        clean_acc = meta.trained_with.get(other, {}).get(setup["clean_split"], float("nan"))
        control_acc = control.trained_with.get(other, {}).get(setup["clean_split"], float("nan"))
        st.session_state["sc_live"] = [
            {"role": "guided (this run)", "model": target.name, "clean accuracy": clean_acc,
             "marker share (SHAP)": float("nan"), "lesion focus (SHAP)": float("nan")},
            {"role": "random-erasing control (this run)", "model": control_target.name,
             "clean accuracy": control_acc, "marker share (SHAP)": float("nan"),
             "lesion focus (SHAP)": float("nan")}]
        st.success(f"Retrained **{target.name}** and its random-erasing control in {seconds:.0f} s "
                   f"(guided {guided_seconds:.0f} s, of which {meta.trained_with['seconds']:.0f} s training; "
                   f"control {seconds - guided_seconds:.0f} s). Guided: accuracy {meta.test_accuracy:.1%} on test, "
                   f"{clean_acc:.1%} on {setup['clean_split']}; control: {control.test_accuracy:.1%} and "
                   f"{control_acc:.1%}. Both erased {meta.trained_with['guided']['area']:.1%} of each training "
                   "scan: the guided run where the explanations pointed outside the lesion, the control at "
                   "random places. Both are private to this session; *Your models and data* can add them to the "
                   "shared library.")
        st.code(meta.trained_with["command"] + "\n" + control.trained_with["command"], language="bash")

with user_errors("The before/after table"):
    live = st.session_state.get("sc_live")
    table = before_after(live if live and live[0]["model"] == ui.live_target(model_name).name else None)
    st.dataframe(table.style.format({c: "{:.1%}" for c in table.columns if c not in ("role", "model")},
                                    na_rep="–"), hide_index=True, key="sc_table")
    st.caption("Read the table as: clean accuracy higher is better; **marker share lower is better** (less of the "
               "model's evidence on the shortcut); lesion focus higher is better. The random-erasing control "
               "erases as much of each scan as the guided run, at random places: only a gain over the control is "
               "due to *where* the guided run erases.")
    st.download_button("Download the before/after table (CSV)", csv_text(table),
                       f"{model_name}-before-after.csv", "text/csv", key="sc_dl_table")
