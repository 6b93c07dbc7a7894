"""Cached calls and figures for the "find a shortcut" page."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

import xai_core as xc
from pages._ui import cached
from pages._ui.forms import budget_values
from pages._ui.render import progress_bar
from xai_core import config

SHIPPED = Path(__file__).resolve().parents[2] / "assets" / "shortcut"
FAST_SHARE = 0.3  # the fast audit: each sampling method at 30% of its usual budget (SHAP: 300 evaluations)


@st.cache_data(show_spinner=False, max_entries=16)
def recall_drop(model_name: str, model_hash: str, dataset_name: str, backend: str = "") -> dict:
    """``backend``: the session's (``cached.backend``), so approximate bf16 figures are cached apart."""
    from xai_core.shortcut import recall_drop as run

    with progress_bar("Scoring the model with and without the shortcut…") as progress:
        return run(cached.model(model_name), dataset_name, progress=progress)


@st.cache_data(show_spinner=False, max_entries=16)
def failures(model_name: str, model_hash: str, dataset_name: str, backend: str = "") -> list[dict]:
    from xai_core.shortcut import clean_failures

    return clean_failures(cached.model(model_name), dataset_name)


def shipped_audit(model_name: str, dataset_name: str) -> dict | None:
    """The audit shipped in ``assets/shortcut/DATASET.json`` for this very model file, if there is one."""
    path = SHIPPED / f"{dataset_name}.json"
    if not path.exists():
        return None
    lm = cached.model(model_name)
    try:
        rows = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return next((r["audit"] for r in rows if r["audit"].get("model_hash") == lm.file_hash), None)


@st.cache_data(show_spinner=False, max_entries=16)
def _audit(model_name: str, model_hash: str, dataset_name: str, methods: tuple, n: int, fast: bool,
           backend: str = "") -> dict:
    from xai_core.shortcut import audit as run

    params = {m: budget_values(m, FAST_SHARE) for m in methods} if fast else None
    with progress_bar("Explaining the scans that carry the shortcut…") as progress:
        return run(cached.model(model_name), dataset_name, list(methods), n=n, params=params, progress=progress)


def audit(model_name: str, dataset_name: str, methods: list[str], n: int, fast: bool = False,
          allow_compute: bool = True) -> dict | None:
    """Shipped figures where they exist for this model, else computed (and cached), else None."""
    hit = shipped_audit(model_name, dataset_name)
    if hit is not None and {r["method"] for r in hit["methods"]} >= set(methods):
        return hit
    if not allow_compute:
        return None
    return _audit(model_name, cached.model(model_name).file_hash, dataset_name, tuple(methods), int(n), fast,
                  cached.backend(model_name))


def recall_figure(drop: dict) -> go.Figure:
    names = [r["class"] for r in drop["per_class"]]
    fig = go.Figure([
        go.Bar(name=f"with the shortcut ({drop['tagged_split']})", x=names,
               y=[r["recall_tagged"] for r in drop["per_class"]], marker_color="#7f8c8d",
               hovertemplate="%{x}: recall %{y:.1%}<extra>with the shortcut</extra>"),
        go.Bar(name=f"without it ({drop['clean_split']})", x=names,
               y=[r["recall_clean"] for r in drop["per_class"]], marker_color="#ff0d57",
               hovertemplate="%{x}: recall %{y:.1%}<extra>without the shortcut</extra>")])
    fig.update_layout(barmode="group", height=300, margin=dict(l=10, r=10, t=30, b=10),
                      yaxis=dict(range=[0, 1], tickformat=".0%", title="recall (share of the class found)"),
                      legend=dict(orientation="h", y=1.12))
    return fig


def audit_figure(rows: list[dict]) -> go.Figure:
    methods = [r["method"] for r in rows]
    fig = go.Figure([
        go.Bar(name="on the marker (lower is better)", x=methods, y=[r["marker_share"] for r in rows],
               marker_color="#ff0d57", hovertemplate="%{x}: %{y:.1%} of the positive evidence on the marker"
                                                     "<extra></extra>"),
        go.Bar(name="on the lesion (higher is better)", x=methods, y=[r["lesion_focus"] for r in rows],
               marker_color="#1e88e5", hovertemplate="%{x}: %{y:.1%} of the positive evidence on the lesion"
                                                     "<extra></extra>")])
    fig.update_layout(barmode="group", height=300, margin=dict(l=10, r=10, t=30, b=10),
                      yaxis=dict(tickformat=".0%", title="share of positive attribution"),
                      legend=dict(orientation="h", y=1.12))
    return fig


def outline(mask: np.ndarray) -> np.ndarray:
    """The one-pixel rim of a mask, for drawing the marker's outline over a map."""
    from scipy import ndimage

    m = np.asarray(mask, bool)
    return m & ~ndimage.binary_erosion(m)


def related_models(model_name: str) -> dict[str, str]:
    """The model, and its random-erasing baseline and guided retraining where they exist (``NAME-erasing``...)."""
    names = {r["name"] for r in xc.list_models()}
    out = {"shortcut model": model_name}
    for role, suffix in (("random-erasing baseline", "-erasing"), ("guided retraining", "-guided")):
        if model_name + suffix in names:
            out[role] = model_name + suffix
    return out


def live_target(model_name: str) -> Path:
    """Where this session's live retraining is saved: its private area, never the shared library, so no
    other session sees it or overwrites it (the owner can share it from *Your models and data*)."""
    from pages._ui.session import owner

    return config.user_models_dir(owner()) / f"{model_name}-guided-live"
