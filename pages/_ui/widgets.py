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
    names = xc.DATASETS.names()
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
