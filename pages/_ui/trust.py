"""The trust card: the one renderer every map panel calls, ``trust_card(model_name, image, explanation, mask)``.

Cheap metrics (``xai_core.trust.card_metrics``: deletion, insertion, localisation on the lesion where a
mask exists, completeness) run by default, 3-5 numbers each with a verdict mark and one plain line.
Costly ones (randomisation, convergence, input and seed stability) run on one click; their results live
in the disk cache, so once computed they show again without a click. Curves open on demand.
"""

from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

import xai_core as xc
from pages._ui import cached
from pages._ui.literal import lit
from pages._ui.render import progress_bar, user_errors
from xai_core import estimate, gates, trust
from xai_core.metrics import METRICS, VERDICT_WORDS
from xai_core.plots import trust as trust_plots

MARKS = {"pass": "✅", "warn": "⚠️", "fail": "❌", "inconclusive": "❔", "n/a": "➖"}
WORDS = VERDICT_WORDS
COLOURS = {"pass": "green", "warn": "orange", "fail": "red", "inconclusive": "violet", "n/a": "gray"}  # the word


def _mask_hash(mask) -> str | None:
    if mask is None:
        return None
    return hashlib.sha256(np.ascontiguousarray(np.asarray(mask, bool)).tobytes()).hexdigest()


@st.cache_data(show_spinner="Checking the map…", max_entries=256)
def _cheap(model_name: str, model_hash: str, explanation_key: str, mask_key: str | None, out_of_domain: bool,
           _explanation: xc.Explanation, _mask, backend: str = "") -> dict:
    return trust.card(cached.model(model_name), _explanation.image, _explanation, mask=_mask,
                      out_of_domain=out_of_domain)


def flagged(model_name: str, image) -> bool:
    """Whether the model's out-of-domain check flags ``image`` (False where the model has no check)."""
    from xai_core.domain import check_images

    lm = cached.model(model_name)
    det = cached.detector(model_name, lm.file_hash)
    if isinstance(det, str):
        return False
    return bool(check_images(det, lm, [image]).flags[0])


def _withheld_panel(results: dict, key: str) -> None:
    """One line for a card whose evidence is withheld, and its values on request (never with a verdict)."""
    why = next((gates.reason_of(r) for r in results.values() if gates.reason_of(r)), "")
    if not why:
        return
    st.markdown(f"{MARKS['n/a']} **Not applicable: {why}.** No metric on this card earns a verdict.")
    if st.toggle("Show the values anyway", key=f"{key}_values_anyway", value=False,
                 help="What the metrics computed, for inspection only: they are not evidence here."):
        rows = [{"metric": METRICS.get(n).display_name,
                 "value (not evidence)": (None if w is None or not np.isfinite(w.value) else round(w.value, 4))}
                for n, w in ((n, gates.withheld(r)) for n, r in results.items())]
        st.dataframe(rows, hide_index=True, width="stretch", key=f"{key}_values_table")


def _value(r) -> str:
    if not np.isfinite(r.value):
        return f"{MARKS['n/a']} n/a"
    return f"{MARKS[r.verdict]} {r.value:.2f}"


def _help(name: str, r) -> str:
    m = METRICS.get(name)
    chance = f" Chance level: {r.chance:.2f}." if r.chance else ""
    rule = f" Verdict rule: {r.threshold}." if r.threshold else ""
    return f"{m.description} {r.better.capitalize()} is better.{chance}{rule}"


