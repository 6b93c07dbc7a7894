"""Image references: ``DATASET:SPLIT:INDEX`` (with the true class and lesion mask) or an image file.

The CLI, reports and audits all accept both forms; this is the one place that reads them.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import InputError

IMAGE_REF = re.compile(r"^(?P<dataset>.+):(?P<split>[A-Za-z0-9_-]+):(?P<index>\d+)$")


def load_image_ref(ref: str):
    """(image, title, true class name or None, lesion mask or None) for DATASET:SPLIT:INDEX or a file."""
    from . import DATASETS, load_dataset
    from .images import read_scan

    m = IMAGE_REF.match(ref)
    if m and (m["dataset"] in DATASETS or m["dataset"].startswith("folder:")):
        ds = load_dataset(m["dataset"])
        image = ds.image(m["split"], int(m["index"]))
        s = ds.split(m["split"])
        mask = s.masks[int(m["index"])] if s.masks is not None else None
        return image, ref, ds.class_names[s.labels[int(m["index"])]], mask
    if not Path(ref).is_file():
        raise InputError(f"{ref!r} is neither an image file nor DATASET:SPLIT:INDEX.")
    return read_scan(ref)[0], Path(ref).name, None, None


def load_image(ref: str):
    return load_image_ref(ref)[0]
