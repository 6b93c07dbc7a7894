"""Your scan: upload one image or DICOM slice, see the prediction, the domain check and SHAP."""

import numpy as np
import streamlit as st

from pages._ui import cached, widgets
from pages._ui.render import additivity_frame, explanation_row, user_errors
from pages._ui.report import report_download
from xai_core import plots
from xai_core.data.dicom import WINDOW_PRESETS

TYPES = ["png", "jpg", "jpeg", "tif", "tiff", "bmp", "gif", "dcm", "dicom"]

st.title("Your scan")
st.markdown(
    "Upload a scan (PNG, JPEG, TIFF, BMP or a DICOM slice) and see what the model predicts and where it looks. "
    "The file stays on this computer. The scan is resized and converted to what the model expects; a warning "
    "appears when it looks unlike the scans the model was trained on, because then the prediction cannot be "
    "trusted. For DICOM, the **window** sets which range of values (e.g. Hounsfield units in CT) spans black "
    "to white."
)

c1, c2 = st.columns([3, 2])
upload = c1.file_uploader("Scan", type=TYPES, key="scan_upload",
                          help="One still image or one DICOM slice, up to the upload size limit.")
with c2:
    model_name = widgets.model_picker()

image = None
if upload is None:
    st.info("Upload a scan to begin, or browse the demo scans on the Home page.")
    st.stop()

with user_errors(f"Reading {upload.name}"):
    data = upload.getvalue()
    img, dicom = cached.read_scan(data, upload.name)
    if dicom is not None:
        file_w = dicom.file_window()
        choices = (["from the file"] if file_w else []) + ["full range"] + list(WINDOW_PRESETS) + ["custom"]
        w1, w2, w3 = st.columns(3)
        preset = w1.selectbox("Window", choices, key="scan_window",
                              help="Presets are in Hounsfield units, for CT; MR values have no fixed unit.")
        if dicom.is_colour:
            window = None
        elif preset == "from the file":
            window = file_w
        elif preset == "full range":
            window = dicom.full_window()
        elif preset == "custom":
            base = file_w or dicom.full_window()
            window = (w2.number_input("Centre", value=float(base[0]), key="scan_wc"),
                      w3.number_input("Width", min_value=1.0, value=float(max(base[1], 1.0)), key="scan_ww"))
        else:
            window = WINDOW_PRESETS[preset]
        img = dicom.render(window)
        info = dicom.info
        st.caption(f"DICOM {info.get('modality') or ''} · {info['size'][1]}×{info['size'][0]} · "
                   f"{info.get('photometric')}{' (inverted so bright = dense)' if info.get('inverted') else ''}"
                   f" · rescale ×{info['rescale'][0]:g} {info['rescale'][1]:+g}"
                   + (f" · window centre {window[0]:g}, width {window[1]:g}" if window else "")
                   + (f" · frame {info['frame_shown']} of {info['frames']}" if 'frame_shown' in info else ""))
    image = img

if image is None:
    st.stop()

with user_errors("Running the model"):
    lm = cached.model(model_name)
    x = lm.prepare(image)
    probs = lm.forward_image(x)[1]
    top = int(np.argmax(probs))
    widgets.domain_warning(model_name, x)  # first, before the answer it qualifies
    left, right = st.columns([1, 2])
    left.image(image, caption=f"{upload.name}: {image.shape[1]}×{image.shape[0]}, "
                              f"{'grey' if image.shape[-1] == 1 else 'colour'}", width="stretch")
    with right:
        st.markdown(f"**{model_name}** says **{lm.class_names[top]}** ({probs[top]:.1%}).")
        st.plotly_chart(plots.probability_figure(probs, lm.class_names, highlight=top), width="stretch",
                        key="scan_probs")
        st.caption(f"The model sees a {lm.input_shape[0]}×{lm.input_shape[1]} "
                   f"{'grey' if lm.input_shape[2] == 1 else 'RGB'} version of the scan.")

st.subheader("Where the model looks (SHAP)")
with user_errors("Explaining the scan"):
    s1, s2, s3 = st.columns(3)
    output = s1.radio("Output space", ["margin", "probability"], key="scan_output", horizontal=True,
                      help="Margin: the model's raw score (logit), additive and unsquashed. Probability: the "
                           "softmax output, bounded 0 to 1.")
    top_k = s2.slider("Classes", 1, min(4, lm.num_classes), min(2, lm.num_classes), key="scan_topk")
    max_evals = s3.select_slider("SHAP evaluations", [300, 500, 1000, 2000, 4000], 1000, key="scan_evals")
    expl = cached.explain(model_name, x, "shap-partition", output, top_k=top_k, max_evals=max_evals,
                          label="Explaining your scan")
    explanation_row(expl, probabilities=probs, key="scan_shap",
                    title=f"SHAP ({output}); red raises the class score, blue lowers it")
    frame = additivity_frame(expl)
    st.caption(f"Additivity: base value + sum of the map = model output, largest residual "
               f"{frame['residual'].max():.1e}.")
    report_download("scan_report", [{"model": model_name, "explanations": [expl], "upload": (data, upload.name),
                                     "window": window if dicom is not None else None,
                                     "window_choice": preset if dicom is not None else None}])
