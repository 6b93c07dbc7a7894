"""The model page's section for explainers trained once per model (``Explainer.trained_per_model``): what is
trained for this model, and a button that trains one with live curves (the Train page's pattern). Read from
the registry, so no page names a method."""

from __future__ import annotations

import streamlit as st

from pages._ui.render import user_errors
from xai_core import plots
from xai_core.explainers import EXPLAINERS


def trained_methods() -> list:
    return [cls for _, cls in EXPLAINERS.items() if cls.trained_per_model]


def section(model_name: str, lm, dataset_name: str, number: int) -> None:
    """Heading ``number``, then per such method: its state for each setting, and its training button."""
    methods = trained_methods()
    if not methods:
        return
    st.subheader(f"{number}. Explainers trained for this model")
    for cls in methods:
        _one(cls, model_name, lm, dataset_name)


def _one(cls, model_name: str, lm, dataset_name: str) -> None:
    from xai_core.training.amortise import estimate_seconds, train_for

    st.markdown(f"**{cls.display_name}**: {cls.description}")
    choice = next((p for p in cls.params if p.choices), None)  # the setting each trained network is for
    options = list(choice.options) if choice is not None else [None]

    def states():
        rows = []
        for opt in options:
            for output in ("margin", "probability"):
                params = cls.validate({choice.name: opt} if choice is not None else {})
                rows.append({"setting": opt or "", "output": output,
                             "state": "not trained" if cls.state(lm, params, output) == "missing" else "ready"})
        return rows

    table = st.empty()
    table.dataframe(states(), hide_index=True, width="content")
    key = f"amort_{cls.name}_{model_name}"
    c1, c2, c3, c4 = st.columns(4)
    opt = c1.selectbox(choice.name.capitalize() if choice else "Setting", options,
                       index=options.index(choice.default) if choice else 0, key=f"{key}_opt")
    output = c2.selectbox("Output", ["margin", "probability"], key=f"{key}_out")
    epochs = c3.number_input("Epochs", 1, 100, 8, key=f"{key}_epochs")
    minutes = c4.number_input("Time limit (minutes)", 1, 120, 10, key=f"{key}_limit",
                              help="Training ends after the last epoch that fits; rerun to continue it.")
    limit = st.number_input("Training scans (0 = all)", 0, 100_000, 0, key=f"{key}_n",
                            help="Fewer scans train faster; every epoch scores each one on 16 masked versions.")
    with user_errors("Estimating the training time"):
        from xai_core.data import load_dataset

        n = len(load_dataset(dataset_name).split("train"))
        n = min(n, int(limit)) if limit else n
        st.caption(f"The model scores about {n * (16 * int(epochs) + 2):,} masked scans of {dataset_name}: "
                   f"about {estimate_seconds(lm, n, 16, int(epochs)) / 60:.0f} minutes here, at most "
                   f"{int(minutes)}.")
    if not st.button(cls.trained_per_model, type="primary", key=f"{key}_go"):
        return
    bar = st.progress(0.0, text="Starting…")
    status, chart = st.empty(), st.empty()
    history: dict[str, list[float]] = {"loss": [], "val_loss": []}

    def progress(fraction, message):
        bar.progress(min(1.0, max(0.0, fraction)), text=message)

    def on_epoch(epoch, total, row):
        history["loss"].append(row["train_loss"])
        history["val_loss"].append(row.get("val_loss", float("nan")))
        status.markdown(f"**Epoch {epoch} of {total}**: training loss {row['train_loss']:.4g}, validation loss "
                        f"{row.get('val_loss', float('nan')):.4g} (squared error of the values on held-out scans)")
        chart.plotly_chart(plots.curves_figure(history), width="stretch", key=f"{key}_live_{epoch}")

    with user_errors("Training"):
        kwargs = {choice.name: opt} if choice is not None else {}
        info = train_for(cls.name, lm, dataset_name, output=output, epochs=int(epochs), limit=int(limit) or None,
                         time_limit=60.0 * int(minutes), progress=progress, on_epoch=on_epoch, **kwargs)
        bar.empty()
        table.dataframe(states(), hide_index=True, width="content")
        st.success(f"Trained in {info['train_seconds']:.0f} s ({info['epochs']} epochs, {info['stopped']}). "
                   f"{cls.display_name} now explains this model on every page.")
