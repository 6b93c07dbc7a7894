"""Typed masks: which region of a scan a metric scores, and where that region's mask comes from.

A localisation metric reads one mask, and the kind matters: relevance mass on the *finding* (the lesion)
is evidence the map looks at the right thing, marker share on an *artefact* (a burned-in site marker)
is evidence it leans on a shortcut. Handing the lesion mask to the marker metric turns one into the
other ("31% of the evidence is on the marker" on a dataset without a marker). So each metric declares
its ``region`` (``Metric.region``; a metric that only says ``needs_mask`` needs the finding), every
caller hands over the masks it knows by region, and a metric whose region has no mask reads
``not applicable`` with the reason: it is never computed on another region's mask.
"""

from __future__ import annotations

import numpy as np

FINDING, ARTEFACT = "finding", "artefact"
WORDS = {FINDING: "lesion (finding)", ARTEFACT: "artefact (such as a burned-in marker)"}
# other spellings a declaration may use, read as the two regions above
ALIASES = {"lesion": FINDING, "mask": FINDING, "masks": FINDING, "marker": ARTEFACT, "artifact": ARTEFACT,
           "shortcut": ARTEFACT, "tag_mask": ARTEFACT}


def region_of(metric) -> str | None:
    """The region a metric scores: its declared ``region``, else the finding for metrics that need a mask,
    else None (the metric reads no mask)."""
    declared = getattr(metric, "region", None)
    if declared:
        return ALIASES.get(str(declared), str(declared))
    return FINDING if getattr(metric, "needs_mask", False) else None


def present(mask) -> bool:
    return mask is not None and bool(np.asarray(mask).any())


def mask_for(metric, masks: dict):
    """The mask ``metric`` may read from ``masks`` ({region: mask or None}), or None.

    A metric that reads no region still gets the finding, as before (some use it only for display)."""
    region = region_of(metric)
    return masks.get(FINDING if region is None else region)


def missing(metric, masks: dict) -> str:
    """Why ``metric`` cannot be scored with ``masks`` ('' when it can): its region has no mask here."""
    region = region_of(metric)
    if region is None or present(masks.get(region)):
        return ""
    if region == FINDING:
        return "no ground-truth lesion mask is known for this image"
    return (f"no {WORDS.get(region, region)} mask is known for this scan, and it is never scored on "
            "another region's mask")


def dataset_regions(ds, split: str, index: int) -> dict:
    """{region: mask or None} of one dataset scan: the lesion mask, and the artefact mask the dataset
    names for its shortcut (``shortcut.shortcut_setup``: ``meta['shortcut_mask']`` or its one extra mask)."""
    from .shortcut import shortcut_setup

    s = ds.split(split)
    lesion = s.masks[int(index)] if s.masks is not None else None
    name = shortcut_setup(ds)["mask"]
    extra = s.mask(name) if name else None
    return {FINDING: lesion, ARTEFACT: extra[int(index)] if extra is not None else None}
