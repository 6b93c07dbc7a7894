"""Audit: every scan of a dataset split, several methods and metrics, summarised with intervals.

The same audit as ``python -m xai_core audit`` (which also runs on a Ray cluster); this page starts small
audits here and opens finished ones from the audits folder (``XAI_AUDITS_DIR``)."""

import re
import time
from pathlib import Path

import streamlit as st

from pages._ui import cached, widgets
from pages._ui.forms import budget_values, param_form
from pages._ui.render import progress_bar, user_errors
from xai_core import config
from xai_core.audit import AuditSpec, audit_folder, list_audits, run_audit
from xai_core.audit.spec import default_metrics
from xai_core.explainers import EXPLAINERS, featured
from xai_core.plots import audit as aplots

AUDIT_SHARE = 0.2  # an audit explains every scan: each sampling method runs at a fifth of its usual budget
EXPLAIN_PAGES = ("pages/methods.py", "pages/shap_margin_vs_probability.py")  # side by side, if it exists
GALLERY = 6
FOCUS = ("focus", "relevance-mass")  # the focus score's registry name, before and after the trust metrics

st.title("Audit a dataset")
st.markdown(
    "Explain and score **every scan** of a dataset split with several methods, then see which method "
    "localises best, which classes the model gets right for the wrong reasons, and the worst cases. "
    "Each number comes with a bootstrap 95% interval. Large audits belong on the command line, which "
    "resumes where it stopped and can run on a Ray cluster: "
    "`python -m xai_core audit --model M --dataset D --out DIR [--engine ray --workers 8]`."
)
root = config.audits_dir()
st.caption(f"Audits folder: `{root}` (set `XAI_AUDITS_DIR` to move it).")

with st.expander("Start a new audit", expanded=not list_audits(root)):
    with user_errors("Starting the audit"):
        model_name, lm, dataset_name, split = widgets.model_and_dataset(split_key="aud_split")
        c4, c5, c6 = st.columns([2, 2, 1])
        methods = c4.multiselect("Methods", EXPLAINERS.names(), default=featured(2), key="aud_methods")
        metrics = c5.multiselect("Metrics", list(default_metrics()), default=list(default_metrics()), key="aud_metrics")
        limit = c6.number_input("Scans", 1, 100_000, 16, key="aud_limit", help="the first N scans of the split")
        c7, c8 = st.columns([1, 2])
        classes = c7.radio("Explain which class", ["predicted", "true", "all"], key="aud_classes", horizontal=True)
        params = {}
        for col, m in zip(st.columns(max(1, len(methods))), methods):
            quick = budget_values(m, AUDIT_SHARE)
            if quick:  # the method's own budget Param (its range), with the audit's cheaper default
                params[m] = param_form([p for p in EXPLAINERS.get(m).params if p.name in quick],
                                       f"aud_budget_{m}", col, 1, quick)
        default_name = f"{model_name}-{dataset_name}-{split}".replace(":", "-").replace("/", "-")
        name = c8.text_input("Audit name (a folder in the audits folder)", default_name, key="aud_name")
        if st.button("Start the audit", type="primary", key="aud_start"):
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,80}", name):
                st.error("Use letters, digits, '.', '_' and '-' for the audit name (at most 80 characters).")
            else:
                from pages._ui.session import owner_of

                # a session's private model is not found by name elsewhere: audit it by its folder
                model_ref = model_name if owner_of(model_name) is None else str(Path(lm.path).parent)
                spec = AuditSpec(model_ref, dataset_name, split, tuple(methods), tuple(metrics), classes,
                                 int(limit), method_params=params)
                t0 = time.perf_counter()
                with progress_bar("Loading the model and the out-of-domain reference…") as progress:
                    run_audit(spec, root / name, command=f"(Audit page) {spec.to_json()}", progress=progress)
                st.success(f"Audit {name} finished in {time.perf_counter() - t0:.0f} s.")
                st.session_state["aud_open"] = name

audits = list_audits(root)
if not audits:
    st.info("No audit yet. Start one above, or run `python -m xai_core audit ... --out "
            f"{root}/NAME` and open it here.")
    st.stop()
names = [a["name"] for a in audits]
if st.session_state.get("aud_open") not in names:
    st.session_state["aud_open"] = names[0]
opened = st.selectbox("Open an audit", names, key="aud_open",
                      format_func=lambda n: n + ("" if next(a for a in audits if a["name"] == n)["finished"]
                                                 else " (unfinished: rerun it to complete)"))

rows = summary = spec = None
with user_errors("Opening the audit"):
    folder = audit_folder(root, opened)  # nothing outside the audits folder is opened
    if not (folder / "summary.json").is_file():
        st.warning("This audit has not finished: rerun its command (see command.txt) to complete it.")
        st.stop()
    rows, summary, spec = cached.audit_results(str(folder), (folder / "summary.json").stat().st_mtime)

