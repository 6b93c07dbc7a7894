"""Trust evidence for maps: the trust card of one map, and the methods x metrics table of a dataset.

``card`` runs the registered metrics on one explanation through the disk
cache (a costly metric computed once is served from disk afterwards);
``card_metrics`` picks the 3-5 cheap ones a card shows by default, from what
each metric declares (its place on the card, the region its mask must show,
whether it applies to the method).
``evaluate_methods`` is the dataset-scale question ("which method can I
trust on these scans?"): a function over a list of image indices, so a
parallel audit engine can take the per-scan loop over later without
changing its callers; it returns per-scan rows and a summary with
bootstrap 95% intervals.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import gates, regions
from .cache import DEFAULT_CACHE, DiskCache, library_versions, make_key
from .models.openvino_backend import cache_key_part
from .data.images import image_hash
from .errors import InputError
from .explanation import Explanation
from .metrics import METRICS, MetricResult
from .models import as_model
from .params import Progress

MAX_CARD = 5


def explanation_hash(e: Explanation) -> str:
    """What determines a map's metrics: its values, method, parameters, output space and classes."""
    h = hashlib.sha256(np.ascontiguousarray(e.values, np.float64).tobytes())
    h.update(json.dumps([e.method, e.params, e.output_space, e.class_indices.tolist()], sort_keys=True,
                        default=str).encode())
    return h.hexdigest()


def card_metrics(explanation: Explanation, mask=None) -> list[str]:
    """The cheap metrics a trust card shows by default, read from the registry: those that declare a
    place on the card (``Metric.card``), in that order, less those that need a finding mask when none is
    given and those that do not apply to the method (``Metric.applies``); at most ``MAX_CARD``."""
    has_mask = mask is not None and bool(np.asarray(mask).any())
    chosen = sorted(((m.card, n) for n, m in METRICS.items() if m.card is not None and m.cost == "cheap"
                     and (not m.needs_mask or (has_mask and m.region == "finding"))
                     and m.applies(explanation) is None))
    return [n for _, n in chosen][:MAX_CARD]


def costly_metrics() -> list[str]:
    return [n for n, m in METRICS.items() if m.cost == "costly"]


def parse_metrics(text: str | None, explanation=None, mask=None) -> list[str]:
    """Metric names from "a,b,c" (checked against the registry); None = every registered metric."""
    if text is None:
        return METRICS.names()
    names = [t.strip() for t in str(text).split(",") if t.strip()]
    if not names:
        raise InputError("Name at least one metric.")
    for n in names:
        METRICS.get(n)  # unknown names raise with a suggestion
    return list(dict.fromkeys(names))


def card(model, image, explanation: Explanation, metrics: list[str] | None = None, mask=None,
         params: dict | None = None, cache: DiskCache | None = DEFAULT_CACHE,
         progress: Progress | None = None, compute: bool = True, out_of_domain: bool = False,
         masks: dict | None = None) -> dict[str, MetricResult]:
    """{metric: MetricResult} for one map; ``metrics`` defaults to ``card_metrics``; ``params`` maps a
    metric name to its parameters. Results are cached on disk by model, image, map, mask and parameters;
    with ``compute=False`` only the results already on disk come back (a costly check run once shows
    again without a click).

    ``mask`` is the finding (lesion) mask; ``masks`` adds masks of other regions by name
    (``xai_core.regions``: ``{"artefact": marker mask}``). Each metric reads only its own region's mask
    and reads ``not applicable`` where that region has none.

    No verdict is given on evidence that cannot be read (``xai_core.gates``): for a scan flagged
    ``out_of_domain``, a model whose output does not move, or a negligible map, every result reads
    ``not applicable: <why>``, with the computed one kept for those who ask (``gates.withheld``).
    """
    lm = as_model(model)
    x = np.asarray(lm.prepare(image) if explanation.image is None else explanation.image, np.float32)
    if explanation.image is not None:
        gates.stamp(lm, explanation)
    names = card_metrics(explanation, mask) if metrics is None else list(metrics)
    params = params or {}
    out = {}
    e_hash = explanation_hash(explanation)
    by_region = {regions.FINDING: mask, **(masks or {})}
    for i, name in enumerate(names):
        metric = METRICS.get(name)
        p = metric.validate(params.get(name, {}))
        why = regions.missing(metric, by_region)
        if why:
            out[name] = metric.not_applicable(why)
            continue
        m = regions.mask_for(metric, by_region)
        m_hash = None if m is None else hashlib.sha256(
            np.ascontiguousarray(np.asarray(m, bool)).tobytes()).hexdigest()

        def step(f, msg, i=i, name=name):
            if progress is not None:
                progress(min(1.0, (i + f) / len(names)), f"{METRICS.get(name).display_name}: {msg}")

        def run(metric=metric, p=p, step=step, m=m):
            return metric(lm, x, explanation, m, progress=step, **p)

        if cache is None:
            if compute:
                out[name] = run()
            continue
        key = make_key(kind="metric", model=lm.file_hash, image=image_hash(x), explanation=e_hash, mask=m_hash,
                       metric=name, metric_version=metric.version, params=p, versions=library_versions(),
                       **cache_key_part(lm.backend()))  # perturbation passes in bf16 are approximate
        if not compute:
            hit = cache.lookup(key, "metrics", MetricResult.load)
            if hit is not None:
                out[name] = hit
            continue
        out[name], _ = cache.get_or_compute(key, "metrics", run, MetricResult.load, lambda r, path: r.save(path))
    if progress is not None:
        progress(1.0, "done")
    return gates.withhold(out, gates.reason(explanation, out_of_domain))