def trust_card(model_name: str, image, explanation: xc.Explanation, mask=None, key: str = "trust") -> dict:
    """Render the trust card of ``explanation`` (its first class) beside its map; returns the results shown.

    ``image`` is used when the explanation carries none; ``mask`` is the ground-truth lesion mask, if known.
    ``key`` must be unique on the page.
    """
    lm = cached.model(model_name)
    if explanation.image is None:
        explanation.image = lm.prepare(image)
    e_key = trust.explanation_hash(explanation)
    shown: dict = {}
    with st.container(border=True), user_errors("The trust card"):
        st.markdown(f"**Can this map be trusted?** · {lit(explanation.class_names[0])}, "
                    f"{xc.EXPLAINERS.get(explanation.method).display_name if explanation.method in xc.EXPLAINERS else explanation.method}")
        if explanation.approximate:
            _precision_panel(lm, explanation, key)
        ood = flagged(model_name, explanation.image)
        cheap = _cheap(model_name, lm.file_hash, e_key, _mask_hash(mask), ood, explanation, mask,
                       cached.backend(model_name))  # perturbation passes in bf16 are approximate: keyed apart
        shown.update(cheap)
        cols = st.columns(len(cheap))
        for col, (name, r) in zip(cols, cheap.items()):
            col.metric(METRICS.get(name).display_name, _value(r), help=_help(name, r))
            v = r.verdict if np.isfinite(r.value) else "n/a"
            col.caption(f":{COLOURS[v]}-badge[{WORDS[v]}] {r.meaning}")  # the verdict not by emoji alone
        costly = trust.costly_metrics()
        done = trust.card(lm, explanation.image, explanation, costly, mask=mask, compute=False, out_of_domain=ood)
        names = ", ".join(METRICS.get(n).display_name.lower() for n in costly)
        if len(done) < len(costly):
            per = cached.forward_seconds(model_name, lm.file_hash)
            passes = estimate.method_passes(explanation.method, tuple(lm.input_shape[:2]))
            eta = per * sum(estimate.metric_passes(n, passes) for n in costly)
        if len(done) < len(costly) and st.button("Run the deeper checks", key=f"{key}_costly",
                                                  help=f"{names}. These explain the scan again several times: "
                                                       f"{estimate.words(eta)} ({estimate.basis(per)}); "
                                                       "results are kept."):
            with progress_bar("Deeper checks…") as progress:
                done = trust.card(lm, explanation.image, explanation, costly, mask=mask, out_of_domain=ood,
                                  progress=progress)
        shown.update(done)
        _withheld_panel(shown, key)
        for name, r in done.items():
            if r.verdict != "n/a":
                st.markdown(f"{MARKS[r.verdict]} **{METRICS.get(name).display_name}** {r.value:.2f} "
                            f"({WORDS[r.verdict]}): {r.meaning}", help=_help(name, r))
        if st.toggle("Show the curves", key=f"{key}_curves"):
            for kind, fig in trust_plots.metric_figures(shown):  # each metric declares its figure
                st.plotly_chart(fig, width="stretch", key=f"{key}_fig_{kind}")
    return shown


def _precision_panel(lm, explanation: xc.Explanation, key: str) -> None:
    """A bf16 map says so, and its agreement with the fp32 map of the same scan is one click away (kept once
    computed: the fp32 map is cached like any other)."""
    from xai_core import precision

    st.warning(precision.warning_text(explanation.backend), icon=":material/speed:")
    rows = precision.agreement(lm, explanation, compute=False)
    if rows is None and st.button("Compare with the fp32 map", key=f"{key}_fp32",
                                  help="Explains the scan again with the same settings in fp32 and compares the maps."):
        with progress_bar("The fp32 map…") as progress:
            rows = precision.agreement(lm, explanation, progress=progress)
    if rows is not None:
        for r in rows:
            st.markdown(f"**Agreement with fp32** · {lit(r['class'])}: rank correlation "
                        f"{r['rank correlation']:.3f}, largest pixel change {r['largest pixel change']:.0%} of the "
                        "map's maximum")


def trust_cards(entries: list[tuple[str, str, xc.Explanation, object]], key: str) -> None:
    """The trust card of a grid of maps: ``entries`` are (title, model name, explanation, mask).

    One card at a time, for the map picked above it: a grid can hold 16 maps, and computing every card on
    every rerun would cost more than the grid itself (each card is cached once computed).
    """
    if not entries:
        return
    titles = [title for title, *_ in entries]
    pick = st.selectbox("Trust card for the map", range(len(entries)), format_func=lambda i: titles[i],
                        key=f"{key}_pick") if len(entries) > 1 else 0
    _, model_name, expl, mask = entries[int(pick or 0)]
    trust_card(model_name, expl.image, expl, mask=mask, key=f"{key}_{int(pick or 0)}")


def dataset_mask(dataset_name: str | None, split: str, index: int | None):
    """The ground-truth lesion mask of a dataset image, or None where the dataset has none (or no dataset)."""
    if dataset_name is None or index is None:
        return None
    try:
        s = cached.dataset(dataset_name).split(split)
    except xc.XAIError:
        return None
    return s.masks[int(index)] if s.masks is not None else None


def scan_mask(scan, shown_key=None):
    """The lesion mask of the page's current scan (a ``widgets.CurrentScan``), or None for uploads, for
    datasets without masks, and when the results shown (``shown_key``) belong to another scan."""
    if scan is None or scan.source != "dataset" or (shown_key is not None and shown_key != scan.key):
        return None
    return dataset_mask(scan.dataset_name, "test", scan.index)
