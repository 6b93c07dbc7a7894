"""What a report says, independent of how it is drawn: the content model and its builder.

A ``Report`` is a header, one or more ``Case``s (one model on one scan, with
its prediction, out-of-domain verdict and maps), the cards of the models
involved, every parameter, the library versions, the command that
regenerates it and the fixed disclaimer. The PDF and HTML writers only lay
this out; nothing in them decides what is shown, so both formats say the
same thing and de-identification is decided in one place.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from dataclasses import dataclass, field

import numpy as np

from ..version import __version__
from .deid import BURNED_IN_NOTE, safe_info, scrub

DISCLAIMER = "For research and teaching; not a medical device; not for diagnosis."
WINDOW_NAMES = {"file": "the file's own window", "full": "the full range of values"}


@dataclass
class Scan:
    """The scan as the model saw it, plus the original with its display window."""

    model_input: np.ndarray  # (H, W, C) 0..255, fitted to the model
    source: str  # DATASET:SPLIT:INDEX, or a hash-derived file name such as scan-1a2b3c4d5e6f.dcm
    sha256: str  # of the file's bytes (uploads) or of the image array (dataset scans)
    original: np.ndarray | None = None  # (H, W, C) as read and windowed, before resizing
    window: tuple[float, float] | None = None  # (centre, width) in the file's units
    window_name: str | None = None  # "file", "full", a preset name, or "custom"
    dicom: dict = field(default_factory=dict)  # technical facts only (deid.SAFE_INFO_KEYS)
    true_class: str | None = None

    def window_text(self) -> str:
        if self.window is None:
            return ""
        name = self.window_name or "custom"
        label = WINDOW_NAMES.get(name, f"the '{name}' preset" if name != "custom" else "a custom window")
        return f"window centre {self.window[0]:g}, width {self.window[1]:g} ({label})"


@dataclass
class Verdict:
    """The out-of-domain check in plain words."""

    text: str
    flagged: bool | None  # None: no check was possible
    score: float | None = None
    threshold: float | None = None

    @classmethod
    def from_check(cls, check, i: int = 0) -> "Verdict":
        """From ``xai_core.domain.DomainCheck``."""
        d = check.detector
        score, thr = float(check.scores[i]), float(d.threshold)
        if check.flags[i]:
            return cls(check.message(i), True, score, thr)
        more = 100.0 - check.percentile(i)  # share of held-out images that look less ordinary than this one
        return cls(f"This image looks like the {d.dataset} images {d.model_name} learned from: it looks more like "
                   f"them than {more:.0f}% of that dataset's own held-out images do, and the check would flag it "
                   f"only if it looked less like them than {d.percentile:g}% of those images.", False, score, thr)

    @classmethod
    def unavailable(cls, reason: str) -> "Verdict":
        return cls(f"The out-of-domain check was not available: {reason}", None)


@dataclass
class MapEntry:
    """One explanation as the report shows it."""

    explanation: object  # xai_core.Explanation
    title: str
    unit: str
    quality: str  # additivity residual or LIME fit, in words
    fingerprint: str  # SHA-256 of the values: the regeneration command must reproduce it
    trust: list = field(default_factory=list)  # xai_core.metrics.MetricResult


@dataclass
class Case:
    model_name: str
    scan: Scan
    class_names: list[str]
    probabilities: np.ndarray
    verdict: Verdict
    maps: list[MapEntry]
    series: object | None = None  # report.study.SliceSeries: the study around a reported slice

    @property
    def predicted(self) -> str:
        return self.class_names[int(np.argmax(self.probabilities))]

    @property
    def predicted_words(self) -> str:
        """The prediction with its probability, or the tie when several classes share the top."""
        from ..prediction import prediction_words

        return prediction_words(self.class_names, self.probabilities)


@dataclass
class Report:
    title: str
    created: str  # ISO 8601, UTC
    version: str
    cases: list[Case]
    model_cards: list[dict]
    parameters: list[dict]  # one row per map: model, method, output space, classes, every parameter
    versions: dict
    command: str
    kind: str = "case"  # "case" or "handout"
    notes: list[tuple[str, str]] = field(default_factory=list)  # (heading, plain-language paragraph)
    identifiers: dict[str, str] | None = None  # only when the user asked for them
    guard: dict[str, str] | None = field(default=None, repr=False)  # identifier values to scrub, never shown
    disclaimer: str = DISCLAIMER
    privacy: str = ""

    def clean(self, text) -> str:
        """Every string a writer emits passes here: identifiers are scrubbed unless they were asked for."""
        text = str(text)
        return text if self.identifiers is not None else scrub(text, self.guard)

    def file_stem(self) -> str:
        """A file name from a hash of the content, never from the upload's name."""
        h = hashlib.sha256()
        for c in self.cases:
            h.update(c.scan.sha256.encode())
            h.update(c.model_name.encode())
            for m in c.maps:
                h.update(m.fingerprint.encode())
            if c.series is not None and c.series.maps is not None:
                h.update(fingerprint(c.series.maps.maps).encode())
        h.update(self.kind.encode())
        return f"xai-{self.kind}-{h.hexdigest()[:12]}"