def lesion_scans(dataset, split: str = "test", n: int = 16) -> list[int]:
    """The first ``n`` scans of a split that have a non-empty lesion mask (the page's default set)."""
    s = dataset.split(split)
    if s.masks is None:
        return list(range(min(n, len(s))))
    return [int(i) for i in np.flatnonzero(s.masks.reshape(len(s), -1).any(1))[:n]]


def bootstrap_ci(values, n_boot: int = 1000, seed: int = 0) -> tuple[float, float, float]:
    """(mean, 2.5th, 97.5th percentile of the bootstrap means); NaNs are left out."""
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return float("nan"), float("nan"), float("nan")
    if len(v) == 1:
        return float(v[0]), float(v[0]), float(v[0])
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, len(v), (n_boot, len(v)))].mean(1)
    return float(v.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


@dataclass
class MethodsTable:
    rows: pd.DataFrame  # one row per method, scan and metric
    summary: pd.DataFrame  # one row per method and metric: mean, 95% interval, best
    better: dict[str, str]  # metric -> "higher"/"lower"
    excluded: dict[str, str] = field(default_factory=dict)  # method -> why it is left out of the ranking

    def to_json(self) -> str:
        return json.dumps({"summary": self.summary.to_dict("records"), "rows": self.rows.to_dict("records"),
                           "better": self.better, "excluded": self.excluded},
                          default=lambda o: None if o is pd.NA else str(o))

    def exports(self, settings: dict) -> dict[str, str]:
        """The summary, the per-scan rows and everything as JSON, each carrying ``settings`` (model, dataset,
        output space, scans, methods, metrics) and named after them, as Compare's and Audit's exports are:
        {file name: content}."""
        def part(v) -> str:
            text = "-".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v)
            return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")

        n = len(settings.get("scans", []))
        stem = "_".join(["trust", part(settings.get("model", "model")), part(settings.get("dataset", "data")),
                         f"{n}scans", part(settings.get("output space", "")), part(settings.get("methods", []))])
        stem = stem[:150]  # a readable name; the full settings are inside the files
        flat = {f"setting: {k}": ", ".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v)
                for k, v in settings.items()}
        from .exports import csv_text  # formula-looking text cells escaped, as in every export

        return {f"{stem}_summary.csv": csv_text(self.summary.assign(**flat)),
                f"{stem}_rows.csv": csv_text(self.rows.assign(**flat)),
                f"{stem}.json": json.dumps({"settings": settings, **json.loads(self.to_json())},
                                           default=str)}

    def wide(self) -> pd.DataFrame:
        """Methods x metrics: "mean [lo, hi]" cells."""
        s = self.summary
        cell = s.apply(lambda r: f"{r['mean']:.3f} [{r['low']:.3f}, {r['high']:.3f}]" if np.isfinite(r["mean"])
                       else "n/a", axis=1)
        return s.assign(cell=cell).pivot(index="method", columns="metric", values="cell")


