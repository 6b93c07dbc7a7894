"""Train a registered architecture on a registered dataset, with live curves (the paper's recipe)."""

import re

import streamlit as st

import xai_core as xc
from pages._ui import cached, widgets
from pages._ui.render import user_errors
from pages._ui.session import owner
from pages._ui.literal import lits
from xai_core import config, plots
from xai_core.models.architectures import learning_rate

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

st.title("Train a model")
st.markdown(
    "Pick a dataset and an architecture, and train it here with the source paper's recipe: Adam, early "
    "stopping on the validation loss with the best weights kept, and the learning rate halved when the "
    "validation loss stalls. Loss and accuracy curves update after every epoch. The finished model joins the "
    "model picker on every page, **private to this browser session** until you choose *Add to the shared "
    "library* on *Your models and data*. Stay on this page while it trains."
)

go, problem = False, "The training settings could not be read."
with user_errors("Setting up training"):
    c1, c2 = st.columns(2)
    dataset_name = widgets.dataset_picker(c1)
    arch = c2.selectbox("Architecture", xc.ARCHITECTURES.names(), key="tr_arch",
                        index=xc.ARCHITECTURES.names().index("basic-cnn"))
    spec = xc.ARCHITECTURES.get(arch)
    st.caption(spec.description)
    notice = spec.notice() if spec.notice else None
    if notice:
        st.warning(notice, icon=":material/info:")
    ds = cached.dataset(dataset_name)
    n1, n2, n3, n4, n5 = st.columns(5)
    epochs = n1.number_input("Epochs (at most)", 1, 200, 30, key="tr_epochs",
                             help="Early stopping usually ends sooner.")
    seed = n2.number_input("Seed", 0, 2**31 - 1, 0, key="tr_seed", help="The same seed trains the same model.")
    batch = n3.select_slider("Batch size", [8, 16, 32, 64, 128], 32, key="tr_batch")
    limit = n4.number_input("Images per split (0 = all)", 0, 100_000, 0, key="tr_limit",
                            help="A quick run on a subset, e.g. 64, to try a setting.")
    lr = n5.number_input("Learning rate", 1e-6, 1.0, learning_rate(spec), format="%.0e", key=f"tr_lr_{arch}")
    name = st.text_input("Save as", f"{dataset_name}-{arch}", key=f"tr_name_{dataset_name}_{arch}",
                         help="Letters, digits, '-', '_' and '.'; up to 64 characters.")
    sizes = {s: len(ds.split(s)) for s in ("train", "val", "test")}
    st.caption(f"{dataset_name}: {sizes['train']:,} training, {sizes['val']:,} validation and {sizes['test']:,} "
               f"test images of {ds.image_shape[0]}×{ds.image_shape[1]} pixels, classes "
               f"{lits(ds.class_names)}.")
    shipped = {r["name"] for r in widgets.models() if r["source"] == "shipped"}
    problem = None
    if not NAME.match(name):
        problem = "The name may hold letters, digits, '-', '_' and '.', and must start with a letter or digit."
    elif name in shipped:
        problem = f"{name!r} is a shipped model; choose another name."
    elif (config.user_models_dir() / name / "model.keras").exists():
        problem = f"{name!r} is in the shared library; choose another name."
    target = config.user_models_dir(owner()) / name  # private to this session until shared (Your models and data)
    overwrite = False
    if problem is None and (target / "model.keras").exists():
        overwrite = st.checkbox(f"Replace my existing model {name!r}", key="tr_overwrite")
        if not overwrite:
            problem = f"You already have a model called {name!r}; tick the box to replace it, or rename."
    if problem:
        st.info(problem)
    go = st.button("Train", type="primary", disabled=problem is not None, key="tr_go")

if go and problem is None:
    history: dict[str, list[float]] = {}
    status = st.empty()
    bar = st.progress(0.0, text="Starting…")
    chart = st.empty()

    def on_batch(epoch, batch_i, batches):
        bar.progress(min(1.0, ((epoch - 1) + batch_i / batches) / epochs),
                     text=f"Epoch {epoch} of at most {epochs}: batch {batch_i}/{batches}")

    def on_epoch(epoch, total, logs):
        for k, v in logs.items():
            history.setdefault(k, []).append(v)
        status.markdown(f"**Epoch {epoch}**: loss {logs.get('loss', float('nan')):.4f}, accuracy "
                        f"{logs.get('accuracy', float('nan')):.1%}; validation loss "
                        f"{logs.get('val_loss', float('nan')):.4f}, accuracy {logs.get('val_accuracy', float('nan')):.1%}")
        chart.plotly_chart(plots.curves_figure(history), width="stretch", key=f"tr_live_{epoch}")

    with user_errors("Training"):
        from xai_core.training import train

        meta = train(dataset_name, arch, target, epochs=int(epochs), seed=int(seed), batch_size=int(batch),
                     learning_rate=float(lr), limit=int(limit) or None, on_epoch=on_epoch, on_batch=on_batch)
        bar.empty()
        cached.model.clear()  # a replaced model must not be served from the old cache entry
        st.session_state[widgets.MODEL] = name
        st.success(f"Saved **{name}**: test accuracy {meta.test_accuracy:.1%} after "
                   f"{meta.trained_with['epochs_run']} epochs ({meta.trained_with['seconds']:.0f} s). It is now "
                   f"the selected model on every page, private to this session (share it from *Your models and "
                   f"data*); see its full report under *Model report*.")
        st.code(meta.trained_with["command"], language="bash")
