"""LIME with every registered segmenter side by side, with fit scores and stability (thesis figs. 4.12 to 4.18)."""

import io
import zipfile

import numpy as np
import pandas as pd
import streamlit as st

from pages._ui import cached, widgets
from pages._ui.forms import param_form
from pages._ui.jobs import stoppable, was_stopped
from pages._ui.render import npz_bytes, user_errors
from pages._ui.report import report_download, scan_case
from pages._ui.trust import scan_mask, trust_cards
from pages._ui.literal import lit
from xai_core import estimate, gates, plots
from xai_core.prediction import prediction_words, tied_top
from xai_core.explainers.lime_image import HIDE_COLORS
from xai_core.metrics.stability import SAMPLES_LABEL, SHAKY_SPREAD, STABLE_SPREAD, superpixel_stability
from xai_core.segmenters import SEGMENTERS, segment_stats
from xai_core.exports import csv_text

RESULT = "lime_segmenters_result"
QUICK_SAMPLES = 500  # 6 segmenters x 1 run: about 10 s on 2 cores (benchmarks/bench_lime_first_view.py)
HIDE_LABELS = {"mean": "mean colour", "blur": "blurred", "0": "black"}  # short: the box is narrow

st.title(f"LIME: {len(SEGMENTERS)} segmenters")
st.markdown("One prediction explained by **LIME** with each segmenter: **green** superpixels support the class, "
            "**red** ones speak against it.")
with st.expander("How LIME works, and what the source thesis found"):
    st.markdown(
        "**LIME** explains one prediction by hiding random groups of pixels (*superpixels*) and fitting a simple "
        "weighted linear model to how the class probability changes. Each superpixel gets one weight. The "
        "superpixels come from a *segmentation* algorithm, and that choice can change the answer. **The source "
        "thesis's finding** (CIFAR-10 photos at its own segmenter settings, figs. 4.12 and 4.13): Quickshift gave "
        "superpixels of very unequal size and the three watershed segmenters no clear segmentation, so their "
        "explanations were hard to use, while Felzenszwalb and SLIC highlighted the object. That is a finding "
        "about those images and settings, not a rule: the table in section 3 shows, for the scan opened here, "
        "each segmenter's largest superpixel, fit R² and (with **Check stability**) how much its weights move, "
        "and the line under it says whether the finding holds on this scan. LIME is also random: the first view "
        "runs each segmenter once, quickly; **Stability** (in the settings) repeats it with other seeds.")



def thesis_check(table: pd.DataFrame) -> str:
    """Whether the thesis's finding (Quickshift and watershed unusable, Felzenszwalb and SLIC fine) shows on
    this scan, from the fit R² and the largest superpixel of each segmenter."""
    poor = table[(table["fit R²"] < 0.3) | (table["largest share"] > 0.5)
                 | (table.get("verdict", pd.Series("", index=table.index)) == "unstable")]["segmenter"].tolist()
    lo, hi = table["fit R²"].min(), table["fit R²"].max()
    if not poor:
        return (f"On this scan the thesis's finding does **not** show: every segmenter fits at R² "
                f"{lo:.2f} to {hi:.2f}, none has a superpixel over half the image"
                + ("" if "verdict" in table else " (turn on Stability to check the weights too)")
                + ". The finding was about the thesis's small photos and settings.")
    return (f"On this scan the thesis's finding shows for **{', '.join(poor)}**: fit R² below 0.3, a superpixel "
            "over half the image, or unstable weights; the others fit at R² up to " f"{hi:.2f}.")


