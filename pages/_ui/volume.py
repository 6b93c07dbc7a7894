"""Your scan for studies: pick a slice like a viewer, then score and explain every slice.

``is_study`` says whether an upload is a volume (a zip of a DICOM series, a NIfTI file, a multi-frame
DICOM file); ``pick_slice`` draws the plane and slice controls and returns the slice as a
``DicomSlice``, so the rest of the page (window, prediction, out-of-domain check, explanation, trust
card, report) treats it as a single uploaded slice. ``every_slice`` adds the per-slice plot, the
ranked table (most suspicious first), "Explain every slice" with Stop, the map volume slice by slice
and its maximum-intensity projection.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np
import streamlit as st

from pages._ui import cached, jobs
from xai_core import precision, slices
from xai_core.data.volume import Volume, is_volume_name
from xai_core.exports import csv_text

TYPES = ["zip", "nii", "gz"]


def is_study(name: str, data: bytes) -> bool:
    """A volume upload: by name, or a DICOM file that declares more than one frame."""
    if is_volume_name(name):
        return True
    if data[128:132] != b"DICM" and not name.lower().endswith((".dcm", ".dicom")):
        return False
    import pydicom

    from xai_core.data.dicom import check_inflated_size

    try:
        check_inflated_size(data)  # a Deflated bomb is refused by the slice reader, never inflated here
        ds = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True, force=True,
                             specific_tags=["NumberOfFrames"])
        return int(ds.get("NumberOfFrames", 1) or 1) > 1
    except Exception:
        return False


class Upload:
    """An upload made on the page (several series files zipped together), read like Streamlit's own."""

    def __init__(self, name: str, data: bytes):
        self.name, self._data = name, data

    def getvalue(self) -> bytes:
        return self._data


