"""Compare architectures: the same scans through several models, SHAP maps side by side (the poster)."""

import numpy as np
import streamlit as st

import xai_core as xc

from pages._ui import cached, widgets
from pages._ui.forms import method_picker, param_form
from pages._ui.jobs import keep, run_steps, stop_slot, stopped_note
from pages._ui.render import export_html, user_errors
from pages._ui.report import report_download, scan_case
from pages._ui.trust import trust_cards
from xai_core.untrusted import plotly_literal
from xai_core import estimate, plots
from xai_core.compare import MAX_IMAGES, MAX_MODELS, merge_rows
from xai_core.explainers import featured
from xai_core.exports import csv_text

st.title("Compare architectures")
stop_here = stop_slot()  # on the first screen, whatever the settings below take up
st.markdown(
    "The source poster compared a Basic, an Optimised and an Augmented CNN by their SHAP maps and found that "
    "**high accuracy does not mean the right regions**. Here every model explains the same scans with the same "
    "SHAP settings, on one shared colour scale (red raises the explained class's score, blue lowers it). "
    "Where the dataset knows where the lesion is, each map gets a **focus score**: the share of its positive "
    "attribution that lies inside the lesion. A map that ignored the lesion entirely would score about the "
    "lesion's share of the image (*by chance*); 1.0 means all the evidence sits on the lesion."
)

RESULT = "cmp_result"
rows = widgets.models()
models = [r["name"] for r in rows]
result, state = None, None
with user_errors("Comparing the models"):
    c1, c2 = st.columns([3, 2])
    dataset_name = widgets.dataset_picker(c2)
    ds = cached.dataset(dataset_name)
    fitting = [r["name"] for r in rows if r.get("dataset") == dataset_name]
    default = fitting[:MAX_MODELS] if len(fitting) >= 2 else models[:2]
    mkey, ikey = f"cmp_models_{dataset_name}", f"cmp_images_{dataset_name}"
    test = ds.split("test")
    with_lesion = [i for i in range(len(test)) if test.masks is not None and test.masks[i].any()]
    # every choice below is kept across page changes (jobs.keep), so no widget gets a default of its own
    keep(mkey, default)
    st.session_state[mkey] = [m for m in st.session_state[mkey] if m in models][:MAX_MODELS]
    keep(ikey, (with_lesion or list(range(len(test))))[:3])
    st.session_state[ikey] = [i for i in st.session_state[ikey] if 0 <= i < len(test)][:MAX_IMAGES]
    for k, v in (("cmp_target", "true"), ("cmp_output", "probability"), ("cmp_sigma", 0.0),
                 ("cmp_method", featured(1)[0])):
        keep(k, v)
    chosen = c1.multiselect(f"Models (2 to {MAX_MODELS})", models, max_selections=MAX_MODELS, key=mkey)
    indices = st.multiselect(
        f"Test images (1 to {MAX_IMAGES})", list(range(len(test))), max_selections=MAX_IMAGES, key=ikey,
        format_func=lambda i: f"#{i} · {ds.class_names[test.labels[i]]}")
    s1, s2, s3, s4 = st.columns(4)
    target = s1.radio("Explain", ["true", "predicted"], key="cmp_target", format_func={
        "true": "the true class (same question to every model)", "predicted": "each model's own prediction"}.get)
    output = s2.radio("Output space", ["probability", "margin"], key="cmp_output",
                      help="Probability maps are in the same unit for every model; margins (logits) are not.")
    method = method_picker(s3, key="cmp_method")
    ecls = xc.EXPLAINERS.get(method)
    with s3.expander(f"{ecls.display_name} settings (the same for every map)"):
        method_params = param_form(ecls.params, f"cmp_{method}", columns=1, keep=True)
    sigma = s4.slider("Gaussian smoothing σ (pixels)", 0.0, 8.0, step=0.5, key="cmp_sigma",
                      help="The poster shows smoothed SHAP. Smoothing only changes the display and the focus "
                           "score, not the computation (no recomputing).")
    request = dict(models=list(chosen), dataset=dataset_name, images=[int(i) for i in indices], target=target,
                   output=output, method=method, params=method_params)
    if len(chosen) < 2:
        st.info("Pick at least two models to compare.")
    elif not indices:
        st.info("Pick at least one image.")
    start = st.button("Compare", type="primary", key="cmp_start", disabled=len(chosen) < 2 or not indices,
                      help=f"Explains every model on every image: {len(chosen) * len(indices)} maps "
                           f"({ecls.display_name}).")
    steps = [(m, lambda m=m: cached.compare([m], dataset_name, indices, target, output, method, method_params))
             for m in chosen]
    state = run_steps(RESULT, request, steps, start, slot=stop_here, what="Explaining every image with each model")
    if state is not None and state["done"]:
        result = merge_rows([state["done"][m] for m in state["names"] if m in state["done"]])
        stopped_note(state, "models", "Compare")
        if state["request"] != request:
            st.caption("The grid below is for the previous settings; press **Compare** to update it.")
    elif state is None:
        st.info(f"Press **Compare** to explain {len(chosen)} models on {len(indices)} images: each map sends "
                f"{estimate.method_passes(method):,} images through its model. Progress is shown model by model, "
                "and Stop keeps the models that finished.")

