"""Helpers several commands share: image references, NAME=VALUE flags, plain tables."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from ..errors import InputError

IMAGE_REF = re.compile(r"^(?P<dataset>.+):(?P<split>[A-Za-z0-9_-]+):(?P<index>\d+)$")


def key_value(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), value.strip()


def load_image_ref(ref: str):
    """(image, title, true class name or None, lesion mask or None) for DATASET:SPLIT:INDEX or a file."""
    from ..data import DATASETS, load_dataset
    from ..data.images import read_scan

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


def table(rows: list[dict], cols: list[str]) -> str:
    widths = [max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in cols] if rows else [len(c) for c in cols]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths))]
    lines += ["  ".join(str(r.get(c, "")).ljust(w) for c, w in zip(cols, widths)) for r in rows]
    return "\n".join(lines)