def fingerprint(values: np.ndarray) -> str:
    a = np.ascontiguousarray(np.asarray(values, np.float64))
    return hashlib.sha256(a.tobytes()).hexdigest()


def _explainer(method: str):
    from ..explainers import EXPLAINERS

    try:
        return EXPLAINERS.get(method)
    except Exception:  # a map saved by a method this installation does not have
        return None


def unit_of(expl) -> str:
    """The map's unit: the explainer's own colour-bar label, else '<method> value (logit|probability)'."""
    from ..plots import UNITS

    cls = _explainer(expl.method)
    if cls is not None and hasattr(cls, "unit_label"):
        return cls.unit_label(expl.output_space)
    space = UNITS.get(expl.output_space, expl.output_space)
    name = getattr(cls, "display_name", expl.method)
    word = "value" if getattr(cls, "additive", True) else "weight"  # LIME paints one weight per superpixel
    return f"{'SHAP' if name.startswith('SHAP') else name} {word} ({space})"


def quality_of(expl) -> str:
    """The residual of an additive method, LIME's fit R², or what the method promises instead."""
    cls = _explainer(expl.method)
    if "score" in expl.extras:
        from ..gates import fit_score

        fits = [fit_score(expl, k) for k in range(len(expl.class_names))]
        return "local fit R²: " + ", ".join(f"{n} {s:.3f}" if np.isfinite(s) else
                                           f"{n} none (the output does not move)"
                                           for n, s in zip(expl.class_names, fits))
    if getattr(cls, "additive", True):
        return (f"additivity residual |base + sum of map − output|: largest {float(expl.residuals.max()):.1e} "
                f"(relative {float(expl.relative_residuals.max()):.1e})")
    promise = getattr(cls, "completeness", "")
    return f"no additivity by design{f' ({promise})' if promise else ''}"


def map_title(expl) -> str:
    from ..explainers import EXPLAINERS

    try:
        name = EXPLAINERS.get(expl.method).display_name
    except Exception:
        name = expl.method
    seg = expl.params.get("segmenter")
    approx = ", bf16 forward passes (fast, approximate)" if getattr(expl, "approximate", False) else ""
    return f"{name}{f' ({seg})' if seg else ''}, {expl.output_space} space{approx}"


