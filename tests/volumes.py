"""Small DICOM series, multi-frame files and NIfTI volumes for the volume tests, made on the fly.

The brain series stacks synthetic axial slices (``xai_core.data.synthetic_brain_mri.render``) with a
glioma on known slices and none elsewhere, written as one MR file per slice with real patient geometry
(positions along z, 1.5 mm pixels) and identifiers that an export must never carry.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np

IDENTIFIERS = {"PatientName": "Doe^Jane", "PatientID": "PID-0042-XYZ", "PatientBirthDate": "19610203",
               "InstitutionName": "St Elsewhere Hospital", "AccessionNumber": "ACC-778899",
               "ReferringPhysicianName": "House^Gregory", "StudyDate": "20240117"}
STUDY_UID = "1.2.826.0.1.3680043.8.498.1001"
SERIES_UID = "1.2.826.0.1.3680043.8.498.1002"
FOR_UID = "1.2.826.0.1.3680043.8.498.1003"


def brain_slices(n: int = 24, lesion=range(10, 14), seed: int = 7) -> np.ndarray:
    """(n, 128, 128) uint8: glioma slices at ``lesion``, no tumour elsewhere."""
    from xai_core.data.synthetic_brain_mri import CLASS_NAMES, render

    out = []
    for i in range(n):
        label = CLASS_NAMES.index("glioma" if i in lesion else "no_tumor")
        out.append(render(np.random.default_rng([seed, i]), label)[0])
    return np.stack(out)


def mr_file(pixels: np.ndarray, index: int, z: float, spacing: float = 5.0, pixel: float = 1.5,
            series_uid: str = SERIES_UID, rows_cols=None) -> bytes:
    """One MR slice (uint16 = pixels * 4) at height ``z`` mm, with identifiers."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MRImageStorage
    meta.MediaStorageSOPInstanceUID = f"{series_uid}.{index + 1}"
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = MRImageStorage, meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.SeriesDescription = "MR", "AX T1 post"
    for k, v in IDENTIFIERS.items():
        setattr(ds, k, v)
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = STUDY_UID, series_uid, FOR_UID
    ds.StudyID, ds.SeriesNumber, ds.InstanceNumber = "1", 3, index + 1
    ds.ImagePositionPatient = [-96.0, -96.0, float(z)]
    ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.PixelSpacing = [pixel, pixel]
    ds.SliceThickness = spacing
    a = np.asarray(pixels, np.uint16) * 4
    ds.Rows, ds.Columns = rows_cols or a.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.RescaleSlope, ds.RescaleIntercept = 1, 0
    ds.WindowCenter, ds.WindowWidth = 510, 1020
    ds.PixelData = a.tobytes()
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def brain_series(n: int = 24, lesion=range(10, 14), spacing: float = 5.0, seed: int = 7,
                 shuffle: bool = True) -> list[tuple[str, bytes]]:
    """(file name, bytes) per slice, named in a shuffled order so only the positions give the order."""
    slices = brain_slices(n, lesion, seed)
    files = [(f"IM{(i * 7919) % 1000:04d}.dcm", mr_file(slices[i], i, -40.0 + i * spacing, spacing))
             for i in range(n)]
    if shuffle:
        order = np.random.default_rng(seed).permutation(n)
        files = [files[i] for i in order]
    return files


def zipped(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(f"study/series3/{name}", data)
    return buf.getvalue()


def nifti(volume: np.ndarray, affine: np.ndarray, gz: bool = True) -> bytes:
    import gzip

    import nibabel as nib

    raw = nib.Nifti1Image(np.asarray(volume), affine).to_bytes()
    return gzip.compress(raw, mtime=0) if gz else raw
