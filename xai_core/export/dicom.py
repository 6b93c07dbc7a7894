"""Explanations as DICOM a PACS viewer opens: a colour Secondary Capture and a Parametric Map per study.

Made with highdicom (Herrmann et al. 2022, "Highdicom: a Python library for
standardized encoding of image annotations and machine learning model
outputs in pathology and radiology", J Digit Imaging 35:1719), which builds
the IODs and their references from the source datasets:

- **Secondary Capture** (one file per explained slice): the map blended over
  the slice, shown in its window, red raising the class score and blue
  lowering it, with a burned-in legend (method, class, output space, "not for
  diagnosis"); Burned In Annotation is YES. The slice's Image Position and
  Orientation (Patient) and Pixel Spacing are copied, so viewers that honour
  them place it on the source.
- **Parametric Map** (one multi-frame file): the raw attribution values as
  32-bit floats with a Real World Value Mapping naming their unit, one frame
  per explained slice at the source slice's position, orientation and spacing,
  referencing the source images it was derived from.

Maps are computed at the model's input size and resized (bilinear) to the
slice's rows and columns so the geometry is the source's. Every object gets
new UIDs (series and instances). By default the source headers are
de-identified first (``export.deid``: as in reports, with UIDs replaced by
a one-way hash so the references stay consistent); with
``include_identifiers`` the patient and study attributes and the source UIDs
are kept, so a PACS files the results under the original study.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

from ..errors import InputError

NOT_FOR_DIAGNOSIS = "NOT FOR DIAGNOSIS"
MANUFACTURER = "xai-core (research software)"


def _resize(a: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    from PIL import Image

    if a.shape == tuple(shape):
        return a.astype(np.float32)
    return np.asarray(Image.fromarray(a.astype(np.float32), mode="F").resize((shape[1], shape[0]), Image.BILINEAR),
                      np.float32)


def blend(slice_image: np.ndarray, value_map: np.ndarray, vmax: float, alpha: float = 0.75) -> np.ndarray:
    """(H, W, 3) uint8: the map over the slice, red for positive and blue for negative, opacity |v| / vmax."""
    base = slice_image.astype(np.float32)
    base = np.repeat(base, 3, axis=-1) if base.shape[-1] == 1 else base[..., :3]
    v = np.clip(value_map / max(vmax, 1e-12), -1, 1)[..., None]
    red, blue = np.array([255, 13, 87], np.float32), np.array([30, 136, 229], np.float32)
    colour = np.where(v >= 0, red, blue)
    a = alpha * np.abs(v)
    return np.clip(base * (1 - a) + colour * a + 0.5, 0, 255).astype(np.uint8)


def legend(image: np.ndarray, lines: list[str]) -> np.ndarray:
    """Burn ``lines`` into the top-left corner on a dark band, sized to the image."""
    from PIL import Image, ImageDraw, ImageFont

    im = Image.fromarray(image)
    size = max(9, image.shape[1] // 26)
    try:
        font = ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType: the fixed bitmap font
        font = ImageFont.load_default()
    draw = ImageDraw.Draw(im)
    y = 2
    for line in lines:
        box = draw.textbbox((3, y), line, font=font)
        draw.rectangle((0, y - 1, min(box[2] + 3, image.shape[1] - 1), box[3] + 1), fill=(0, 0, 0))
        draw.text((3, y), line, fill=(255, 255, 0) if line == NOT_FOR_DIAGNOSIS else (255, 255, 255), font=font)
        y = box[3] + 3
    return np.asarray(im)


def export_dicom(volume, maps, out_dir: str | Path, window=None, include_identifiers: bool = False,
                 what: str = "") -> dict:
    """Write a Secondary Capture per explained slice and one Parametric Map under ``out_dir``.

    ``volume``: the source ``Volume`` (a DICOM series or file: it carries the headers); ``maps``: the
    ``slices.SliceMaps`` of its acquired plane. Returns {"secondary_capture": [paths], "parametric_map": path}.
    """
    import highdicom as hd
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    from .deid import METHOD, deidentified, with_type2

    if not volume.headers:
        raise InputError("DICOM export needs a DICOM source (a series, or a DICOM file); this study came from "
                         f"{'a NIfTI volume' if volume.info.get('kind') == 'nifti' else 'a file without headers'}.")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    headers = [with_type2(copy.deepcopy(h)) if include_identifiers else deidentified(h) for h in volume.headers]
    multiframe = len(headers) == 1 and len(volume) > 1
    vmax = float(np.percentile(np.abs(maps.maps), 99.9)) or float(np.abs(maps.maps).max()) or 1.0
    rows, cols = volume.values.shape[1:3]
    words = [f"{maps.method} · {maps.class_name} · {maps.output}", what or "explanation map", NOT_FOR_DIAGNOSIS]
    sc_series, pm_series = generate_uid(), generate_uid()
    written, frames, positions, sources = [], [], [], []
    for n, (i, m) in enumerate(zip(maps.indices, maps.maps), 1):
        i = int(i)
        ref = headers[0] if multiframe else headers[i]
        value = _resize(m, (rows, cols))
        img = legend(blend(volume.slice(i).render(window), value, vmax), words)
        sc = hd.sc.SCImage.from_ref_dataset(
            ref_dataset=ref, pixel_array=img, photometric_interpretation="RGB", bits_allocated=8,
            coordinate_system="PATIENT", series_instance_uid=sc_series, series_number=9901,
            sop_instance_uid=generate_uid(), instance_number=n, manufacturer=MANUFACTURER,
            transfer_syntax_uid=ExplicitVRLittleEndian,
            pixel_spacing=volume.pixel_spacing, patient_orientation=("L", "P") if volume.orientation is None else
            _orientation_letters(volume.orientation))
        geometry = volume.slice_geometry(i)
        if geometry:
            sc.ImagePositionPatient = list(geometry["position"])
            sc.ImageOrientationPatient = list(geometry["orientation"])
            sc.PixelSpacing = list(geometry["pixel_spacing"])
            sc.FrameOfReferenceUID = ref.get("FrameOfReferenceUID", "")
        sc.BurnedInAnnotation = "YES"
        if not include_identifiers:
            sc.PatientIdentityRemoved, sc.DeidentificationMethod = "YES", METHOD
        sc.SeriesDescription = f"XAI {maps.method} {maps.class_name} overlay (not for diagnosis)"[:64]
        sc.ImageComments = f"{maps.method} map of {maps.class_name} ({maps.output}); {NOT_FOR_DIAGNOSIS}"
        _reference(sc, ref, i, volume, multiframe)
        path = out / f"SC_{i + 1:04d}.dcm"
        sc.save_as(path, enforce_file_format=True)
        written.append(path)
        frames.append(value)
        positions.append(geometry.get("position"))
        sources.append(ref)
    result = {"secondary_capture": written, "parametric_map": None}
    if all(p is not None for p in positions) and volume.orientation is not None and volume.pixel_spacing:
        result["parametric_map"] = _parametric_map(volume, maps, headers, multiframe, np.stack(frames), positions,
                                                   pm_series, out, None if include_identifiers else METHOD)
    return result


def _orientation_letters(orientation) -> tuple[str, str]:
    """Patient Orientation (the direction of the rows, then the columns) from Image Orientation Patient."""
    def letter(v):
        k = int(np.argmax(np.abs(v)))
        return ("LR", "PA", "HF")[k][0 if v[k] > 0 else 1]
    o = np.asarray(orientation, float)
    return letter(o[:3]), letter(o[3:])


def _reference(ds, ref, index: int, volume, multiframe: bool) -> None:
    """Source Image Sequence and Referenced Series: where the overlay came from."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    item = Dataset()
    item.ReferencedSOPClassUID = ref.SOPClassUID
    item.ReferencedSOPInstanceUID = ref.SOPInstanceUID
    if multiframe:
        order = volume.info.get("frame_order") or list(range(len(volume)))
        item.ReferencedFrameNumber = int(order[index]) + 1
    ds.SourceImageSequence = Sequence([item])
    series = Dataset()
    series.SeriesInstanceUID = ref.SeriesInstanceUID
    series.ReferencedInstanceSequence = Sequence([item])
    ds.ReferencedSeriesSequence = Sequence([series])


