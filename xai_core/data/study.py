"""Reading a study from an upload: the one entry that dispatches to a series (zip), NIfTI or multi-frame file.

Kept apart from ``volume.py`` (the ``Volume`` type every reader returns), so the readers import the type and
this module imports the readers, with no cycle between them.
"""

from __future__ import annotations

from .volume import Volume


def read_volume(data: bytes, filename: str, series_uid: str | None = None) -> Volume:
    """The volume in an upload: a zip of a DICOM series (or of one NIfTI file), a NIfTI file, or a
    multi-frame DICOM file. Limits are checked from the headers before any pixel is decoded."""
    name = filename.lower()
    if name.endswith(".zip") or data[:4] == b"PK\x03\x04":
        from .series import read_zip_study

        return read_zip_study(data, filename, series_uid)
    if name.endswith((".nii", ".nii.gz")):
        from .nifti import read_nifti

        return read_nifti(data, filename)
    from .series import read_multiframe

    return read_multiframe(data)