def model_card(lm) -> dict:
    m = lm.metadata
    return {"name": lm.name, "architecture": m.arch or "unknown", "training dataset": m.dataset or "unknown",
            "test accuracy": "unknown" if m.test_accuracy is None else f"{m.test_accuracy:.1%}",
            "classes": ", ".join(lm.class_names), "input": f"{lm.input_shape[0]}×{lm.input_shape[1]}×"
            f"{lm.input_shape[2]}, scaling {m.input_scale}", "file hash (SHA-256)": lm.file_hash,
            "training command": (m.trained_with or {}).get("command") or "not recorded",
            "description": m.description or ""}


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    from ..cache import library_versions

    out = dict(library_versions())
    for name in ("matplotlib", "fpdf2", "pydicom", "pillow"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def case(model, scan: Scan, explanations: list, verdict: Verdict | None = None,
         trust: dict | None = None, series=None) -> Case:
    """One model on one scan: its prediction, the out-of-domain verdict (checked here when not given), maps.

    ``trust`` maps a map's SHA-256 (``fingerprint``), its title or its method name to its ``MetricResult`` list.
    ``series`` (``report.study.SliceSeries``): for a slice of a study, the scores along every slice.
    """
    from ..gates import OUT_OF_DOMAIN, withhold
    from ..models import as_model

    lm = as_model(model)
    probs = np.asarray(lm.forward_image(scan.model_input)[1], np.float64)
    if verdict is None:
        verdict = check_domain(lm, scan.model_input)
    trust = trust or {}
    maps = []
    for e in explanations:
        title, fp = map_title(e), fingerprint(e.values)
        results = list(trust.get(fp) or trust.get(title) or trust.get(e.method) or [])
        if verdict.flagged and results:  # no verdict on a scan the model should not judge (xai_core.gates)
            results = list(withhold({r.metric: r for r in results}, OUT_OF_DOMAIN).values())
        maps.append(MapEntry(e, title, unit_of(e), quality_of(e), fp, results))
    return Case(lm.name, scan, list(lm.class_names), probs, verdict, maps, series)


def stored_trust(lm, explanations, compute: bool = False) -> dict:
    """{map SHA-256: [MetricResult]} from ``xai_core.trust.card``; with ``compute=False`` only the cards already
    on disk (those a page has shown), so building a report never starts a costly metric."""
    out = {}
    try:
        from ..trust import card
    except ImportError:  # an installation without the trust metrics
        return out
    for e in explanations:
        try:
            results = card(lm, e.image, e, compute=compute)
        except Exception:  # a metric that cannot run on this map leaves the card out, not the report
            continue
        if results:
            out[fingerprint(e.values)] = list(results.values())
    return out


def check_domain(lm, image) -> Verdict:
    from ..domain import check_images, ood_detector
    from ..errors import XAIError

    try:
        return Verdict.from_check(check_images(ood_detector(lm), lm, [image]))
    except XAIError as exc:
        return Verdict.unavailable(str(exc))


def parameter_rows(cases: list[Case]) -> list[dict]:
    rows = []
    for c in cases:
        for m in c.maps:
            e = m.explanation
            rows.append({"model": c.model_name, "scan": c.scan.source, "map": m.title, "method": e.method,
                         "output space": e.output_space, "classes": ", ".join(e.class_names),
                         "parameters": json.dumps(e.params, sort_keys=True, default=str),
                         "forward passes": e.backend_label,
                         "seconds": f"{e.seconds:.2f}", "map SHA-256": m.fingerprint})
    return rows


def build(cases: list[Case], models: list, command: str, title: str = "Case report", kind: str = "case",
          notes: list[tuple[str, str]] | None = None, identifiers: dict[str, str] | None = None,
          guard: dict[str, str] | None = None, now: _dt.datetime | None = None) -> Report:
    """Assemble a ``Report``. ``identifiers`` (shown) only when the user asked; ``guard`` (scrubbed) otherwise."""
    from ..models import as_model

    seen, cards = set(), []
    for m in models:
        lm = as_model(m)
        if lm.name not in seen:
            seen.add(lm.name)
            cards.append(model_card(lm))
    for c in cases:
        c.scan.dicom = safe_info(c.scan.dicom)
    now = now or _dt.datetime.now(_dt.timezone.utc)
    privacy = ("Identifiers were included at the user's request for this report only." if identifiers else
               "De-identified: no DICOM identifying attribute (DICOM PS3.15 Annex E, basic profile) is printed, "
               "and the file name comes from a hash, not from the scan's name.") + " " + BURNED_IN_NOTE
    return Report(title=title, created=now.strftime("%Y-%m-%d %H:%M UTC"), version=__version__, cases=cases,
                  model_cards=cards, parameters=parameter_rows(cases), versions=versions(), command=command,
                  kind=kind, notes=list(notes or []), identifiers=dict(identifiers) if identifiers else None,
                  guard=guard, privacy=privacy)