if result is None:
    st.stop()
req = state["request"]
target, output, method = (req[k] for k in ("target", "output", "method"))
ecls = xc.EXPLAINERS.get(method)
settings_text = ", ".join(f"{k} {v}" for k, v in (req["params"] or {}).items() if not isinstance(v, dict))

with user_errors("Drawing the grid"):
    table = result.table(sigma)
    maps = result.maps(sigma)
    cells = []
    for i, model_name in enumerate(result.models):
        row = []
        for j, title in enumerate(result.image_titles):
            r = table.iloc[i * len(result.image_titles) + j]
            # own line, at the title's full size (a <sup> line is about 7 px tall): never cut, always readable
            focus = "" if np.isnan(r["focus"]) else f"<br>focus {r['focus']:.2f} (chance {r['focus by chance']:.2f})"
            mark = "" if r["correct"] is None else (" ✓" if r["correct"] else " ✗")
            row.append({"map": maps[i][j], "image": result.explanations[i][j].image,
                        "says_nothing": plots.faint(result.explanations[i][j]),
                        "title": f"{title}: {plotly_literal(r['predicted'])} {r['probability']:.0%}{mark}{focus}"
                                 + plots.approximate_note(result.explanations[i][j])})
        cells.append(row)
    fig = plots.compare_grid_figure(cells, result.models, result.output, label=ecls.unit_label(result.output))
    st.plotly_chart(fig, width="stretch", key="cmp_grid")
    trust_cards([(f"{m} · {t}", m, result.explanations[i][j], result.masks[j])
                 for i, m in enumerate(result.models) for j, t in enumerate(result.image_titles)], key="cmp_trust")
    st.caption(f"Rows are models, columns are images. Each panel explains "
               f"{'the true class' if target == 'true' else 'the model’s own prediction'} in {output} units; "
               f"✓/✗ marks whether the model got the image right. "
               + f"{ecls.display_name} ({settings_text}), σ = {sigma:g}.")

st.subheader("Numbers")
with user_errors("Showing the table"):
    # the focus columns next to the prediction, so they are on screen, not past the right edge
    first = ["model", "image", "predicted", "probability", "correct", "focus", "focus by chance"]
    order = [c for c in first if c in table] + [c for c in table.columns if c not in first]
    st.dataframe(table, width="stretch", hide_index=True, column_order=order, column_config={
        "probability": st.column_config.ProgressColumn("probability", format="%.3f", min_value=0, max_value=1),
        "p(explained)": st.column_config.NumberColumn(format="%.3f"),
        "additivity residual": st.column_config.NumberColumn(format="%.1e",
                                                             help="|base + sum of SHAP values − model output|"),
        "focus": st.column_config.NumberColumn(format="%.3f", help="share of positive attribution in the lesion"),
        "focus by chance": st.column_config.NumberColumn(format="%.3f", help="the lesion's share of the image"),
    })
    by_model = table.groupby("model", sort=False).agg(
        accuracy_on_these=("correct", "mean"), mean_focus=("focus", "mean"), mean_chance=("focus by chance", "mean"))
    if by_model["mean_focus"].notna().any():
        best = by_model["mean_focus"].idxmax()
        st.markdown(f"On these images **{best}** puts the largest share of its evidence on the lesion "
                    f"(mean focus {by_model.loc[best, 'mean_focus']:.2f} against "
                    f"{by_model.loc[best, 'mean_chance']:.2f} by chance).")
    settings = {"models": ", ".join(result.models), "dataset": req["dataset"],
                "scans": ", ".join(f"test #{i}" for i in req["images"]), "method": ecls.display_name,
                **{f"{method} {k}": v for k, v in (req["params"] or {}).items()},
                "output space": output, "sigma (pixels)": sigma, "explained class": target}
    stem = f"compare_{'-'.join(result.models)}_{req['dataset']}_test{'-'.join(map(str, req['images']))}_{method}"
    export = table.assign(**{f"setting: {k}": str(v) for k, v in settings.items()})
    d1, d2 = st.columns(2)
    d1.download_button("Download the table (CSV)", csv_text(export), f"{stem}.csv", "text/csv",
                       key="cmp_csv", help="Every row carries the settings it was computed with.")
    d2.download_button("Download the grid and table (HTML)",
                       export_html(f"Compare architectures: {', '.join(result.models)} on {req['dataset']}",
                                   settings, table, fig), f"{stem}.html", "text/html", key="cmp_html")
    report_download("cmp_report", [scan_case(m, [result.explanations[i][j]], {"dataset": req["dataset"], "index": k},
                                             result.explanations[i][j].image, result.true_classes[j])
                                   for i, m in enumerate(result.models) for j, k in enumerate(req["images"])],
                    classes_rule=target)
