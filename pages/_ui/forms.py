"""One widget builder for every plug-in's parameters: ``param_form(params)``.

Explainers and segmenters declare ``Param``s (default, type, limits, choices,
help); this turns any list of them into widgets, so a new method or segmenter
gets its settings on every page with no page edit. Values come back as a dict
for ``Explainer.validate`` / ``Segmenter.validate``, which check them again.
"""

from __future__ import annotations

import streamlit as st

from xai_core.params import Param


def _label(p: Param) -> str:
    return p.name.replace("_", " ").capitalize()


def param_widget(p: Param, key: str, container=st, value=None):
    """One widget for one ``Param``; ``value`` overrides its default (e.g. a page's own default)."""
    v = p.default if value is None else value
    if p.type is bool:
        return container.checkbox(_label(p), value=bool(v), help=p.help, key=key)
    if p.choices:
        options = list(p.options)
        if v not in options:
            options.insert(0, v)  # a value the pattern admits (e.g. a grey level) stays selectable
        return container.selectbox(_label(p), options, index=options.index(v), help=p.help, key=key)
    if p.type in (int, float):
        lo = None if p.min is None else p.type(p.min)
        hi = None if p.max is None else p.type(p.max)
        step = 1 if p.type is int else (0.01 if abs(float(v)) < 1 else 0.1)
        return container.number_input(_label(p), min_value=lo, max_value=hi, value=p.type(v), step=step,
                                      help=p.help, key=key)
    if p.type is dict:
        text = ", ".join(f"{k}={x}" for k, x in (v or {}).items())
        raw = container.text_input(_label(p), value=text, help=f"{p.help} Write name=value, comma-separated.",
                                   key=key)
        out = {}
        for part in filter(None, (s.strip() for s in raw.split(","))):
            name, _, val = part.partition("=")
            out[name.strip()] = val.strip()
        return out
    return container.text_input(_label(p), value=str(v), help=p.help, key=key)


def param_form(params, key: str, container=st, columns: int = 3, values: dict | None = None) -> dict:
    """Widgets for ``params`` (explainer's or segmenter's), laid out in ``columns``; returns name -> value.

    A ``segmenter`` choice with a ``segmenter_params`` dict beside it shows the chosen segmenter's own
    parameters (from its registry entry) instead of a text box.
    """
    from xai_core.segmenters import SEGMENTERS

    values = values or {}
    params = list(params)
    names = {p.name for p in params}
    out = {}
    cols = (container.columns(columns) if columns > 1 else [container]) if params else []
    for i, p in enumerate(params):
        if p.name == "segmenter_params" and "segmenter" in names:
            continue
        out[p.name] = param_widget(p, f"{key}_{p.name}", cols[i % columns], values.get(p.name))
    if "segmenter_params" in names and "segmenter" in names:
        seg = SEGMENTERS.get(out["segmenter"])
        given = values.get("segmenter_params") or next(p.default for p in params if p.name == "segmenter_params")
        given = {k: v for k, v in (given or {}).items() if k in {q.name for q in seg.params}}
        container.caption(f"{seg.display_name}: {seg.description}")
        out["segmenter_params"] = param_form(seg.params, f"{key}_{seg.name}", container, columns, given)
    return out


def method_picker(container=st, key: str = "method", default: str = "shap-partition", label: str = "Method") -> str:
    """A choice among every registered explainer (so a new method is offered with no page edit)."""
    from xai_core.explainers import EXPLAINERS

    names = EXPLAINERS.names()
    # a value already in session_state (kept across pages) wins; passing a default too makes Streamlit warn
    index = 0 if key in st.session_state or default not in names else names.index(default)
    return container.selectbox(label, names, index=index, key=key,
                               format_func=lambda n: EXPLAINERS.get(n).display_name,
                               help="Any registered explanation method; see the Methods side by side page.")