if summary is not None:
    m = st.columns(5)
    m[0].metric("Scans", f"{summary['images']:,}")
    m[1].metric("Rows", f"{summary['rows']:,}", help="one per scan x method x explained class")
    m[2].metric("Accuracy", "—" if summary.get("accuracy") is None else f"{summary['accuracy']:.1%}")
    m[3].metric("Outside training domain", f"{summary.get('ood_flagged', 0):,}")
    m[4].metric("Unreadable scans", f"{summary['errors']['images']:,}",
                help="files that could not be read; each is a row with its error, never a stopped audit")
    st.caption(f"{spec.model} on {spec.dataset}:{spec.split}; methods {', '.join(spec.methods)}; "
               f"explaining the {spec.classes} class{'es' if spec.classes == 'all' else ''}.")
    metric_names = list(summary["metrics"])

    st.subheader("1. Leaderboard")
    with user_errors("Drawing the leaderboard"):
        board = aplots.leaderboard_table(summary)
        st.dataframe(board, hide_index=True, width="stretch", key="aud_board")
        st.caption("Mean over the scans, bootstrap 95% interval in brackets, n = scans where the metric is defined "
                   "(focus needs a lesion mask). Overlapping intervals: the data do not separate the methods.")
        st.plotly_chart(aplots.grouped_figure(summary["overall"], "method", metric_names), width="stretch",
                        key="aud_board_fig")

    st.subheader("2. By class and outcome")
    with user_errors("Drawing the breakdown"):
        b1, b2 = st.columns(2)
        b1.markdown("**Per true class**")
        b1.plotly_chart(aplots.grouped_figure(summary["by_class"], "true_class", metric_names), width="stretch",
                        key="aud_by_class")
        b2.markdown("**Correctly classified vs misclassified**")
        b2.plotly_chart(aplots.grouped_figure(summary["by_outcome"], "outcome", metric_names), width="stretch",
                        key="aud_by_outcome")
        st.caption("Right for the wrong reasons shows as a class (or the correct group) with high accuracy but "
                   "low focus.")

    st.subheader("3. Distributions")
    with user_errors("Drawing the distributions"):
        pick = st.selectbox("Metric", metric_names, key="aud_dist_metric") if metric_names else None
        if pick:
            st.plotly_chart(aplots.distribution_figure(rows, pick), width="stretch", key="aud_dist")

    st.subheader("4. Worst cases")
    with user_errors("Building the gallery"):
        ok = rows[rows["class_index"] >= 0]
        cases = {}
        focus = next((f for f in FOCUS if f in ok), None)
        if focus:
            cases["Lowest focus"] = ok[ok[focus].notna()].sort_values(focus).head(GALLERY)
        rand = [c for c in metric_names if "random" in c and f"{c}.verdict" in ok]
        if rand:
            cases["Failed randomisation"] = ok[ok[f"{rand[0]}.verdict"] == "fail"].head(GALLERY)
        if "ood_flag" in ok:
            cases["Most confident, outside the training domain"] = ok[ok["ood_flag"].fillna(False).astype(bool)] \
                .drop_duplicates("image_id").sort_values("probability", ascending=False).head(GALLERY)
        if not rand:
            st.caption("No randomisation check was part of this audit, so there is no 'failed randomisation' list.")
        target = next((p for p in EXPLAIN_PAGES if Path(p).is_file()), EXPLAIN_PAGES[-1])
        for title, df in cases.items():
            st.markdown(f"**{title}**")
            if not len(df):
                st.caption("None in this audit.")
                continue
            cols = st.columns(GALLERY)
            for j, (col, r) in enumerate(zip(cols, df.to_dict("records"))):
                img = cached.audit_image(spec.to_json(), r["image_id"])
                if img is not None:
                    col.image(img, width="stretch", clamp=True)
                f = f"focus {r[focus]:.2f}, " if focus else ""
                col.caption(f"`{r['image_id']}`  \ntrue **{r['true_class']}**, predicted {r['predicted_class']} "
                            f"{r['probability']:.0%}  \n{r['method']}: {f}OOD score {r['ood_score']:.3g}")
                # the explanation pages show test scans of registered datasets
                if r["index"] >= 0 and spec.split == "test" and col.button("Open", key=f"aud_open_{title}_{j}"):
                    st.session_state[widgets.MODEL] = spec.model
                    st.session_state[widgets.DATASET] = spec.dataset
                    for k in ("_w_model", "_w_dataset", "_w_index"):  # the pickers there start from the refs
                        st.session_state.pop(k, None)
                    st.session_state[widgets.SOURCE] = widgets.DATASET_CHOICE  # not this session's upload
                    widgets.select_image(spec.dataset, spec.split, int(r["index"]))
                    st.switch_page(target)

    st.subheader("5. Downloads")
    with user_errors("Preparing the downloads"):
        d1, d2, d3 = st.columns(3)
        d1.download_button("Rows (CSV)", (folder / "rows.csv").read_bytes(), f"{opened}-rows.csv", "text/csv",
                           key="aud_dl_csv")
        d2.download_button("Rows (Parquet)", (folder / "rows.parquet").read_bytes(), f"{opened}-rows.parquet",
                           "application/octet-stream", key="aud_dl_parquet")
        d3.download_button("Summary (JSON)", (folder / "summary.json").read_bytes(), f"{opened}-summary.json",
                           "application/json", key="aud_dl_summary")
        st.caption("The command that produced it: " + " | ".join(
            f"`{c}`" for c in (folder / "command.txt").read_text().splitlines()[-2:]) if (folder / "command.txt").is_file()
            else "")