shown = None
with user_errors("Loading the model"):
    scan = widgets.model_and_scan()
    model_name, lm, image = scan["model_name"], scan["model"], scan["image"]
    x = lm.prepare(image)
    probs = lm.forward_image(x)[1]
    if not widgets.domain_gate(scan["model_name"], scan["image"], key="lime_show_anyway"):
        st.caption("The prediction and the maps are hidden for this scan.")
        st.stop()

    per = cached.forward_seconds(model_name, lm.file_hash)
    with st.form("lime_settings", border=False):  # no frame: the six maps must fit a 1280x720 first screen
        s1, s2, s3, s4, s5, s6 = st.columns([2.3, 2.2, 2, 2.1, 1.5, 3.4], vertical_alignment="bottom")
        num_samples = s1.slider(SAMPLES_LABEL, 100, 5000, QUICK_SAMPLES, step=100,
                                help="How many perturbed images LIME scores. More give a better-fitted, more "
                                     f"stable local model and take longer; {QUICK_SAMPLES} for each of the "
                                     f"{len(SEGMENTERS.names())} segmenters takes "
                                     f"{estimate.words(QUICK_SAMPLES * len(SEGMENTERS.names()) * per)} "
                                     f"({estimate.basis(per)}).")
        hide_color = s2.selectbox("Hidden show", HIDE_COLORS + ("0",), format_func=HIDE_LABELS.get,
                                  help="What a hidden superpixel is filled with. Mean colour: the superpixel's own "
                                       "mean colour (lime's default); blurred: a blurred copy of the image; "
                                       "black: zeros.")
        output = s3.selectbox("Explain", ["probability", "margin"],
                              help="probability: what lime explains by default; margin: the class score (logit).")
        check = s4.toggle("Stability", key="lime_check_stability",
                          help="Check stability: repeat every segmenter with other seeds and measure how much the "
                               "weights move.")
        seed = s5.number_input("Seed", 0, 2**31 - 1, 0)
        submitted = s6.form_submit_button("Explain with every segmenter", type="primary")
        seg_params = {}
        with st.expander("More settings: repeats of the stability check, segmenter parameters (defaults give "
                         "about 20 to 80 superpixels at 128 px)"):
            repeats = st.slider("Repeats", 2, 10, 3, help="With Stability on: LIME runs this many times with "
                                "seeds seed, seed+1, ...; the first run is the one shown.")
            cols = st.columns(3)
            for i, (name, seg) in enumerate(SEGMENTERS.items()):
                with cols[i % 3]:
                    st.markdown(f"**{seg.display_name}**: {seg.description}")
                    seg_params[name] = param_form(seg.params, f"_seg_{name}", columns=1)

    request = dict(model=model_name, model_hash=lm.file_hash, scan=scan["scan"].key, label=scan["label"],
                   slug=scan["scan"].slug,
                   num_samples=int(num_samples), hide_color=hide_color, output=output,
                   repeats=int(repeats) if check else 1,
                   seed=int(seed), seg_params=seg_params)
    shown = st.session_state.get(RESULT)
    stopped = was_stopped("lime", "Explain with every segmenter")
    if submitted or (shown is None and not stopped):
        jobs = [dict(method="lime", output=output, top_k=min(2, lm.num_classes), segmenter=name,
                     segmenter_params=seg_params[name], num_samples=int(num_samples), hide_color=hide_color,
                     seed=int(seed) + r, title=f"{seg.display_name}, seed {int(seed) + r}")
                for name, seg in SEGMENTERS.items() for r in range(request["repeats"])]
        with stoppable("lime"):
            flat = cached.explain_batch(model_name, image, jobs, label="LIME")
        runs = {SEGMENTERS.get(n).display_name: flat[i * request["repeats"]:(i + 1) * request["repeats"]]
                for i, n in enumerate(SEGMENTERS.names())}
        shown = st.session_state[RESULT] = {"request": request, "runs": runs, "probs": probs, "true": scan["true"]}
    elif shown is not None and shown["request"] != request:
        st.caption("The results below are for the previous settings; press **Explain with every segmenter** "
                   "to update them.")

if shown is None:
    st.stop()

