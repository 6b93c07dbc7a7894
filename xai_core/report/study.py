"""A study in a case report: the model's score on every slice, the slice reported, and the maps' projection.

A report of one slice of a series or volume also says where that slice sits in
the study: the class probabilities and the out-of-domain score along the
slices (``xai_core.slices.score_slices``, the same numbers as the page's
"Every slice" plot), the reported slice marked, the ranked per-slice table
and, when the slices were explained, the maximum-intensity projection of the
map volume (Wallis et al. 1989, IEEE TMI 8:297). ``SliceSeries`` holds those
numbers; the writers lay them out (a Plotly figure in the HTML, a static
figure in the PDF) and decide nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PDF_ROWS = 40  # the PDF lists the most suspicious slices (and the reported one); the HTML lists every slice


@dataclass
class SliceSeries:
    plane: str
    chosen: int  # 0-based index of the reported slice in ``plane``
    scores: object  # xai_core.slices.SliceScores over every slice of ``plane``
    maps: object | None = None  # xai_core.slices.SliceMaps of the explained slices, or None
    scan_mip: np.ndarray | None = None  # (h, w, c) projection of the explained slices as the model saw them

    @property
    def count(self) -> int:
        return len(self.scores.indices)

    def rows(self) -> list[dict]:
        """The per-slice table as text, most suspicious first; the reported slice says so."""
        s = self.scores
        explained = set() if self.maps is None else {int(i) for i in self.maps.indices}
        rows = []
        for p in s.ranking():
            i = int(s.indices[p])
            row = {"slice": str(i + 1) + (" (reported)" if i == self.chosen else ""),
                   s.suspicion_label: f"{s.suspicion[p]:.4f}",
                   "predicted": str(s.class_names[int(np.argmax(s.probabilities[p]))])}
            row.update({f"p({n})": f"{s.probabilities[p, k]:.4f}" for k, n in enumerate(s.class_names)})
            if s.ood_scores is not None:
                row["out-of-domain score"] = f"{s.ood_scores[p]:.4g}"
                row["out of domain"] = "yes" if s.ood_flags[p] else "no"
            if explained:
                row["explained"] = "yes" if i in explained else "no"
            rows.append(row)
        return rows

    def columns(self) -> list[str]:
        rows = self.rows()
        return list(rows[0]) if rows else []

    def summary(self) -> str:
        """What the section shows, in one paragraph."""
        s = self.scores
        ranked = [int(s.indices[p]) for p in s.ranking()]
        rank = ranked.index(self.chosen) + 1 if self.chosen in ranked else None
        words = [f"The model scored all {self.count} {self.plane} slices of the study. Ranked by "
                 f"{s.suspicion_label}, the most suspicious are "
                 + ", ".join(f"slice {i + 1}" for i in ranked[:5]) + "."]
        if rank is not None:
            words.append(f"The reported slice, {self.chosen + 1}, ranks {rank} of {self.count}.")
        if s.ood_flags is not None:
            n = int(np.sum(s.ood_flags))
            words.append(f"{n} of {self.count} slices look outside this model's training domain; their "
                         "predictions cannot be trusted." if n else
                         "Every slice passed the out-of-domain check.")
        else:
            words.append("No out-of-domain check was available for these slices.")
        if self.maps is not None:
            words.append(f"The projection keeps, per pixel, the strongest evidence for {self.maps.class_name} "
                         f"over the {len(self.maps.indices)} explained slices ({slice_list(self.maps.indices)}).")
        else:
            words.append("The slices were not explained one by one, so there is no map projection.")
        return " ".join(words)


def slice_list(indices) -> str:
    """0-based indices as 1-based ranges, the ``--slices`` spelling: ``3-8,11``."""
    idx = sorted({int(i) + 1 for i in indices})
    parts, start = [], None
    for k, v in enumerate(idx):
        if start is None:
            start = v
        if k + 1 == len(idx) or idx[k + 1] != v + 1:
            parts.append(f"{start}-{v}" if v > start else f"{v}")
            start = None
    return ",".join(parts)


def series_of(model, volume, plane: str | None, chosen: int, window=None, maps=None,
              detector="auto") -> SliceSeries:
    """Score every slice of ``plane`` as the report's slice was scored (same window), with the model's
    out-of-domain detector (``"auto"``: the model's own, when it has one; None or a reason: no check), and
    project ``maps`` when given."""
    from .. import slices
    from ..errors import XAIError
    from ..models import as_model

    lm = as_model(model)
    plane = plane if plane in volume.planes() else volume.planes()[0]
    if detector == "auto":
        from ..domain import ood_detector

        try:
            detector = ood_detector(lm)
        except XAIError:
            detector = None
    elif isinstance(detector, str):  # the reason a model has no detector (as the pages hold it)
        detector = None
    idx = list(range(volume.count(plane)))
    scores = slices.score_slices(lm, slices.slice_images(volume, idx, plane, window), idx, detector=detector)
    scan_mip = None
    if maps is not None and len(maps.indices):
        scan_mip = np.max(np.stack([lm.prepare(img) for img in
                                    slices.slice_images(volume, [int(i) for i in maps.indices], plane, window)]), 0)
    return SliceSeries(plane, int(chosen), scores, maps, scan_mip)


def explain_series(model, volume, plane: str | None, window, text: str, job: dict,
                   class_name: str | None = None):
    """The maps of ``--slices TEXT`` with one report job (method, output, parameters): ``SliceMaps``."""
    from .. import slices

    plane = plane if plane in volume.planes() else volume.planes()[0]
    idx = slices.parse_slices(text, volume.count(plane))
    params = {k: v for k, v in job.items() if k not in ("method", "output", "classes", "top_k")}
    return slices.explain_slices(model, slices.slice_images(volume, idx, plane, window), idx, job["method"],
                                 job.get("output", "margin"), class_name=class_name, **params)


def matches(maps, explanation) -> bool:
    """Whether a map volume was made as ``explanation`` was (method, output space, every parameter), so the
    report's regeneration command (which explains ``--slices`` with the report's first map) rebuilds it."""
    if maps is None or not maps.explanations or explanation is None:
        return False
    first = maps.explanations[0]
    return (maps.method == explanation.method and maps.output == explanation.output_space
            and first.params == explanation.params)


def flags_of(series: SliceSeries | None) -> list[str]:
    """The ``report`` options that rebuild the projection: ``--slices A-B --slice-class NAME``."""
    if series is None or series.maps is None or not len(series.maps.indices):
        return []
    return ["--slices", slice_list(series.maps.indices), "--slice-class", str(series.maps.class_name)]
