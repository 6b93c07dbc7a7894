"""Shared pickers. The current model, dataset and image live in ``st.session_state``
so every page agrees on them and nothing the user chose is lost between pages."""

from __future__ import annotations

import streamlit as st

import xai_core as xc
from xai_core import config

MODEL, DATASET, IMAGE = "model", "dataset", "image_ref"  # session_state keys


def model_picker(container=st, label: str = "Model") -> str:
    rows = xc.list_models()
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


def selected_image(dataset_name: str) -> dict:
    """The image chosen in the gallery (or the first test image)."""
    ref = st.session_state.get(IMAGE)
    if not ref or ref.get("dataset") != dataset_name:
        ref = {"dataset": dataset_name, "split": "test", "index": 0}
        st.session_state[IMAGE] = ref
    return ref


def select_image(dataset_name: str, split: str, index: int) -> None:
    st.session_state[IMAGE] = {"dataset": dataset_name, "split": split, "index": int(index)}


def model_and_scan() -> dict:
    """The model, dataset and test scan pickers every explanation page starts with, in one row.

    Returns the chosen names, the loaded model and dataset, the test index, the raw scan and its
    true class name. Raises ``XAIError`` (for the page's ``user_errors``) when something cannot load.
    """
    from pages._ui import cached

    c1, c2, c3 = st.columns([2, 2, 1])
    with c1:
        model_name = model_picker()
    lm = cached.model(model_name)
    with c2:
        dataset_name = dataset_picker(default=lm.metadata.dataset)
    ds = cached.dataset(dataset_name)
    ref = selected_image(dataset_name)
    n_test = len(ds.split("test"))
    with c3:
        index = st.number_input("Test image #", 0, n_test - 1, min(ref["index"], n_test - 1), key="_w_index")
    select_image(dataset_name, "test", index)
    return {"model_name": model_name, "model": lm, "dataset_name": dataset_name, "dataset": ds,
            "index": int(index), "image": ds.image("test", index),
            "true": ds.class_names[ds.split("test").labels[index]]}


def domain_warning(model_name: str, image) -> bool:
    """Warn in plain words when ``image`` lies outside the model's training domain; True if it does."""
    from pages._ui import cached
    from xai_core.domain import check_images

    lm = cached.model(model_name)
    det = cached.detector(model_name, lm.file_hash)
    if isinstance(det, str):
        st.caption(f"Out-of-domain check unavailable: {det}")
        return False
    check = check_images(det, lm, [image])
    if check.flags[0]:
        st.warning(check.message(0), icon=":material/warning:")
        return True
    return False
