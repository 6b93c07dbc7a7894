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


def open_on_methods(spec: AuditSpec, index: int, member: str | None = None) -> None:
    """Open an audited test scan on Methods side by side, with the audit's model (``index``: ``member_index``;
    ``member``: the audit's id of it, which Methods names)."""
    target = next((p for p in EXPLAIN_PAGES if Path(p).is_file()), EXPLAIN_PAGES[-1])
    st.session_state[widgets.MODEL] = spec.model
    st.session_state[widgets.DATASET] = spec.dataset
    for k in ("_w_model", "_w_dataset", "_w_index"):  # the pickers there start from the refs
        st.session_state.pop(k, None)
    st.session_state[widgets.SOURCE] = widgets.DATASET_CHOICE  # not this session's upload
    widgets.select_image(spec.dataset, spec.split, index, member=member)
    st.switch_page(target)


@st.cache_data(show_spinner=False, max_entries=256)
def _position(spec_json: str, image_id: str) -> int:
    """The member's index in its dataset's split (-1: not there), for the explanation pages."""
    from pages._ui import cached
    from xai_core.audit.batch import ImageSource

    spec = AuditSpec.from_json(spec_json)
    try:
        found = ImageSource(spec).position(image_id, cached.dataset(spec.dataset).split(spec.split))
    except Exception:  # the dataset folder has gone or changed: the member just cannot be opened
        return -1
    return -1 if found is None else found


def member_index(spec: AuditSpec, image_id: str) -> int:
    """Where an audit member opens on Methods: DATASET:SPLIT:INDEX of a registered dataset, or the position
    of a folder dataset's file or slice (``folder:...``) in its decoded test split; -1 when it cannot open."""
    if spec.split != "test":  # the explanation pages show test scans
        return -1
    prefix = f"{spec.dataset}:{spec.split}:"
    if image_id.startswith(prefix):
        return int(image_id[len(prefix):])
    from xai_core.data.folder import PREFIX

    return _position(spec.to_json(), image_id) if spec.dataset.startswith(PREFIX) else -1


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
                idx = member_index(spec, image_id)
                if idx >= 0 and col.button("Open", key=f"{key}_open_{c['id']}_{j}"):
                    open_on_methods(spec, idx, image_id)
    table = pd.DataFrame(cluster_table(doc))
    st.dataframe(table, hide_index=True, width="stretch", key=f"{key}_table")
    st.download_button("Clusters (CSV)", csv_text(table).encode(),
                       f"strategies-{doc['meta'].get('model', 'model')}-{doc['method']}.csv", "text/csv",
                       key=f"{key}_dl")
