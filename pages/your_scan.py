"""Your scan: upload one image or DICOM slice, see the prediction, the domain check and any explanation method."""

import hashlib

import numpy as np
import streamlit as st

import xai_core as xc

from pages._ui import cached, volume, widgets
from pages._ui.forms import method_picker, param_form
from pages._ui.render import absolute_scale_toggle, additivity_frame, explanation_row, npz_bytes, user_errors
from pages._ui.report import report_download, scan_case
from pages._ui.trust import trust_card
from pages._ui.literal import lit
from xai_core import plots
from xai_core.prediction import prediction_words
from xai_core.data.dicom import WINDOW_PRESETS
from xai_core.explainers import featured

TYPES = ["png", "jpg", "jpeg", "tif", "tiff", "bmp", "gif", "dcm", "dicom"] + volume.TYPES

st.title("Your scan")
st.markdown(
    "Upload a scan (PNG, JPEG, TIFF, BMP or a DICOM slice) or a whole study (a zip of a DICOM series, a "
    "multi-frame DICOM file, a NIfTI `.nii`/`.nii.gz` volume) and see what the model predicts and where it looks. "
    "The file stays on this computer. The scan is resized and converted to what the model expects; a warning "
    "appears when it looks unlike the scans the model was trained on, because then the prediction cannot be "
    "trusted. For DICOM, the **window** sets which range of values (e.g. Hounsfield units in CT) spans black "
    "to white."
)

c1, c2 = st.columns([3, 2])
upload = c1.file_uploader("Scan", type=TYPES, key="scan_upload",
                          help="One still image or DICOM slice, or a study: a zip of a DICOM series, a "
                               "multi-frame DICOM file or a NIfTI volume, up to the upload size limit.")
with c1.expander("Several DICOM files of one series"):
    many = st.file_uploader("Series files", type=["dcm", "dicom"], accept_multiple_files=True, key="scan_series",
                            help="All the files of one series at once; they are ordered by their positions.")
    if many and len(many) > 1:
        upload = volume.Upload(*volume.series_zip(many))
with c2:
    model_name = widgets.model_picker()

stored = widgets.uploaded_scan()
if upload is not None:
    data = upload.getvalue()
    sha = hashlib.sha256(data).hexdigest()
    if stored is None or stored["sha"] != sha or stored["name"] != upload.name:
        ok = False
        with user_errors(f"Reading {upload.name}"):
            if volume.is_study(upload.name, data):
                volume.read(data, upload.name)
            else:
                cached.read_scan(data, upload.name)  # one sentence for a bad file, before anything is replaced
            ok = True
        if not ok:
            st.stop()
        # A new file starts from ITS OWN window: a preset left over from the previous file must never
        # be applied silently to this one (issue 11: the MR was shown in the CT's bone window).
        for k in ("scan_window", "scan_wc", "scan_ww"):
            st.session_state.pop(k, None)
        widgets.store_upload(upload.name, data, sha, np.zeros((1, 1, 1), np.uint8))
        stored = widgets.uploaded_scan()
elif stored is not None:
    r1, r2 = c1.columns([3, 1])
    r1.caption(f"Showing **{lit(stored['name'])}**, uploaded earlier in this session (only you can see it).")
    if r2.button("Remove", key="scan_forget", help="Forget this scan; upload another one above."):
        widgets.forget_upload()
        st.rerun()

if stored is None:
    st.info("Upload a scan to begin, or browse the demo scans on the Home page.")
    st.stop()

name, data = stored["name"], stored["data"]
image = None
study = None
with user_errors(f"Reading {name}"):
    if volume.is_study(name, data):  # a series, multi-frame file or NIfTI: browse it slice by slice
        study = volume.read(data, name)
        dicom, plane, slice_index = volume.pick_slice(study, stored["sha"])
        img = dicom.render()
    else:
        img, dicom = cached.read_scan(data, name)
    window, window_label, preset = None, "", None
    if dicom is not None and not dicom.is_colour:
        file_w = dicom.file_window()
        choices = (["from the file"] if file_w else []) + ["full range"] + list(WINDOW_PRESETS) + ["custom"]
        if st.session_state.get("scan_window") not in choices:  # new file, or back from another page
            kept = stored.get("preset")
            st.session_state["scan_window"] = kept if kept in choices else choices[0]  # else the file's own
            if kept == "custom" and stored.get("window"):
                st.session_state["scan_wc"], st.session_state["scan_ww"] = stored["window"]
        w1, w2, w3 = st.columns(3)
        preset = w1.selectbox("Window", choices, key="scan_window",
                              help="Presets are in Hounsfield units, for CT; MR values have no fixed unit.")
        if preset == "from the file":
            window = file_w
        elif preset == "full range":
            window = dicom.full_window()
        elif preset == "custom":
            base = file_w or dicom.full_window()
            window = (w2.number_input("Centre", value=float(base[0]), key="scan_wc"),
                      w3.number_input("Width", min_value=1.0, value=float(max(base[1], 1.0)), key="scan_ww"))
        else:
            window = WINDOW_PRESETS[preset]
        window_label = f"{preset}: centre {window[0]:g}, width {window[1]:g}"
        img = dicom.render(window)  # the one window: label, caption, pixels and model input all use it
    if dicom is not None:
        info = dicom.info
        st.caption(f"DICOM {lit(info.get('modality') or '', 40)} · {info['size'][1]}×{info['size'][0]} · "
                   f"{lit(info.get('photometric'), 40)}{' (inverted so bright = dense)' if info.get('inverted') else ''}"
                   f" · rescale ×{info['rescale'][0]:g} {info['rescale'][1]:+g}"
                   + (f" · window {window_label}" if window else "")
                   + (f" · frame {info['frame_shown']} of {info['frames']}" if 'frame_shown' in info else "")
                   + (f" · {info['slice_label']}" if 'slice_label' in info else ""))
    image = img
    widgets.store_upload(name, data, stored["sha"], image, window, window_label, preset)
    if study is not None:  # which slice other pages and the report are shown
        widgets.uploaded_scan()["slice"] = (plane, slice_index)

