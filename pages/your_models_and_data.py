"""Your models and data: add a Keras model safely, adjust how it reads images, add dataset folders or zips."""

import pandas as pd
import streamlit as st

import xai_core as xc
from pages._ui import cached
from pages._ui.render import user_errors
from xai_core import config
from xai_core.data.archive import extract_zip
from xai_core.data.folder import load_folder, scan_folder
from xai_core.models.importing import import_model, parse_labels, update_adaptation
from xai_core.models.metadata import SCALE_HELP, SCALES

st.title("Your models and data")
st.markdown(
    "Bring your own trained Keras classifier and your own scans. Models are always opened in Keras **safe "
    "mode**: a file that holds Python code (a Lambda layer) or unknown custom layers is refused without running "
    "anything. Datasets are folders with one subfolder per class, like the public Brain Tumor MRI "
    "(`Training/` and `Testing/`) or IQ-OTH/NCCD (`Bengin cases`, …) datasets, read only from the configured "
    f"data folders: {', '.join(f'`{r}`' for r in config.data_roots())}."
)

st.header("1. Add a model")
m1, m2 = st.columns(2)
model_file = m1.file_uploader("Keras model (.keras, or legacy .h5)", type=["keras", "h5", "hdf5"], key="up_model")
labels_file = m2.file_uploader("Class names (optional): .txt, one per line, or .json", type=["txt", "json"],
                               key="up_labels")
if model_file is not None:
    with user_errors(f"Checking {model_file.name}"):
        from pathlib import Path

        data = model_file.getvalue()
        check = cached.inspect_upload(data, model_file.name)  # once per file, not on every rerun
        h, w, c = check.input_shape
        k = 2 if check.num_outputs == 1 else check.num_outputs
        st.success(f"**{model_file.name}** loaded in safe mode: input {h or 'any'}×{w or 'any'}×{c}, "
                   f"{check.num_outputs} output(s) ({check.output_activation}), so {k} classes.")
        names = [f"class {i}" for i in range(k)]
        if labels_file is not None:
            names = parse_labels(labels_file.getvalue().decode("utf-8", errors="replace"), k)
        st.markdown("**How the model reads an image** (stored with the model; every page and the CLI use it):")
        a1, a2, a3 = st.columns(3)
        scales = list(SCALES) if c == 3 else [s for s in SCALES if s in ("0-1", "0-255", "-1-1")]
        scale = a1.selectbox("Pixel scaling", scales, index=scales.index(check.suggested_scale),
                             format_func=lambda s: f"{s}: {SCALE_HELP[s]}", key="up_scale")
        size = None
        if check.needs_size:
            size = (a2.number_input("Height fed to the model", 8, 2048, 224, key="up_h"),
                    a3.number_input("Width fed to the model", 8, 2048, 224, key="up_w"))
        else:
            a2.markdown(f"Every scan is **resized** to {h}×{w} and converted to "
                        f"{'grey' if c == 1 else 'RGB'}.")
        class_text = st.text_area("Class names, one per line", "\n".join(names), key=f"up_names_{model_file.name}_{labels_file.name if labels_file else ''}")
        default_name = Path(model_file.name).stem.replace(" ", "-")[:64] or "my-model"
        name = st.text_input("Save as", default_name, key=f"up_name_{model_file.name}")
        replace = st.checkbox("Replace a model of mine with the same name", key="up_replace")
        if st.button("Add the model", type="primary", key="up_add"):
            dest = import_model(data, model_file.name, name, parse_labels(class_text, k), scale, size, replace)
            cached.model.clear()
            st.session_state["model"] = name
            st.success(f"Added **{name}** ({dest}). It is now the selected model on every page.")

st.header("2. Your models")
with user_errors("Listing your models"):
    mine = [r for r in xc.list_models() if r["source"] == "user"]
    if not mine:
        st.caption(f"None yet. Models you add or train are kept in `{config.user_models_dir()}`.")
    else:
        st.dataframe(pd.DataFrame(mine)[["name", "dataset", "arch", "classes", "test_accuracy", "path"]],
                     hide_index=True, width="stretch")
        e1, e2 = st.columns([1, 2])
        pick = e1.selectbox("Adjust", [r["name"] for r in mine], key="edit_pick")
        lm = cached.model(pick)
        scales = list(SCALES) if lm.input_shape[2] == 3 else ["0-1", "0-255", "-1-1"]
        new_scale = e1.selectbox("Pixel scaling", scales, index=scales.index(lm.metadata.input_scale),
                                 format_func=lambda s: f"{s}: {SCALE_HELP[s]}", key=f"edit_scale_{pick}")
        new_names = e2.text_area("Class names, one per line", "\n".join(lm.class_names), key=f"edit_names_{pick}")
        if e1.button("Save changes", key="edit_save"):
            update_adaptation(pick, new_scale, parse_labels(new_names, lm.num_classes))
            cached.model.clear()
            st.success(f"Saved. {pick} now reads images with '{new_scale}' scaling.")

st.header("3. Add a dataset")
d1, d2 = st.columns(2)
with d1:
    st.markdown("**A folder under the data folders**")
    folder = st.text_input("Folder (absolute, or relative to a data folder)", key="ds_folder",
                           placeholder="e.g. brain-tumor-mri")
    if folder and st.button("Read the folder", key="ds_read"):
        with user_errors(f"Reading {folder}"):
            index = scan_folder(folder)
            bar = st.progress(0.0, text="Reading images…")
            ds = load_folder(index.root, progress=lambda f, msg: bar.progress(min(1.0, f), text=msg))
            bar.empty()
            cached.dataset_names.clear()
            st.session_state["dataset"] = ds.name
            st.success(f"**{ds.name}**: {index.count():,} images, classes {', '.join(ds.class_names)} "
                       f"({index.layout} layout); {ds.meta['skipped']} unreadable file(s) skipped. "
                       "It is now the selected dataset.")
            for p in ds.meta["problems"][:5]:
                st.caption(p)
with d2:
    st.markdown("**A zip of such a folder**")
    zfile = st.file_uploader("Zip archive", type=["zip"], key="ds_zip")
    if zfile is not None and st.button("Unpack and read", key="ds_unzip"):
        with user_errors(f"Unpacking {zfile.name}"):
            bar = st.progress(0.0, text="Unpacking…")
            dest = extract_zip(zfile.getvalue(), zfile.name, progress=lambda f, msg: bar.progress(min(1.0, f), msg))
            ds = load_folder(dest, progress=lambda f, msg: bar.progress(min(1.0, f), text=msg))
            bar.empty()
            cached.dataset_names.clear()
            st.session_state["dataset"] = ds.name
            st.success(f"**{ds.name}**: {sum(len(s) for s in ds.splits.values()):,} images, classes "
                       f"{', '.join(ds.class_names)}. It is now the selected dataset.")

with user_errors("Listing the dataset folders"):
    found = [n for n in cached.dataset_names() if n.startswith("folder:")]
    st.caption("Dataset folders found: " + (", ".join(f"`{n}`" for n in found) if found else "none yet."))
