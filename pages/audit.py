"""Audit: every scan of a dataset split, several methods and metrics, summarised with intervals.

The same audit as ``python -m xai_core audit`` (which also runs on a Ray cluster); this page starts small
audits here and opens finished ones from the audits folder (``XAI_AUDITS_DIR``)."""

import re
import time
from pathlib import Path

import pandas as pd
import streamlit as st

from pages._ui import cached, strategies, widgets
from pages._ui.forms import budget_values, param_form
from pages._ui.literal import lit
from pages._ui.render import progress_bar, user_errors
from pages._ui.session import owner
from xai_core import config
from xai_core.audit import AuditSpec, AuditStore, audit_folder, list_audits, private_root, run_audit, share_audit
from xai_core.audit.spec import default_metrics
from xai_core.explainers import EXPLAINERS, featured
from xai_core.plots import audit as aplots
from xai_core.strategies import TooFewMaps
from xai_core.untrusted import message_literal

AUDIT_SHARE = 0.2  # an audit explains every scan: each sampling method runs at a fifth of its usual budget
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
st.caption(f"Audits folder: `{root}` (set `XAI_AUDITS_DIR` to move it). Audits you start here are private to "
           "this browser session until you choose *Add to the shared library*.")
MINE = "mine/"  # picker value of a private audit (audit names never hold '/')

with st.expander("Start a new audit", expanded=not list_audits(root, owner())):
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
                    run_audit(spec, private_root(root, owner()) / name, command=f"(Audit page) {spec.to_json()}",
                              progress=progress)
                st.success(f"Audit {name} finished in {time.perf_counter() - t0:.0f} s.")
                st.session_state["aud_open"] = MINE + name

def strategies_example() -> None:
    """The shipped strategies example (a model that learned a shortcut), openable without any audit."""
    examples = strategies.shipped()
    if not examples:
        return
    with st.expander("Example: what strategies reveal about a model that learned a shortcut", expanded=False):
        pick = st.selectbox("Example", list(examples), key="aud_strat_example")
        doc = examples[pick]
        meta = doc["meta"]
        st.caption(f"{meta['model']} on {meta['dataset']}:{meta['split']}, {doc['method']} maps "
                   f"(shipped with the app; `make shipped-models` recomputes it).")
        with user_errors("Drawing the example"):
            ex_spec = AuditSpec(meta["model"], meta["dataset"], meta["split"], (doc["method"],))
            strategies.show(doc, ex_spec, lambda i: cached.audit_image(ex_spec.to_json(), i), "aud_strat_ex")


audits = list_audits(root, owner())
if not audits:
    st.info("No audit yet. Start one above, or run `python -m xai_core audit ... --out "
            f"{root}/NAME` and open it here.")
    strategies_example()
    st.stop()
by_value = {(MINE if a["private"] else "") + a["name"]: a for a in audits}
if st.session_state.get("aud_open") not in by_value:
    st.session_state["aud_open"] = next(iter(by_value))
opened_value = st.selectbox(
    "Open an audit", list(by_value), key="aud_open",
    format_func=lambda v: by_value[v]["name"] + (" (yours, private)" if by_value[v]["private"] else "")
    + ("" if by_value[v]["finished"] else " (unfinished: rerun it to complete)"))
opened, private = by_value[opened_value]["name"], by_value[opened_value]["private"]

rows = summary = spec = None
with user_errors("Opening the audit"):
    # nothing outside the audits folder, and no other session's audit, is opened
    folder = audit_folder(root, opened, owner() if private else None)
    store = AuditStore(folder)
    if not (folder / "summary.json").is_file():
        st.warning("This audit has not finished: rerun its command (see command.txt) to complete it.")
        st.stop()
    rows, summary, spec = cached.audit_results(str(folder), (folder / "summary.json").stat().st_mtime)
    if private and st.button("Add to the shared library", key="aud_share",
                             help="Every user of this server will see this audit, its class names and scans."):
        share_audit(root, opened, owner())
        st.session_state["aud_open"] = opened
        st.rerun()