def evaluate_methods(model, dataset, indices: list[int], methods: dict[str, dict], metrics: list[str],
                     split: str = "test", output: str = "margin", cache: DiskCache | None = DEFAULT_CACHE,
                     progress: Progress | None = None, n_boot: int = 1000, seed: int = 0) -> MethodsTable:
    """Every method on every scan ``indices`` of ``dataset`` (name or Dataset), scored by every metric.

    ``methods`` maps a registered explainer to its parameters. Each scan is explained for the model's
    predicted class; its lesion mask, where the dataset has one, feeds the localisation metrics.
    """
    from . import api
    from .data import load_dataset

    lm = as_model(model)
    ds = load_dataset(dataset) if isinstance(dataset, str) else dataset
    s = ds.split(split)
    if not indices:
        raise InputError("Pick at least one scan.")
    if not methods:
        raise InputError("Pick at least one method.")
    for m in metrics:
        METRICS.get(m)
    flags = _domain_flags(lm, [int(i) for i in indices], [ds.image(split, int(i)) for i in indices])
    rows, jobs = [], [(m, int(i)) for m in methods for i in indices]
    for j, (method, i) in enumerate(jobs):
        image = ds.image(split, i)
        by_region = regions.dataset_regions(ds, split, i)

        def step(f, msg, j=j, method=method, i=i):
            if progress is not None:
                progress(min(1.0, (j + f) / len(jobs)), f"{method} on scan #{i} ({j + 1} of {len(jobs)}): {msg}")

        e = api.explain(lm, image, method=method, output=output, top_k=1, cache=cache,
                        progress=lambda f, msg: step(0.5 * f, msg), **methods[method])
        results = card(lm, e.image, e, metrics, mask=by_region[regions.FINDING], masks=by_region, cache=cache,
                       out_of_domain=flags.get(i, False),
                       progress=lambda f, msg: step(0.5 + 0.5 * f, msg))
        for name, r in results.items():
            rows.append({"method": method, "scan": i, "true class": ds.class_names[s.labels[i]],
                         "explained class": e.class_names[0], "metric": name, "value": r.value,
                         "verdict": r.verdict, "chance": r.chance, "withheld": gates.reason_of(r)})
    df = pd.DataFrame(rows)
    better = {m: METRICS.get(m).better for m in metrics}
    summary = []
    for (method, metric), g in df.groupby(["method", "metric"], sort=False):
        mean, lo, hi = bootstrap_ci(g["value"], n_boot, seed)
        summary.append({"method": method, "metric": metric, "mean": mean, "low": lo, "high": hi,
                        "scans": int(np.isfinite(g["value"].astype(float)).sum()),
                        "passed": float((g["verdict"] == "pass").mean())})
    sm = pd.DataFrame(summary)
    sm["best"] = False
    for metric, g in sm.groupby("metric"):
        g = g[np.isfinite(g["mean"])]
        if len(g):
            best = g["mean"].idxmax() if better[metric] == "higher" else g["mean"].idxmin()
            sm.loc[best, "best"] = True
    return MethodsTable(df, sm, better, excluded_methods(df))


def excluded_methods(rows: pd.DataFrame) -> dict[str, str]:
    """{method: one line} for the methods none of whose results may be read (every one withheld by a gate):
    they are left out of the ranking, and this says why."""
    out = {}
    if "withheld" not in rows:
        return out
    for method, g in rows.groupby("method", sort=False):
        why = g["withheld"].fillna("")
        if len(g) and (why != "").all():
            common = why.mode().iloc[0]
            out[method] = (f"left out of the ranking: on every one of its {g['scan'].nunique()} scans {common}"
                           + ("" if why.nunique() == 1 else " (or another reason to withhold)") + ".")
    return out


def _domain_flags(lm, indices: list[int], images) -> dict:
    """{scan index: flagged} for the images, from the model's out-of-domain check; {} where it has none."""
    from .domain import check_images, ood_detector
    from .errors import XAIError

    try:
        check = check_images(ood_detector(lm), lm, images)
    except XAIError:
        return {}
    return {i: bool(f) for i, f in zip(indices, check.flags)}
