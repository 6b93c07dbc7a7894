"""The Audit page's Strategies view: clusters of an audit's maps, their prototypes, members and flags."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import streamlit as st

from pages._ui import widgets
from pages._ui.literal import lit
from xai_core import config
from xai_core.exports import csv_text
from xai_core.audit import AuditSpec
from xai_core.plots import strategies as splots
from xai_core.strategies import cluster_table
from xai_core.untrusted import message_literal

EXPLAIN_PAGES = ("pages/methods.py", "pages/shap_margin_vs_probability.py")  # side by side, if it exists
SHIPPED = config.ASSETS_DIR / "strategies"  # examples computed by `make shipped-models`
MEMBERS = 6


@st.cache_data(show_spinner=False, max_entries=16)
def compute(folder: str, stamp: float, method: str, class_name: str | None, k: str) -> dict:
    """Strategies of an audit folder as the CLI's JSON (``stamp``: its summary's mtime, so reruns recompute)."""
    from xai_core.strategies import from_audit

    return from_audit(folder, method, class_name, "auto" if k == "auto" else int(k)).to_json()


def shipped() -> dict[str, dict]:
    """The shipped example results by model name, those with a flagged strategy first (the shortcut model)."""
    docs = {p.stem: json.loads(p.read_text()) for p in sorted(SHIPPED.glob("*.json"))} if SHIPPED.is_dir() else {}
    return dict(sorted(docs.items(), key=lambda kv: not any(c["suspicious"] for c in kv[1]["clusters"])))


def open_on_methods(spec: AuditSpec, index: int) -> None:
    """Open a registered dataset's test scan on Methods side by side, with the audit's model."""
    target = next((p for p in EXPLAIN_PAGES if Path(p).is_file()), EXPLAIN_PAGES[-1])
    st.session_state[widgets.MODEL] = spec.model
    st.session_state[widgets.DATASET] = spec.dataset
    for k in ("_w_model", "_w_dataset", "_w_index"):  # the pickers there start from the refs
        st.session_state.pop(k, None)
    st.session_state[widgets.SOURCE] = widgets.DATASET_CHOICE  # not this session's upload
    widgets.select_image(spec.dataset, spec.split, index)
    st.switch_page(target)


def _index(spec: AuditSpec, image_id: str) -> int:
    prefix = f"{spec.dataset}:{spec.split}:"
    return int(image_id[len(prefix):]) if image_id.startswith(prefix) else -1


def show(doc: dict, spec: AuditSpec, load_image, key: str) -> None:
    """Draw one strategies result: embedding, a card per cluster, the cluster table and its download."""
    n_flag = sum(c["suspicious"] for c in doc["clusters"])
    st.markdown(
        f"**{len(doc['members'])} maps** of `{doc['method']}` fall into **{doc['k']} "
        f"strateg{'y' if doc['k'] == 1 else 'ies'}** "
        f"({'number chosen by the largest eigengap' if doc['k_chosen_by'] == 'eigengap' else 'number given'}); "
        + (f"**{n_flag} flagged suspicious**: their evidence sits away from the finding." if n_flag
           else "none is flagged: no strategy keeps its evidence in a corner, the border or outside the body.")
        + (f" {doc['left_out']} maps with no positive evidence were left out." if doc.get("left_out") else "")
        + "".join(f" Not clustered, {lit(why)}: {n}." for why, n in doc.get("withheld", {}).items()))
    colour = st.radio("Colour the points by", splots.COLOUR_BY, horizontal=True, key=f"{key}_colour")
    st.plotly_chart(splots.embedding_figure(doc, colour), width="stretch", key=f"{key}_emb")
    member_info = {m["image_id"]: m for m in doc["members"]}
    zmax = max(max(map(max, c["prototype"])) for c in doc["clusters"])
    for c in doc["clusters"]:
        flag = "🚩 **suspicious**: " + message_literal(c["reason"]) if c["suspicious"] else "no flag"
        with st.container(border=True):
            left, right = st.columns([1, 3])
            left.plotly_chart(splots.prototype_figure(c, zmax), width="stretch", key=f"{key}_proto_{c['id']}")
            right.markdown(f"**Cluster {c['id']}**: {message_literal(c['description'])}  \n{flag}")
            s = c["shares"]
            corner, share = max(s["corners"].items(), key=lambda kv: kv[1])
            right.caption(
                "Evidence: " + (f"on the lesion {s['lesion']:.0%} (lesion area {s['lesion_area']:.0%}); "
                                if s["lesion"] is not None else "")
                + f"{corner} corner {share:.0%} (area 6%); border band {s['border']:.0%} (area 23%)"
                + (f"; outside the body {s['outside']:.0%}" if s["outside"] is not None else "") + ".")
            cols = right.columns(MEMBERS)
            for j, (col, image_id) in enumerate(zip(cols, c["nearest"])):
                img = load_image(image_id)
                if img is not None:
                    col.image(img, width="stretch", clamp=True)
                info = member_info.get(image_id, {})
                col.caption(f"{lit(image_id.rsplit(':', 1)[-1], 40)} {lit(info.get('predicted_class') or '', 40)}")
                idx = _index(spec, image_id)
                if idx >= 0 and spec.split == "test" and col.button("Open", key=f"{key}_open_{c['id']}_{j}"):
                    open_on_methods(spec, idx)
    table = pd.DataFrame(cluster_table(doc))
    st.dataframe(table, hide_index=True, width="stretch", key=f"{key}_table")
    st.download_button("Clusters (CSV)", csv_text(table).encode(),
                       f"strategies-{doc['meta'].get('model', 'model')}-{doc['method']}.csv", "text/csv",
                       key=f"{key}_dl")