with user_errors("Showing the LIME results"):
    runs, req, p = shown["runs"], shown["request"], shown["probs"]
    main = {name: r[0] for name, r in runs.items()}
    stab = {name: superpixel_stability(r) for name, r in runs.items() if len(r) > 1}
    top_two = [int(i) for i in np.argsort(-p, kind="stable")[:2]]

    runner_up = st.session_state.get("lime_runner_up", False)
    top_n = st.session_state.get("lime_top_n", 5)
    target = top_two[1] if runner_up else top_two[0]
    name = lm.class_names[target]
    k = {n: int(np.flatnonzero(e.class_indices == target)[0]) for n, e in main.items()}
    fits = {n: gates.fit_score(e, k[n]) for n, e in main.items()}  # NaN: the target does not move, no fit
    titles = {n: (f"<br><sup>fit R² {fits[n]:.2f}" if np.isfinite(fits[n]) else "<br><sup>no fit (says nothing)")
                 + (f" · {stab[n].verdict(k[n])}" if n in stab else "") + "</sup>" for n, e in main.items()}
    tab_pc, tab_hide = st.tabs([f"Top {top_n} pro (green) and con (red) for {name}",
                                f"Top {top_n} pro for {name}, rest hidden"])
    with tab_pc:  # one row of six: the headline comparison fits the first screen of a 1280x720 projector
        st.plotly_chart(plots.pro_con_figure(main, target, top=top_n, extra_titles=titles, cols=len(main),
                                             height_per_row=190), width="stretch", key="lime_pro_con")
    with tab_hide:
        st.plotly_chart(plots.pro_con_figure(main, target, top=top_n, hide_rest=True, extra_titles=titles,
                                             cols=len(main), height_per_row=190), width="stretch",
                        key="lime_hide_rest")
    st.markdown(f"**Prediction:** {lit(prediction_words(lm.class_names, p), 400)}" + (
        f"; runner-up {lit(lm.class_names[top_two[1]])} ({p[top_two[1]]:.1%})" if len(tied_top(p)) == 1 else "")
        + f" · {lit(req['label'])}" + (f" (true: {lit(shown['true'])})" if shown["true"] else "")
        + ". Each panel's fit R² says how well LIME's linear model matches the network near this scan.")
    e1, e2 = st.columns([2, 1])
    e1.toggle("Explain the runner-up class instead", key="lime_runner_up",
              help="Like the thesis's dog-versus-cat example: what speaks for the second guess?")
    e2.slider("Superpixels to show (top N pro and con)", 1, 10, 5, key="lime_top_n")
    st.caption(f"Trust cards, one per segmenter, for the top class {lit(lm.class_names[top_two[0]])}:")
    trust_cards([(n, req["model"], e, scan_mask(scan["scan"], req["scan"])) for n, e in main.items()],
                key="lime_trust")
    for n, e in main.items():
        if not np.isfinite(fits[n]):
            st.info(f"{n}: {gates.NO_FIT}; its weights are drawn faintly and earn no verdict.",
                    icon=":material/blur_off:")
            break
    if p[target] < 0.01 and req["output"] == "probability":
        st.info(f"The model gives **{name}** only {p[target]:.2%}. Hiding superpixels barely moves so small a "
                "probability, so these weights are close to noise; choose **margin** space in the settings to see "
                "what the class score responds to.")
    st.caption(f"{req['num_samples']:,} samples and seed {req['seed']} for every segmenter, in {req['output']} space. "
               "Fit R² says how well the linear model matches the network near this image (1 = perfectly; "
               "below about 0.3 the weights say little).")

    left, right = st.columns([1, 2])
    with left:
        st.plotly_chart(plots.image_figure(next(iter(main.values())).image,
                                           req["label"] + (f" (true: {shown['true']})" if shown["true"] else "")),
                        width="stretch", key="lime_img")
    with right:
        st.plotly_chart(plots.probability_figure(p, lm.class_names, highlight=top_two[0]), width="stretch",
                        key="lime_probs")

    st.subheader("2. Segmentation")
    st.plotly_chart(plots.segmentation_figure(main[next(iter(main))].image,
                                              {n: e.extras["segments"] for n, e in main.items()}),
                    width="stretch", key="lime_segments")
    st.caption("LIME hides whole superpixels, so fair-sized ones matter: a huge superpixel that mixes an important "
               "detail with background gets all the credit or none (thesis, section 4.5). Hover for sizes.")

    st.subheader("3. Stability across seeds")
    rows = []
    for n, e in main.items():
        seg = segment_stats(e.extras["segments"])
        row = {"segmenter": n, "superpixels": seg["segments"], "median size (px)": seg["median_px"],
               "largest share": seg["largest_share"], "fit R²": fits[n],
               "local prediction": float(e.extras["local_pred"][k[n]]),
               "model output": float(e.output_values[k[n]])}
        if n in stab:
            s_ = stab[n]
            row.update({"weight spread": float(s_.relative_std[k[n]]), "verdict": s_.verdict(k[n]),
                        "top overlap (Jaccard)": float(s_.jaccard[k[n]])})
        row["seconds"] = float(sum(r.seconds for r in runs[n]))
        rows.append(row)
    table = pd.DataFrame(rows)
    if not stab:
        st.markdown("The view above is the **quick** one: each segmenter ran once. Turn on **Check stability** "
                    "in the settings and press the button to repeat each one with other seeds and see how much "
                    "its weights move.")
    else:
        first = next(iter(stab.values()))
        st.markdown(
            f"LIME was run {req['repeats']} times per segmenter with seeds {req['seed']} to "
            f"{req['seed'] + req['repeats'] - 1}. **Weight spread** says how much the weights move from seed to "
            f"seed compared with the size of the {first.top} strongest weights shown: at most "
            f"{STABLE_SPREAD:g} (a tenth) reads **stable**, up to {SHAKY_SPREAD:g} **somewhat unstable** (the "
            "weakest superpixels shown can swap), above that **unstable** (another seed can redraw the map). "
            f"If a segmenter is not stable, raise **{SAMPLES_LABEL}**: four times as many samples halve the "
            f"spread. **Top-{first.top} overlap** is the mean Jaccard index of the top superpixels between runs "
            "(1 = always the same ones); with many near-equal weights it can be low while nothing moves much.",
            help="Weight spread = RMS over superpixels of the weight's standard deviation across seeds, divided "
                 f"by the mean |weight| of the top {first.top} superpixels (xai_core/metrics/stability.py).")
    # short labels and columns sized to their content, so every column fits at 1280 px (none hidden to the
    # right); the median superpixel size is in the segmentation panels' titles and the seconds in the CSV
    shown_cols = [c for c in table.columns if c not in ("median size (px)", "seconds")]
    st.dataframe(table, hide_index=True, width="stretch", column_order=shown_cols, column_config={
        "superpixels": st.column_config.NumberColumn("segments"),
        "largest share": st.column_config.NumberColumn("largest", format="percent",
                                                       help="The largest superpixel's share of the image."),
        "fit R²": st.column_config.NumberColumn(format="%.2f"),
        "local prediction": st.column_config.NumberColumn("local pred.", format="%.4f",
                                                          help="What LIME's linear model predicts here."),
        "model output": st.column_config.NumberColumn("model", format="%.4f",
                                                      help="What the network outputs for this scan."),
        "weight spread": st.column_config.NumberColumn("spread", format="%.3f"),
        "top overlap (Jaccard)": st.column_config.NumberColumn("top overlap", format="%.2f",
                                                               help="Jaccard index of the top superpixels.")})
    st.caption(thesis_check(table))
    if stab:
        st.plotly_chart(plots.spread_figure(main, {n: stab[n].std[k[n]] for n in main}, target,
                                            extra_titles={n: f" · spread {stab[n].relative_std[k[n]]:.2f}"
                                                          for n in main}),
                        width="stretch", key="lime_spread")

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, rs in runs.items():
            for e in rs:
                z.writestr(f"lime_{e.params['segmenter']}_seed{e.params['seed']}.npz", npz_bytes(e))
    d1, d2 = st.columns(2)
    stem = f"lime_{req['model']}_{req['slug']}_{req['num_samples']}samples"
    d1.download_button("Table (.csv)", csv_text(table), f"{stem}.csv", key="lime_dl_csv")
    d2.download_button("All explanations (.zip of .npz)", buf.getvalue(), f"{stem}.zip", key="lime_dl_zip")
    report_download("lime_report", [scan_case(req["model"], list(main.values()), req["scan"],
                                              next(iter(main.values())).image, shown["true"])], handout="lime")
