"""Your models and data: add a Keras model safely, adjust how it reads images, add dataset folders or zips."""

import pandas as pd
import streamlit as st

import xai_core as xc
from pages._ui import cached
from pages._ui.session import owner
from pages._ui.literal import lit, lits
from pages._ui.render import progress_bar, user_errors
from xai_core import config, estimate
from xai_core.data.archive import extract_zip, share_dataset, upload_dir
from xai_core.data.folder import load_folder, scan_folder
from xai_core.models.importing import import_model, parse_labels, share_model, update_adaptation
from xai_core.models.metadata import SCALE_HELP, SCALES

st.title("Your models and data")
st.markdown(
    "Bring your own trained Keras classifier and your own scans. Models are always opened in Keras **safe "
    "mode**: a file that holds Python code (a Lambda layer) or unknown custom layers is refused without running "
    "anything. Datasets are folders with one subfolder per class, like the public Brain Tumor MRI "
    "(`Training/` and `Testing/`) or IQ-OTH/NCCD (`Bengin cases`, …) datasets, read only from the configured "
    f"data folders: {', '.join(f'`{r}`' for r in config.data_roots())}. **What you add here is private to this "
    "browser session**: nobody else on this server sees it unless you choose *Add to the shared library*."
)

def reference_form(pick: str, lm) -> None:
    """Adjust → the model's out-of-domain reference: a registered dataset, a folder or a zip of typical scans,
    fitted once and stored with the model (``xai_core.domain_reference``)."""
    from xai_core.data import DATASETS
    from xai_core.domain_reference import MIN_SCANS, describe, fit_reference

    st.markdown("**Out-of-domain reference**: what scans like its training scans look like, so that every page "
                "can flag a scan the model should not judge.")
    st.caption(describe(lm))
    r1, r2 = st.columns([1, 2])
    kind = r1.radio("Reference from", ["a registered dataset", "a folder under the data folders", "a zip of scans"],
                    key=f"ref_kind_{pick}")
    source = None
    if kind == "a registered dataset":
        source = r2.selectbox("Dataset it was trained on (or one like it)", DATASETS.names(), key=f"ref_ds_{pick}")
    elif kind == "a folder under the data folders":
        source = r2.text_input(f"Folder of at least {MIN_SCANS} typical training scans", key=f"ref_folder_{pick}",
                               placeholder="e.g. my-training-scans") or None
    else:
        up = r2.file_uploader(f"Zip of at least {MIN_SCANS} typical training scans", type=["zip"],
                              key=f"ref_zip_{pick}")
        if up is not None:
            source = ("zip", up)
    if st.button("Fit the reference", key=f"ref_fit_{pick}", disabled=source is None,
                 help="Runs the model once over the reference scans "
                      f"({estimate.basis(cached.forward_seconds(lm.name, lm.file_hash))}) and stores the result "
                      "with the model."):
        with user_errors("Fitting the out-of-domain reference"):
            with progress_bar("Fitting the out-of-domain reference…") as progress:
                if isinstance(source, tuple):
                    source = str(extract_zip(source[1].getvalue(), source[1].name, owner=owner()))
                fit_reference(lm, source, progress=progress)
            cached.detector.clear()
            st.success(describe(lm))


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
        st.success(f"**{lit(model_file.name)}** loaded in safe mode: input {h or 'any'}×{w or 'any'}×{c}, "
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
            import_model(data, model_file.name, name, parse_labels(class_text, k), scale, size, replace,
                         owner=owner())
            cached.model.clear()
            st.session_state["model"] = name
            st.success(f"Added **{name}**, private to this session. It is now the selected model on every page. "
                       "Give it an out-of-domain reference under *Adjust* below, so scans unlike its training "
                       "scans are flagged.")

st.header("2. Your models")
with user_errors("Listing your models"):
    rows = xc.list_models(owner=owner())
    mine = [r for r in rows if r["source"] == "mine"]
    shared = [r for r in rows if r["source"] == "user"]
    if shared:
        st.markdown("**Shared library** (added by users of this server; read-only here):")
        st.dataframe(pd.DataFrame(shared).reindex(columns=["name", "dataset", "arch", "classes", "test_accuracy"]),
                     hide_index=True, width="stretch", key="shared_models")
    if not mine:
        st.caption("None of your own yet. Models you add above stay private to this browser session.")
    else:
        st.markdown("**Yours** (private to this session):")
        st.dataframe(pd.DataFrame(mine).reindex(columns=["name", "dataset", "arch", "classes", "test_accuracy"]),
                     hide_index=True, width="stretch", key="my_models")
        e1, e2 = st.columns([1, 2])
        pick = e1.selectbox("Adjust", [r["name"] for r in mine], key="edit_pick")
        lm = cached.model(pick)
        scales = list(SCALES) if lm.input_shape[2] == 3 else ["0-1", "0-255", "-1-1"]
        new_scale = e1.selectbox("Pixel scaling", scales, index=scales.index(lm.metadata.input_scale),
                                 format_func=lambda s: f"{s}: {SCALE_HELP[s]}", key=f"edit_scale_{pick}")
        new_names = e2.text_area("Class names, one per line", "\n".join(lm.class_names), key=f"edit_names_{pick}")
        if e1.button("Save changes", key="edit_save"):
            update_adaptation(pick, new_scale, parse_labels(new_names, lm.num_classes), owner=owner())
            cached.model.clear()
            st.success(f"Saved. {pick} now reads images with '{new_scale}' scaling.")
        if e1.button("Add to the shared library", key="share_model",
                     help="Every user of this server (and the command line) will see and use it; nobody, you "
                          "included, can edit it from the dashboard afterwards."):
            share_model(pick, owner())
            cached.model.clear()
            st.success(f"**{pick}** is now in the shared library.")
        reference_form(pick, lm)

st.header("3. Add a dataset")
d1, d2 = st.columns(2)
with d1:
    st.markdown("**A folder under the data folders**")
    folder = st.text_input("Folder (absolute, or relative to a data folder)", key="ds_folder",
                           placeholder="e.g. brain-tumor-mri")
    if folder and st.button("Read the folder", key="ds_read"):
        with user_errors(f"Reading {folder}"):
            index = scan_folder(folder, own=upload_dir(owner()))  # another session's uploads are refused
            with progress_bar("Reading images…") as progress:
                ds = load_folder(index.root, progress=progress, own=upload_dir(owner()))
            cached.dataset_names.clear()
            st.session_state["dataset"] = ds.name
            st.success(f"**{lit(ds.name)}**: {index.count():,} images, classes {lits(ds.class_names)} "
                       f"({index.layout} layout); {ds.meta['skipped']} unreadable file(s) skipped. "
                       "It is now the selected dataset.")
            for p in ds.meta["problems"][:5]:
                st.caption(p)
with d2:
    st.markdown("**A zip of such a folder**")
    zfile = st.file_uploader("Zip archive", type=["zip"], key="ds_zip")
    if zfile is not None and st.button("Unpack and read", key="ds_unzip"):
        with user_errors(f"Unpacking {zfile.name}"):
            with progress_bar("Unpacking…") as progress:
                dest = extract_zip(zfile.getvalue(), zfile.name, progress=progress, owner=owner())
                ds = load_folder(dest, progress=progress, own=upload_dir(owner()))
            cached.dataset_names.clear()
            st.session_state["dataset"] = ds.name
            st.success(f"**{lit(ds.name)}**: {sum(len(s) for s in ds.splits.values()):,} images, classes "
                       f"{lits(ds.class_names)}, private to this session. It is now the selected dataset.")

with user_errors("Listing the dataset folders"):
    found = [n for n in cached.dataset_names() if n.startswith("folder:")]
    st.caption("Dataset folders found: " + (lits(found) if found else "none yet."))

with user_errors("Sharing a dataset"):
    mine_dirs = [d for d in sorted(upload_dir(owner()).iterdir()) if d.is_dir() and not d.name.startswith(".")] \
        if upload_dir(owner()).is_dir() else []
    if mine_dirs:
        s1, s2 = st.columns([2, 1])
        pick_ds = s1.selectbox("Your uploaded datasets (private to this session)", [d.name for d in mine_dirs],
                               key="share_ds_pick")
        if s2.button("Add to the shared library", key="share_ds"):
            share_dataset(upload_dir(owner()) / pick_ds, owner())
            cached.dataset_names.clear()
            st.success(f"**{pick_ds}** is now in the shared library.")