def series_zip(files: list) -> tuple[str, bytes]:
    """Several uploaded DICOM files as one in-memory zip (stored, not compressed), named by their count."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for i, f in enumerate(files):
            zf.writestr(f"{i:05d}_{f.name[-80:]}", f.getvalue())
    return f"series of {len(files)} files.zip", buf.getvalue()


@st.cache_data(show_spinner="Reading the study…", max_entries=4)
def read(data: bytes, name: str, series_uid: str | None = None) -> Volume:
    from xai_core.data.study import read_volume

    return read_volume(data, name, series_uid)


def pick_slice(vol: Volume, sha: str):
    """Plane, slice slider and a one-line description; returns (DicomSlice, plane, 0-based index)."""
    planes = vol.planes()
    kind = {"dicom-series": "DICOM series", "dicom-multiframe": "multi-frame DICOM", "nifti": "NIfTI volume"}.get(
        vol.info.get("kind"), "study")
    sp = vol.spacing
    st.caption(f"{kind}: {len(vol)} {planes[0]} {'frames' if vol.info.get('kind') == 'dicom-multiframe' else 'slices'}"
               f" of {vol.values.shape[2]}×{vol.values.shape[1]}"
               + (f" · spacing {sp[0]:.3g} mm between slices, {sp[1]:.3g}×{sp[2]:.3g} mm pixels" if sp else
                  " · no spacing in the file (one plane only)")
               + (f" · {len(vol.info['series'])} series in the upload, showing the largest"
                  if len(vol.info.get("series", [])) > 1 else ""))
    c1, c2 = st.columns([1, 3])
    key = f"vol_{sha[:12]}"
    plane = c1.radio("Plane", planes, key=f"{key}_plane", horizontal=len(planes) > 1,
                     help="Coronal and sagittal are resliced across the stack, at the file's spacing.")
    n = vol.count(plane)
    if n > 1:
        index = c2.slider("Frame" if vol.info.get("kind") == "dicom-multiframe" else "Slice", 1, n,
                          value=min(st.session_state.get(f"{key}_{plane}", n // 2 + 1), n), key=f"{key}_{plane}",
                          help="Numbered from 1, as viewers number them.") - 1
    else:
        index = 0
    sl = vol.slice(index, plane)
    if vol.info.get("kind") == "dicom-multiframe" and plane == planes[0]:
        sl.info["frame_shown"] = index + 1  # 1-based, the frame under the slider
    else:
        sl.info["slice_label"] = f"{plane} slice {index + 1} of {n}"
    return sl, plane, index


@st.cache_data(show_spinner="Scoring every slice…", max_entries=8)
def _scores(model_name: str, model_hash: str, sha: str, plane: str, window, rank_class, _vol: Volume,
            backend: str = "tensorflow"):  # bf16 scores are approximate: kept apart from fp32 ones
    lm = cached.model(model_name)
    det = cached.detector(model_name, model_hash)
    idx = list(range(_vol.count(plane)))
    return slices.score_slices(lm, slices.slice_images(_vol, idx, plane, window), idx, rank_class, det)


def every_slice(model_name: str, vol: Volume, sha: str, plane: str, window, index: int, method: str,
                output: str, params: dict) -> None:
    """The whole study: per-slice plot and ranking, then "Explain every slice" with Stop, map volume and MIP."""
    lm = cached.model(model_name)
    st.subheader("Every slice")
    names = list(lm.class_names)
    normal = slices.normal_class(names)
    choices = ["(default)"] + names
    r1, r2 = st.columns([1, 2])
    pick = r1.selectbox("Rank slices by", choices, key="vol_rank",
                        format_func=lambda c: (f"any finding: 1 − p({names[normal]})" if normal is not None else
                                               "top probability") if c == "(default)" else f"p({c})")
    rank_class = None if pick == "(default)" else pick
    scores = _scores(model_name, lm.file_hash, sha, plane, window, rank_class, vol, lm.backend())
    from xai_core.plots.slices import slice_scores_figure

    st.plotly_chart(slice_scores_figure(scores, current=index), width="stretch", key="vol_scores_fig")
    table = scores.table()
    if scores.ood_flags is not None and scores.ood_flags.any():
        st.warning(f"{int(scores.ood_flags.sum())} of {len(scores.indices)} slices look outside this model's "
                   "training domain (crosses on the plot); their predictions cannot be trusted.",
                   icon=":material/warning:")
    r2.caption(f"Most suspicious first ({scores.suspicion_label}): "
               + ", ".join(f"slice {int(s)}" for s in table["slice"].head(5)) + ".")
    with st.expander(f"All {len(table)} slices, most suspicious first"):
        st.dataframe(table, hide_index=True, width="stretch")
        st.download_button("Table (.csv)", csv_text(table).encode(),
                           f"slices_{model_name}_{sha[:12]}_{plane}.csv", key="vol_csv")

    n = vol.count(plane)
    e1, e2, e3 = st.columns([2, 2, 1])
    lo, hi = e1.slider("Slices to explain", 1, n, (1, n), key="vol_range") if n > 1 else (1, 1)
    cls = e2.selectbox("Class of the maps", names,
                       index=names.index(slices.suspicious_class(lm, slices.slice_images(
                           vol, [int(scores.indices[scores.ranking()[0]])], plane, window))), key="vol_class")
    start = e3.button("Explain every slice", key="vol_start", type="primary",
                      help="Explains each slice in the range with the method and settings above; each slice is "
                           "cached, so stopping keeps the finished ones and starting again resumes.")
    idx = list(range(lo - 1, hi))
    request = {"model": lm.file_hash, "sha": sha, "plane": plane, "window": window, "method": method,
               "output": output, "params": params, "class": cls, "slices": idx,
               "backend": lm.backend()}  # maps made in bf16 are not shown as the fp32 ones
    images = slices.slice_images(vol, idx, plane, window)
    bar = st.empty()

    def step(i, img):
        def run():
            def progress(f, msg):
                msg = msg.split("): ", 1)[-1]  # explain_slices names the slice too; say it once
                bar.progress(min(1.0, f), text=f"Slice {i + 1} ({idx.index(i) + 1} of {len(idx)}): {msg}")

            return slices.explain_slices(lm, [img], [i], method, output, class_name=cls, progress=progress,
                                         **params).explanations[0]
        return run

    state = jobs.run_steps("vol_maps", request, [(str(i), step(i, img)) for i, img in zip(idx, images)], start)
    bar.empty()
    if not state or state["request"].get("sha") != sha or not state["done"]:
        return
    jobs.stopped_note(state, "slices", "Explain every slice")
    done_idx = [int(k) for k in state["done"]]
    maps = slices.SliceMaps(np.array(done_idx), np.stack([_map(e, state["request"]["class"])
                                                          for e in state["done"].values()]),
                            state["request"]["class"], state["request"]["method"], state["request"]["output"],
                            next(iter(state["done"].values())).info.get("unit", ""),
                            list(state["done"].values()))
    _show_maps(lm, vol, state["request"]["plane"], state["request"]["window"], maps, scores, sha, model_name)


def _map(expl, class_name: str) -> np.ndarray:
    k = list(expl.class_names).index(class_name)
    v = np.asarray(expl.values[k], np.float32)
    return v.sum(-1) if v.ndim == 3 else v


def slice_verdict(scores, index: int) -> bool | None:
    """Slice ``index`` (0-based) out of domain: True, False, or None when the model has no check."""
    if scores.ood_flags is None:
        return None
    hit = np.flatnonzero(scores.indices == index)
    return bool(scores.ood_flags[hit[0]]) if len(hit) else None


def _show_maps(lm, vol: Volume, plane: str, window, maps, scores, sha: str, model_name: str) -> None:
    from xai_core.plots.base import symmetric_limit
    from xai_core.plots.methods import method_map_figure

    vmax = symmetric_limit(maps.maps)  # one colour scale for the whole map volume
    m1, m2 = st.columns(2)
    with m1:
        pos = st.select_slider("Map of slice", [int(i) + 1 for i in maps.indices], key="vol_map_slice") - 1 \
            if len(maps.indices) > 1 else int(maps.indices[0])
        j = int(np.flatnonzero(maps.indices == pos)[0])
        img = lm.prepare(vol.slice(pos, plane).render(window))
        st.plotly_chart(method_map_figure(img, maps.maps[j], maps.unit,
                                          f"{maps.method}, {maps.class_name}, slice {pos + 1} ({maps.output})",
                                          vmax=vmax, height=320), width="stretch", key="vol_map_fig")
        verdict = slice_verdict(scores, pos)
        if verdict is True:
            st.warning(f"Slice {pos + 1} looks outside this model's training domain: its map cannot be trusted.",
                       icon=":material/warning:")
        elif verdict is False:
            st.caption(f"Slice {pos + 1} passed the out-of-domain check.")
    with m2:
        flagged = [int(i) + 1 for i in maps.indices if slice_verdict(scores, int(i))]
        if flagged:
            st.caption(f"The projection includes {len(flagged)} slice{'s' if len(flagged) > 1 else ''} outside the "
                       f"training domain ({', '.join(map(str, flagged[:10]))}{', …' if len(flagged) > 10 else ''}).")
        scan_mip = np.max(np.stack([lm.prepare(vol.slice(int(i), plane).render(window)) for i in maps.indices]), 0)
        st.plotly_chart(method_map_figure(scan_mip, maps.mip(), maps.unit,
                                          f"Maximum-intensity projection over {len(maps.indices)} slices",
                                          vmax=vmax, height=320), width="stretch", key="vol_mip_fig")
    st.caption("Red raises the class score, blue lowers it; one colour scale for every slice. The projection "
               "keeps, per pixel, the strongest evidence for the class over the explained slices.")
    approximate = next((e for e in maps.explanations if e.approximate), None)
    if approximate is not None:
        st.warning(precision.warning_text(approximate.backend, maps=len(maps.explanations)), icon=":material/speed:")
    buf = io.BytesIO()
    np.savez_compressed(buf, **maps.arrays(scores))
    st.download_button("Map volume (.npz)", buf.getvalue(),
                       f"{maps.method}_{model_name}_scan-{sha[:12]}_{plane}_{maps.output}.npz", key="vol_npz")
    st.session_state["vol_last_maps"] = maps
    st.session_state["vol_last_maps_of"] = (sha, plane, window)
    if vol.headers and plane == vol.planes()[0]:
        dicom_export(vol, maps, window, sha, model_name)


def report_maps(sha: str, plane: str, window):
    """The map volume last shown for this study, plane and window (for the case report), or None."""
    if st.session_state.get("vol_last_maps_of") == (sha, plane, window):
        return st.session_state.get("vol_last_maps")
    return None


def dicom_export(vol: Volume, maps, window, sha: str, model_name: str) -> None:
    """A zip of the Secondary Captures and the Parametric Map, built on click; de-identified unless ticked."""
    import tempfile
    from pathlib import Path

    from pages._ui.render import user_errors
    from xai_core.export.dicom import export_dicom

    with st.expander("Export as DICOM (for a PACS viewer: OHIF, 3D Slicer, a workstation)"):
        st.caption("One colour Secondary Capture per explained slice (the map over the slice, with a burned-in "
                   "legend and NOT FOR DIAGNOSIS) and one Parametric Map with the raw values and their unit, both "
                   "referencing the source series. New UIDs; de-identified unless you tick the box, with the "
                   "source UIDs replaced by a one-way hash.")
        c1, c2 = st.columns([2, 1])
        n = st.session_state.get("vol_dcm_round", 0)
        ids = c1.checkbox("Include identifiers (this export only)", key=f"vol_dcm_ids_{n}",
                          help="Keeps the patient and study attributes and the source UIDs, so a PACS files the "
                               "results under the original study.")
        if c2.button("Build DICOM export", key="vol_dcm_build"):
            with user_errors("Writing the DICOM export"), tempfile.TemporaryDirectory(prefix="xai-dicom-") as tmp:
                out = export_dicom(vol, maps, tmp, window, include_identifiers=ids, what=f"model {model_name}")
                buf = io.BytesIO()
                with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
                    for f in sorted(Path(tmp).iterdir()):
                        zf.write(f, f.name)
                st.session_state["vol_dcm_zip"] = (buf.getvalue(), len(out["secondary_capture"]),
                                                   out["parametric_map"] is not None)
                st.session_state["vol_dcm_round"] = n + 1  # the tick holds for this one export only
        built = st.session_state.get("vol_dcm_zip")
        if built:
            st.download_button(f"Download DICOM ({built[1]} Secondary Capture{'s' if built[1] != 1 else ''}"
                               f"{' + Parametric Map' if built[2] else ''}, .zip)", built[0],
                               f"{maps.method}_{model_name}_scan-{sha[:12]}_dicom.zip", "application/zip",
                               key="vol_dcm_dl")