def _parametric_map(volume, maps, headers, multiframe, frames, positions, series_uid, out: Path,
                    deid_method: str | None) -> Path:
    import highdicom as hd
    from pydicom.uid import generate_uid

    unit = hd.sr.CodedConcept(value="1", scheme_designator="UCUM", meaning="no units")
    lo, hi = float(frames.min()), float(frames.max())
    mapping = hd.pm.RealWorldValueMapping(
        lut_label=f"{maps.method}"[:16], lut_explanation=f"{maps.method} attribution of {maps.class_name}, "
        f"{maps.output} space: {maps.unit}"[:64], unit=unit, value_range=(lo, hi if hi > lo else lo + 1.0),
        slope=1.0, intercept=0.0)
    sources = [headers[0]] if multiframe else [headers[int(i)] for i in maps.indices]
    sp = volume.pixel_spacing
    pm = hd.pm.ParametricMap(
        source_images=sources, pixel_array=frames.astype(np.float32), series_instance_uid=series_uid,
        series_number=9902, sop_instance_uid=generate_uid(), instance_number=1, manufacturer=MANUFACTURER,
        manufacturer_model_name="xai-core", software_versions="xai-core", device_serial_number="none",
        contains_recognizable_visual_features=False, real_world_value_mappings=[mapping],
        voi_lut_transformations=[hd.VOILUTTransformation(window_center=0.0,
                                                         window_width=max(abs(lo), abs(hi), 1e-6) * 2)],
        content_description=f"{maps.method} {maps.class_name} {maps.output}"[:64], content_label="XAI_MAP",
        pixel_measures=hd.PixelMeasuresSequence(pixel_spacing=sp, slice_thickness=float(
            volume.info.get("slice_thickness") or volume.slice_spacing or 1.0)),
        plane_orientation=hd.PlaneOrientationSequence(coordinate_system="PATIENT",
                                                      image_orientation=list(map(float, volume.orientation))),
        plane_positions=[hd.PlanePositionSequence(coordinate_system="PATIENT", image_position=list(p))
                         for p in positions])
    pm.SeriesDescription = f"XAI {maps.method} {maps.class_name} values (not for diagnosis)"[:64]
    if deid_method:
        pm.PatientIdentityRemoved, pm.DeidentificationMethod = "YES", deid_method
    path = out / "PM_0001.dcm"
    pm.save_as(path, enforce_file_format=True)
    return path