if image is None:
    st.stop()

o1, o2, _ = st.columns([1, 1, 2])
for col, label, target in ((o1, "Open in SHAP", "pages/shap_margin_vs_probability.py"),
                           (o2, "Open in LIME", "pages/lime_segmenters.py")):
    if col.button(label, key=f"scan_open_{label}", help="Explain this scan on that page, like a gallery scan."):
        st.session_state[widgets.SOURCE] = widgets.UPLOAD_CHOICE
        st.switch_page(target)

left, right = st.columns([1, 2])
left.image(image, caption=f"{name}: {image.shape[1]}×{image.shape[0]}, "
                          f"{'grey' if image.shape[-1] == 1 else 'colour'}", width="stretch")  # always: the scan itself
shown = True  # False: this scan (or this slice of a study) failed the out-of-domain check
with right, user_errors("Running the model"):
    lm = cached.model(model_name)
    x = lm.prepare(image)
    probs = lm.forward_image(x)[1]
    top = int(np.argmax(probs))
    if not widgets.domain_gate(model_name, x, key="scan_show_anyway"):  # first, before the answer it qualifies
        st.caption("The prediction and the maps are hidden for this scan." if study is None else
                   "The prediction and the map are hidden for this slice. Every slice of the study, each with "
                   "its own out-of-domain check, is below.")
        shown = False
    else:
        st.markdown(f"**{lit(model_name)}** says **{lit(prediction_words(lm.class_names, probs), 400)}**.")
        st.plotly_chart(plots.probability_figure(probs, lm.class_names, highlight=top), width="stretch",
                        key="scan_probs")
        st.caption(f"The model sees a {lm.input_shape[0]}×{lm.input_shape[1]} "
                   f"{'grey' if lm.input_shape[2] == 1 else 'RGB'} version of the scan.")
if not shown and study is None:
    st.stop()

_shown = xc.EXPLAINERS.get(st.session_state.get("scan_method") or featured(1)[0])
st.subheader(f"Where the model looks ({_shown.short_label()})")
with user_errors("Explaining the scan"):
    s0, s1, s2, s3 = st.columns(4)
    method = method_picker(s0, key="scan_method")
    ecls = xc.EXPLAINERS.get(method)
    output = s1.radio("Output space", ["margin", "probability"], key="scan_output", horizontal=True,
                      help="Margin: the model's raw score (logit), additive and unsquashed. Probability: the "
                           "softmax output, bounded 0 to 1.")
    top_k = s2.slider("Classes", 1, min(4, lm.num_classes), min(2, lm.num_classes), key="scan_topk")
    with s3.expander(f"{ecls.display_name} settings"):
        params = param_form(ecls.params, f"scan_{method}", columns=1)
    if not shown:  # a flagged slice of a study: its map stays hidden, the settings serve every slice below
        st.caption("This slice is not explained: it looks outside the model's training domain. These settings "
                   "apply to \"Explain every slice\" below.")
        volume.every_slice(model_name, study, stored["sha"], plane, window, slice_index, method, output, params)
        st.stop()
    expl = cached.explain(model_name, x, method, output, top_k=top_k, label="Explaining your scan", **params)
    explanation_row(expl, probabilities=probs, key="scan_shap", absolute=absolute_scale_toggle("scan_absolute"),
                    title=f"{ecls.display_name} ({output}); red raises the class score, blue lowers it")
    trust_card(model_name, x, expl, key="trust_scan")
    if ecls.additive:
        worst = additivity_frame(expl)["residual"].max()
        st.caption("Additivity: base value + sum of the map = model output"
                   + (" to within rounding." if worst < 1e-4 else f", except for a gap of {worst:.2g}."),
                   help=f"Largest residual: {worst:.1e}. {ecls.completeness.capitalize()}.")
    else:
        st.caption(f"{ecls.description} Values: {ecls.unit_label(output)}; {ecls.completeness}.")
    budget = params.get(ecls.budget_param) if ecls.budget_param else None
    stem = (f"{method}_{model_name}_{widgets.upload_as_scan(widgets.uploaded_scan()).slug}_{output}"
            + (f"_{ecls.budget_param}-{budget}" if budget else ""))
    st.download_button("Maps (.npz)", npz_bytes(expl), f"{stem}.npz", key="scan_dl")
    report_download("scan_report", [scan_case(model_name, [expl],
                                              widgets.upload_as_scan(widgets.uploaded_scan()).key,
                                              slice_maps=volume.report_maps(stored["sha"], plane, window)
                                              if study is not None else None)])
    if study is not None:
        volume.every_slice(model_name, study, stored["sha"], plane, window, slice_index, method, output, params)
