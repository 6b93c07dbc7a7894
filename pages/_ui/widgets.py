"""Shared pickers. The current model, dataset and image live in ``st.session_state``
so every page agrees on them and nothing the user chose is lost between pages."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import streamlit as st

import xai_core as xc
from pages._ui.jobs import stoppable, was_stopped
from pages._ui.literal import lit, lits
from xai_core import config

MODEL, DATASET, IMAGE = "model", "dataset", "image_ref"  # session_state keys
UPLOAD, SOURCE = "uploaded_scan", "scan_source"  # the session's own upload; which scan the pages show
DATASET_CHOICE, UPLOAD_CHOICE = "a dataset test image", "upload"


def models() -> list[dict]:
    """Every model this session may use: shipped, the shared library, and its own private ones."""
    from pages._ui.session import owner

    return xc.list_models(owner=owner())


def model_picker(container=st, label: str = "Model") -> str:
    rows = models()
    names = [r["name"] for r in rows]
    if not names:
        st.error("No model is available. Train one with `python -m xai_core train ...`.")
        st.stop()
    current = st.session_state.get(MODEL, config.DEFAULT_MODEL)
    index = names.index(current) if current in names else 0
    info = {r["name"]: r for r in rows}

    def fmt(n):
        acc = info[n].get("test_accuracy")
        return f"{n} ({acc:.0%} test accuracy)" if acc is not None else n

    container.selectbox(label, names, index=index, key="_w_model", format_func=fmt)
    st.session_state[MODEL] = st.session_state["_w_model"]
    return st.session_state[MODEL]


def dataset_picker(container=st, label: str = "Dataset", default: str | None = None) -> str:
    from pages._ui import cached

    names = cached.dataset_names()
    current = st.session_state.get(DATASET, default or config.DEFAULT_DATASET)
    index = names.index(current) if current in names else 0
    container.selectbox(label, names, index=index, key="_w_dataset")
    st.session_state[DATASET] = st.session_state["_w_dataset"]
    return st.session_state[DATASET]


def model_and_dataset(split_key: str | None = None) -> tuple[str, object, str, str | None]:
    """One row of pickers: a model, a dataset (the model's own by default) and, with ``split_key``, a split.
    Returns (model name, loaded model, dataset name, split or None)."""
    from pages._ui import cached

    cols = st.columns([2, 2, 1] if split_key else 2)
    with cols[0]:
        model_name = model_picker()
    lm = cached.model(model_name)
    with cols[1]:
        dataset_name = dataset_picker(default=lm.metadata.dataset)
    split = cols[2].selectbox("Split", ["test", "val", "train"], key=split_key) if split_key else None
    return model_name, lm, dataset_name, split


def selected_image(dataset_name: str) -> dict:
    """The image chosen in the gallery (or the first test image)."""
    ref = st.session_state.get(IMAGE)
    if not ref or ref.get("dataset") != dataset_name:
        ref = {"dataset": dataset_name, "split": "test", "index": 0}
        st.session_state[IMAGE] = ref
    return ref


def select_image(dataset_name: str, split: str, index: int, member: str | None = None) -> None:
    """Choose a test image; ``member``: its id in an audit (a folder dataset's file or ``<case>:<slice>``)."""
    st.session_state[IMAGE] = {"dataset": dataset_name, "split": split, "index": int(index),
                               **({"member": str(member)} if member else {})}


@dataclass
class CurrentScan:
    """The scan every explanation page works on: a dataset test image OR the session's own upload.

    Pages only read ``image`` (raw, (H, W, C) in 0..255), ``label`` (plain words for titles),
    ``slug`` (for file names) and ``key`` (what identifies it in a request, so a changed scan is
    noticed). ``true`` is the known class name, None for uploads.
    """

    source: str  # "dataset" or "upload"
    image: np.ndarray
    label: str
    slug: str
    key: dict
    true: str | None = None
    dataset_name: str | None = None
    index: int | None = None


def uploaded_scan() -> dict | None:
    """The scan this session uploaded on "Your scan" (name, sha, bytes, window, rendered image), if any.

    It lives in ``st.session_state`` and nowhere else, so it survives page changes and no other
    session can see it."""
    return st.session_state.get(UPLOAD)


def store_upload(name: str, data: bytes, sha: str, image: np.ndarray, window=None, window_label: str = "",
                 preset: str | None = None) -> None:
    st.session_state[UPLOAD] = {"name": name, "data": data, "sha": sha, "image": np.asarray(image),
                                "window": None if window is None else tuple(float(v) for v in window),
                                "window_label": window_label, "preset": preset}


def forget_upload() -> None:
    st.session_state.pop(UPLOAD, None)
    if st.session_state.get(SOURCE) == UPLOAD_CHOICE:
        st.session_state[SOURCE] = DATASET_CHOICE


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:60] or "scan"


def upload_as_scan(up: dict) -> CurrentScan:
    win = f", window {up['window_label']}" if up.get("window_label") else ""
    return CurrentScan(source="upload", image=up["image"], label=f"your scan {up['name']}{win}",
                       slug=f"scan-{up['sha'][:12]}",  # file names from the scan's hash, never its name (as reports)
                       key={"upload": up["sha"], "window": up.get("window")})


def model_and_scan() -> dict:
    """The model and scan pickers every explanation page starts with, in one row.

    The scan is a dataset test image or, once this session has uploaded one on "Your scan", that
    upload ("Scan from"). Returns the chosen names, the loaded model, the ``CurrentScan`` (under
    ``scan``) and, for compatibility, ``image``/``true``/``dataset_name``/``index``/``label``.
    Raises ``XAIError`` (for the page's ``user_errors``) when something cannot load.
    """
    from pages._ui import cached

    up = uploaded_scan()
    c1, c2, c3, c4 = st.columns([2, 2, 2, 1])
    with c1:
        model_name = model_picker()
    lm = cached.model(model_name)
    source = DATASET_CHOICE
    if up is not None:
        options = [DATASET_CHOICE, UPLOAD_CHOICE]
        current = st.session_state.get(SOURCE, DATASET_CHOICE)
        # widget state is dropped on pages that do not draw it, so the choice is kept under SOURCE
        source = c2.radio("Scan from", options, index=options.index(current) if current in options else 0,
                          key="_w_source",
                          format_func=lambda s: s if s == DATASET_CHOICE else f"your upload ({lit(up['name'], 60)})",
                          help="Your upload stays in this browser session only; nobody else sees it.")
        st.session_state[SOURCE] = source
    if source == UPLOAD_CHOICE and up is not None:
        scan = upload_as_scan(up)
        c3.caption(f"Showing **{lit(up['name'])}** as uploaded on *Your scan*"
                   + (f" (window {up['window_label']})." if up.get("window_label") else "."))
        return {"model_name": model_name, "model": lm, "dataset_name": None, "dataset": None, "index": None,
                "image": scan.image, "true": None, "label": scan.label, "scan": scan}
    with (c3 if up is not None else c2):
        dataset_name = dataset_picker(default=lm.metadata.dataset)
    ds = cached.dataset(dataset_name)
    ref = selected_image(dataset_name)
    n_test = len(ds.split("test"))
    with c4 if up is not None else c3:
        index = st.number_input("Test image #", 0, n_test - 1, min(ref["index"], n_test - 1), key="_w_index")
    member = ref.get("member") if ref.get("index") == index else None  # opened from an audit: keep its name
    select_image(dataset_name, "test", index, member=member)
    if member:
        st.caption(f"Audit member **{lit(member, 200)}** of {lit(dataset_name, 100)}.")
    true = ds.class_names[ds.split("test").labels[index]]
    scan = CurrentScan(source="dataset", image=ds.image("test", index), label=f"{dataset_name} test #{index}",
                       slug=_slug(f"{dataset_name}-test{index}"), key={"dataset": dataset_name, "index": int(index)},
                       true=true, dataset_name=dataset_name, index=int(index))
    return {"model_name": model_name, "model": lm, "dataset_name": dataset_name, "dataset": ds,
            "index": int(index), "image": scan.image, "true": true, "label": scan.label, "scan": scan}


def domain_warning(model_name: str, image) -> bool:
    """Warn in plain words when ``image`` lies outside the model's training domain; True if it does.

    The technical form (score, threshold, percentile) is in the tooltip, and a button looks for
    another model (shipped or added by this session) whose training domain accepts the scan."""
    from pages._ui import cached
    from xai_core.domain import accepting_models, check_images
    from xai_core.data.images import image_hash

    lm = cached.model(model_name)
    det = cached.detector(model_name, lm.file_hash)
    if isinstance(det, str):
        st.caption(f"Out-of-domain check unavailable: {det}")
        return False
    check = check_images(det, lm, [image])
    if not check.flags[0]:
        return False
    st.warning(check.message(0), icon=":material/warning:")
    c1, c2 = st.columns([1, 2])
    c1.caption("How this is measured", help=check.technical(0))
    key = f"_ood_next_{model_name}_{image_hash(np.asarray(image))[:16]}"
    others = [r["name"] for r in models() if r["name"] != model_name]
    was_stopped(key, "Find a model whose training scans are like this one")
    if c2.button("Find a model whose training scans are like this one", key=f"btn{key}",
                 help=f"Loads each of the {len(others)} other models, times its forward pass here, says how long "
                      "the checks will take, then runs each model's own out-of-domain check on this scan. A "
                      "model's first check also runs it over its training scans. Progress is shown model by "
                      "model, and Stop keeps the page as it was."):
        with stoppable(key, what="Checking the other models, one by one…"):
            st.session_state[key] = _find_accepting(image, others)
    found = st.session_state.get(key)
    if found is not None:
        if found:
            best = found[0]
            st.info(f"Next step: try **{lit(best['name'])}** (trained on {lit(best['dataset'])}); this scan is within "
                    f"its training domain (more unusual than only {best['percentile']:.0f}% of its own "
                    "held-out scans)." + (f" Also in domain for: {lits(r['name'] for r in found[1:])}."
                                          if len(found) > 1 else ""), icon=":material/lightbulb:")
        else:
            st.info("Next step: no other model here was trained on scans like this one. Ask for a model trained "
                    "on this kind of scan, or add one on *Your models and data*.", icon=":material/lightbulb:")
    return True


def _find_accepting(image, names: list[str]) -> list[dict]:
    """The models among ``names`` whose training domain accepts ``image``, most typical first. Each model's
    forward pass is timed first, so the estimate shown while the checks run is this machine's and these
    models', not a promise."""
    from pages._ui import cached
    from xai_core import estimate
    from xai_core.domain import accepting_models, images_to_fit

    note, bar, plan = st.empty(), st.progress(0.0, text="Timing each model's forward pass…"), []
    for i, name in enumerate(names):
        bar.progress(i / len(names), text=f"Loading and timing model {i + 1} of {len(names)}: {lit(name)}…")
        lm = cached.model(name)
        try:
            n_fit = images_to_fit(lm)
        except xc.XAIError:  # no check can be built for it: accepting_models skips it too
            n_fit = 0
        per = cached.forward_seconds(name, lm.file_hash)
        plan.append((lm, per, n_fit, estimate.domain_check_seconds(per, n_fit, lm.has_features)))
    total = sum(p[3] for p in plan)
    first = [(lm.name, n) for lm, _, n, _ in plan if n]
    note.caption(f"Estimate: {estimate.words(total)} for {len(names)} models"
                 + (f"; the first check of {lits(n for n, _ in first)} also runs "
                    f"{sum(n for _, n in first):,} training scans through them" if first else "")
                 + ". Timed here: " + "; ".join(f"{lit(lm.name)} {per * 1000:.1f} ms per image" for lm, per, _, _ in plan)
                 + ".", help="Images each check sends through its model times that model's forward pass timed on "
                             "this machine: an order of magnitude, not a promise.")
    found, done = [], 0.0
    for i, (lm, per, n_fit, seconds) in enumerate(plan):  # one model at a time: the wait is visible, can stop
        bar.progress(done / total if total else i / len(plan),
                     text=f"Model {i + 1} of {len(plan)}: {lit(lm.name)}, {estimate.words(seconds)}"
                          + (f" (first check: {n_fit:,} training scans, {estimate.basis(per)})" if n_fit else "")
                          + "…")
        found += accepting_models(image, [lm])
        done += seconds
    bar.empty()
    return sorted(found, key=lambda r: r["percentile"])


def domain_gate(model_name: str, image, key: str) -> bool:
    """The out-of-domain warning, then whether to show the prediction and maps: for a flagged scan they
    stay collapsed until the user asks to see them anyway.

    The switch belongs to this scan and this model (its key carries both), so a new upload, or another
    model, starts hidden again: "show anyway" on one flagged scan never lets the next one skip the gate."""
    from xai_core.data.images import image_hash

    if not domain_warning(model_name, image):
        return True
    key = f"{key}_{model_name}_{image_hash(np.asarray(image))[:16]}"
    return st.toggle("Show the prediction and maps anyway", key=key, value=False,
                     help="They are hidden because the model has never seen scans like this one; what it says "
                          "about them is a guess.")