if summary is not None:
    m = st.columns(5)
    m[0].metric("Scans", f"{summary['images']:,}")
    m[1].metric("Rows", f"{summary['rows']:,}", help="one per scan x method x explained class")
    m[2].metric("Accuracy", "—" if summary.get("accuracy") is None else f"{summary['accuracy']:.1%}")
    m[3].metric("Outside training domain", f"{summary.get('ood_flagged', 0):,}")
    m[4].metric("Unreadable scans", f"{summary['errors']['images']:,}",
                help="files that could not be read; each is a row with its error, never a stopped audit")
    st.caption(f"{lit(spec.model)} on {lit(spec.dataset)}:{lit(spec.split)}; methods {', '.join(spec.methods)}; "
               f"explaining the {spec.classes} class{'es' if spec.classes == 'all' else ''}.")
    if summary.get("cases"):  # a folder of studies, audited slice by slice: one line per case
        st.markdown(f"**{len(summary['cases'])} studies**, audited slice by slice; most suspicious first "
                    "(each study's top slice, its score and prediction):")
        st.dataframe(pd.DataFrame(summary["cases"]), hide_index=True, width="stretch", key="aud_cases")
    metric_names = list(summary["metrics"])

    st.subheader("1. Leaderboard")
    with user_errors("Drawing the leaderboard"):
        board = aplots.leaderboard_table(summary)
        st.dataframe(board, hide_index=True, width="stretch", key="aud_board")
        st.caption("Mean over the scans, bootstrap 95% interval in brackets, n = scans where the metric is defined "
                   "(focus needs a lesion mask). Overlapping intervals: the data do not separate the methods.")
        for method, why in summary.get("left_out", {}).items():
            st.caption(f"**{method}** {why}")
        if summary.get("withheld"):
            st.caption("Values withheld (no verdict, in no mean): " + "; ".join(
                f"{n:,} rows because {why}" for why, n in summary["withheld"].items()) + ".")
        st.plotly_chart(aplots.grouped_figure(summary["overall"], "method", metric_names), width="stretch",
                        key="aud_board_fig")

    st.subheader("2. By class and outcome")
    with user_errors("Drawing the breakdown"):
        b1, b2 = st.columns(2)
        b1.markdown("**Per true class**")
        b1.plotly_chart(aplots.grouped_figure(summary["by_class"], "true_class", metric_names, columns=2), width="stretch",
                        key="aud_by_class")
        b2.markdown("**Correctly classified vs misclassified**")
        b2.plotly_chart(aplots.grouped_figure(summary["by_outcome"], "outcome", metric_names, columns=2), width="stretch",
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
                col.caption(f"{lit(r['image_id'], 80)}  \ntrue **{lit(r['true_class'], 60)}**, predicted "
                            f"{lit(r['predicted_class'], 60)} "
                            f"{r['probability']:.0%}  \n{r['method']}: {f}OOD score {r['ood_score']:.3g}")
                # the explanation pages show test scans, of registered datasets and of folders alike
                idx = strategies.member_index(spec, r["image_id"])
                if idx >= 0 and col.button("Open", key=f"aud_open_{title}_{j}"):
                    strategies.open_on_methods(spec, idx, r["image_id"])

    st.subheader("5. Downloads")
    with user_errors("Preparing the downloads"):
        d1, d2, d3 = st.columns(3)
        # store.file: a file linked out of the audit folder is refused, never served
        d1.download_button("Rows (CSV)", store.file("rows.csv").read_bytes(), f"{opened}-rows.csv", "text/csv",
                           key="aud_dl_csv")
        d2.download_button("Rows (Parquet)", store.file("rows.parquet").read_bytes(), f"{opened}-rows.parquet",
                           "application/octet-stream", key="aud_dl_parquet")
        d3.download_button("Summary (JSON)", store.file("summary.json").read_bytes(), f"{opened}-summary.json",
                           "application/json", key="aud_dl_summary")
        commands = store.commands()[-2:]
        if commands:
            st.caption("The command that produced it:")
            st.code("\n".join(commands), language="bash")

    st.subheader("6. Strategies: what the model does across the dataset")
    st.markdown(
        "The maps of every scan, clustered by where their evidence sits (spectral relevance analysis, "
        "Lapuschkin et al. 2019). Each cluster is one *strategy* of the model; a cluster whose evidence sits "
        "in a corner, the image border or outside the body is flagged: a model can score well by reading a "
        "marker instead of the finding. Nothing here needs to know where such a marker is.")
    with user_errors("Finding the strategies"):
        s1, s2, s3 = st.columns([2, 2, 1])
        s_method = s1.selectbox("Maps of", list(spec.methods), key="aud_strat_method")
        explained = sorted(rows.loc[rows["method"] == s_method, "class"].dropna().unique())
        s_class = s2.selectbox("Explained class", ["every class", *explained], key="aud_strat_class")
        s_k = s3.selectbox("Clusters", ["auto", *map(str, range(2, 11))], key="aud_strat_k",
                           help="auto: the number after which the graph's spectrum jumps most (eigengap)")
        with st.spinner("Clustering the maps…"):
            try:
                doc = strategies.compute(str(folder), (folder / "summary.json").stat().st_mtime, s_method,
                                         None if s_class == "every class" else s_class, s_k)
            except TooFewMaps as exc:  # a small audit: a note, not an error
                doc = None
                st.info(message_literal(f"{exc} Audit more scans (or choose every class) to see the model's "
                                        "strategies."))
        if doc is not None:
            strategies.show(doc, spec, lambda i: cached.audit_image(spec.to_json(), i), "aud_strat")
    strategies_example()
