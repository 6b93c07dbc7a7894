"""Home: pick a model and a dataset, browse the test images and what the model predicts."""

import numpy as np
import streamlit as st

from pages._ui import cached, widgets
from pages._ui.render import user_errors
from pages._ui.literal import lit

PER_PAGE = 24
COLS = 6

st.title("Explain image classifiers")
st.markdown(
    "Pick a model and a dataset, browse the test scans, and open any of them in an explanation page. "
    "**SHAP** shows which pixels pushed the model towards (red) or away from (blue) a class. "
    "Everything runs on this computer; nothing is uploaded anywhere."
)

left, right = st.columns(2)
with left:
    model_name = widgets.model_picker()
with user_errors("Loading the model"):
    lm = cached.model(model_name)
    with right:
        dataset_name = widgets.dataset_picker(default=lm.metadata.dataset)
    ds = cached.dataset(dataset_name)
    test = ds.split("test")
    probs = cached.predictions(model_name, lm.file_hash, dataset_name, "test")
    pred = probs.argmax(1)
    true_names = np.array([ds.class_names[i] for i in test.labels])
    pred_names = np.array([lm.class_names[i] for i in pred])
    same_domain = set(ds.class_names) <= set(lm.class_names)
    correct = true_names == pred_names
    domain = cached.domain_scores(model_name, lm.file_hash, dataset_name, "test")
    outside = domain[1] if domain is not None else np.zeros(len(test), bool)

    m1, m2, m3 = st.columns(3)
    m1.metric("Test images", len(test))
    if same_domain:
        m2.metric("Test accuracy", f"{correct.mean():.1%}")
        m3.metric("Misclassified", int((~correct).sum()))
    else:
        m2.metric("Classes", f"{len(ds.class_names)} in data / {len(lm.class_names)} in model")
        st.info(f"**{dataset_name}** has different classes from what **{model_name}** was trained on, "
                "so 'correct' has no meaning here; the gallery shows what the model predicts.")

    if outside.mean() > 0.5:
        st.warning(f"{outside.mean():.0%} of these scans look outside **{model_name}**'s training domain "
                   f"({lm.metadata.dataset}): its predictions on them are not trustworthy, however confident. "
                   "The **Cross-domain** page shows this in detail.", icon=":material/warning:")
    elif outside.any():
        st.caption(f"{int(outside.sum())} scans ({outside.mean():.0%}) are marked *outside the training domain* "
                   "below: they look less like the training data than 95% of the model's own validation scans.")

    st.subheader("Gallery")
    f1, f2 = st.columns([2, 1])
    classes = f1.multiselect("True class", list(ds.class_names), default=list(ds.class_names))
    outcome = f2.radio("Show", ["all", "correct", "misclassified"], horizontal=True,
                       disabled=not same_domain)
    keep = np.isin(true_names, classes)
    if same_domain and outcome != "all":
        keep &= correct if outcome == "correct" else ~correct
    idx = np.flatnonzero(keep)
    if len(idx) == 0:
        st.info("No test image matches these filters.")
    else:
        pages_total = (len(idx) + PER_PAGE - 1) // PER_PAGE
        page = st.number_input(f"Page (of {pages_total})", 1, pages_total, 1) if pages_total > 1 else 1
        shown = idx[(page - 1) * PER_PAGE: page * PER_PAGE]
        st.caption(f"{len(idx)} images match; showing {len(shown)}. Top-2 predictions under each.")
        for row in range(0, len(shown), COLS):
            cols = st.columns(COLS)
            for col, i in zip(cols, shown[row:row + COLS]):
                top = np.argsort(-probs[i])[:2]
                mark = ("· correct" if correct[i] else "· **wrong**") if same_domain else ""
                if outside[i]:
                    mark += " · :orange[outside training domain]"
                col.image(test.images[i], width="stretch", clamp=True)
                col.caption(f"#{i} true **{lit(true_names[i], 60)}** {mark}  \n"
                            + " · ".join(f"{lit(lm.class_names[t], 60)} {probs[i, t]:.0%}" for t in top))
                if col.button("Explain", key=f"explain_{dataset_name}_{i}"):
                    widgets.select_image(dataset_name, "test", i)
                    st.switch_page("pages/shap_margin_vs_probability.py")
