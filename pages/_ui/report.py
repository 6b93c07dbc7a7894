"""The "Download report" widget: one call per page, the report is built only when the user clicks.

Each page hands over what it already shows, as a list of cases (one model on one scan with its
explanations); ``xai_core.report`` does the rest. DICOM identifiers are printed only when the user
ticks "Include identifiers", and the tick holds for the one report it was given for.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from pages._ui.render import user_errors

WINDOW_CHOICES = {"from the file": "file", "full range": "full", "custom": "custom"}


def window_name(choice: str | None) -> str | None:
    """The ``--window`` name of the "Your scan" page's window choice (presets keep their own names)."""
    return None if choice is None else WINDOW_CHOICES.get(choice, choice)


def scan_case(model: str, explanations: list, scan_key: dict, image=None, true: str | None = None,
              trust: dict | None = None, slice_maps=None) -> dict | None:
    """A case for ``report_download`` from a page's ``CurrentScan.key``: the session's upload (with its window)
    or a dataset test scan. None when the upload it names is gone. ``slice_maps``: for a slice of a study,
    the map volume of its explained slices (``xai_core.slices.SliceMaps``), projected in the report."""
    from pages._ui import widgets

    base = {"model": model, "explanations": list(explanations), "trust": trust}
    if "upload" in scan_key:
        up = widgets.uploaded_scan()
        if not up or up["sha"] != scan_key["upload"]:
            return None
        return {**base, "upload": (up["data"], up["name"]), "window": up.get("window"),
                "window_choice": up.get("preset"), "slice": up.get("slice"),
                "slice_maps": slice_maps if up.get("slice") else None}
    return {**base, "ref": f"{scan_key['dataset']}:test:{scan_key['index']}", "image": image, "true": true}


def _signature(cases: list[dict], *parts) -> str:
    from xai_core.report.content import fingerprint

    h = hashlib.sha256(repr(parts).encode())
    for c in cases:
        h.update(str(c["model"]).encode())
        for e in c["explanations"]:
            h.update(fingerprint(e.values).encode())
        if c.get("slice_maps") is not None:  # a new map volume makes the built report stale
            h.update(fingerprint(c["slice_maps"].maps).encode())
    return h.hexdigest()


def _build(cases: list[dict], kind: str, handout: str | None, include_ids: bool, classes_rule: str | None):
    from pages._ui import cached
    from xai_core import report
    from xai_core.report.content import stored_trust

    built, models, shown, guard, window = [], [], {}, {}, None
    for c in cases:
        lm = cached.model(c["model"])
        models.append(lm)
        if "upload" in c:
            data, filename = c["upload"]
            opt = report.window_option(c.get("window"), window_name(c.get("window_choice")))
            scan, ids, found = report.scan_from_bytes(lm, data, filename, opt, include_ids, source=filename,
                                                      slice=c.get("slice"))
            shown.update(ids or {})
            guard.update(found)
            window = opt or window
            series = _series(c, lm, scan)
        else:
            scan = report.scan_from_dataset(lm, c["ref"], c["image"], c.get("true"))
            series = None
        trust = c.get("trust") or stored_trust(lm, c["explanations"])  # the cards the page already showed
        built.append(report.case(lm, scan, c["explanations"], trust=trust, series=series))
    rep = report.assemble(built, models, kind=kind, handout=handout, identifiers=shown if include_ids else None,
                          guard=guard, window=window, classes_rule=classes_rule)
    figures = report.render_figures(rep)
    return {"stem": rep.file_stem(), "pdf": report.to_bytes(rep, "pdf", figures),
            "html": report.to_bytes(rep, "html", figures)}


def _series(c: dict, lm, scan):
    """For a slice of a study: every slice scored in the page's window, and the page's map volume projected
    when it was made as the report's first map was (so the regeneration command rebuilds it)."""
    if not c.get("slice"):
        return None
    from pages._ui import cached
    from xai_core.data.study import read_volume
    from xai_core.report.study import matches, series_of

    data, filename = c["upload"]
    maps = c.get("slice_maps")
    maps = maps if matches(maps, (c["explanations"] or [None])[0]) else None
    plane, index = c["slice"]
    return series_of(lm, read_volume(data, filename), plane, index, scan.window, maps,
                     detector=cached.detector(c["model"], lm.file_hash))


def _keep_open(key: str) -> None:
    st.session_state[f"{key}_open"] = True


def report_download(key: str, cases: list[dict], handout: str | None = None, classes_rule: str | None = None):
    """A "Download report" section: PDF and self-contained HTML, built on click.

    ``cases``: dicts with ``model`` (name), ``explanations`` (list), ``trust`` (optional ``{method:
    [MetricResult]}``) and either ``ref``/``image``/``true`` (a dataset scan) or ``upload`` (bytes,
    file name) with ``window`` (centre, width) and ``window_choice`` (the page's window label).
    ``handout``: ``"shap"`` or ``"lime"`` offers the class-handout variant.
    """
    cases = [c for c in cases if c]
    if not cases or not any(c.get("explanations") for c in cases):
        return
    dicom = any("upload" in c and c["upload"][1].lower().endswith((".dcm", ".dicom")) or
                ("upload" in c and c["upload"][0][128:132] == b"DICM") for c in cases)
    # stays open once used: choosing the handout or building reruns the page, which would fold it again
    with st.expander("Download report (PDF, HTML)", expanded=bool(st.session_state.get(f"{key}_open"))):
        st.caption("A case report with the scan, prediction, out-of-domain check, every map with its colour bar, "
                   "the model card, every parameter and the command that regenerates it. "
                   "For research and teaching; not a medical device; not for diagnosis.")
        c1, c2, c3 = st.columns([2, 2, 1])
        kind = "case"
        if handout:
            kind = c1.radio("Variant", ["case", "handout"], key=f"{key}_kind", horizontal=True,
                            format_func={"case": "case report", "handout": "class handout (for printing)"}.get,
                            on_change=_keep_open, args=(key,))
        n = st.session_state.get(f"{key}_ids_round", 0)
        include_ids = False
        if dicom:
            include_ids = c2.checkbox("Include identifiers (this report only)", key=f"{key}_ids_{n}",
                                      help="Off: patient name, IDs, dates, institution and every other DICOM "
                                           "PS3.15 identifier are left out. Text burned into the pixels is not "
                                           "removed either way.")
        sig = _signature(cases, kind, handout, include_ids, classes_rule)
        if c3.button("Build report", key=f"{key}_build", on_click=_keep_open, args=(key,)):
            with user_errors("Building the report"), st.spinner("Building the report…"):
                st.session_state[f"{key}_built"] = {**_build(cases, kind, handout, include_ids,
                                                                         classes_rule)}
                st.session_state[f"{key}_ids_round"] = n + 1  # the tick does not carry over to the next report
                # shown after the rerun that clears the tick; hidden once the page shows other maps
                st.session_state[f"{key}_built"]["sigs"] = {sig, _signature(cases, kind, handout, False,
                                                                            classes_rule)}
            if include_ids and f"{key}_built" in st.session_state:
                st.rerun()  # redraw with the tick cleared, so the next report is de-identified again
        built = st.session_state.get(f"{key}_built")
        if built and sig in built.get("sigs", ()):
            d1, d2 = st.columns(2)
            d1.download_button("Download report (PDF)", built["pdf"], f"{built['stem']}.pdf", "application/pdf",
                               key=f"{key}_pdf")
            d2.download_button("Download report (HTML)", built["html"], f"{built['stem']}.html", "text/html",
                               key=f"{key}_html")
