"""De-identified copies of DICOM headers, by the same rule as reports (``report.deid.is_identifying``).

Every attribute a report would never print is removed from the copy, except
the few the DICOM patient and study modules require to be present (type 2),
which are kept empty; private tags go (PS3.15 E.3.8). Instance UIDs are not
removed but replaced (action U): each is mapped to a new UID derived from it
by a one-way hash, so a study, its series, its frame of reference and the
references between them stay consistent, and the same source always maps to
the same new UID (a de-identified copy of the source series made here lines
up with the exported maps). The original UIDs never appear.
"""

from __future__ import annotations

import copy

from ..report.deid import is_identifying

SALT = "xai-core deid v1"
# Type 2 attributes of the Patient, General Study and General Equipment modules: present, but empty.
KEEP_EMPTY = frozenset({"PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
                        "ReferringPhysicianName", "StudyID", "AccessionNumber"})
METHOD = "xai-core PS3.15 basic profile, UIDs replaced by one-way hash"  # LO: at most 64 characters


def new_uid(uid: str) -> str:
    """The replacement of ``uid``: the same input always gives the same output; the input cannot be recovered."""
    from pydicom.uid import generate_uid

    return str(generate_uid(entropy_srcs=[SALT, str(uid)]))


def deidentified(ds):
    """A copy of ``ds`` with every identifying attribute removed, emptied or (UIDs) replaced."""
    out = copy.deepcopy(ds)  # Dataset.copy() is shallow: cleaning it would clean the source's elements too
    out.remove_private_tags()
    _clean(out)
    if getattr(ds, "file_meta", None) is not None:
        out.file_meta = copy.deepcopy(ds.file_meta)
        if "MediaStorageSOPInstanceUID" in out.file_meta:
            out.file_meta.MediaStorageSOPInstanceUID = new_uid(ds.file_meta.MediaStorageSOPInstanceUID)
    out.PatientIdentityRemoved = "YES"
    out.DeidentificationMethod = METHOD
    out.PatientName, out.PatientID = "ANONYMOUS^", "ANONYMOUS"  # named, so a viewer lists the study
    return with_type2(out)


def with_type2(ds):
    """``ds`` with every type 2 patient/study attribute present (empty when the source lacks it)."""
    for k in sorted(KEEP_EMPTY):
        if k not in ds:
            setattr(ds, k, "")
    return ds


def _clean(ds) -> None:
    for el in list(ds):
        kw = el.keyword or ""
        if el.VR == "SQ":
            if kw and is_identifying(kw, el.VR):
                del ds[el.tag]
                continue
            for item in el.value:
                _clean(item)
            continue
        if not is_identifying(kw, el.VR):
            continue
        if el.VR == "UI":
            el.value = [new_uid(v) for v in el.value] if el.VM > 1 else (new_uid(el.value) if el.value else el.value)
        elif kw in KEEP_EMPTY:
            el.value = ""
        else:
            del ds[el.tag]
