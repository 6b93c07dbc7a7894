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
    """One widget for one ``Param``; ``value`` overrides its default (e.g. a page's own default).

    A value already in session_state under ``key`` (kept across pages) wins: the widget then gets no
    default of its own, since passing both makes Streamlit warn."""
    v = p.default if value is None else value
    kept = key in st.session_state and p.type is not dict
    if kept:
        v = st.session_state[key]

    def default(**given):  # the widget's own default, only when nothing is kept
        return {} if kept else given

    if p.type is bool:
        return container.checkbox(_label(p), help=p.help, key=key, **default(value=bool(v)))
    if p.choices:
        options = list(p.options)
        if v not in options:
            options.insert(0, v)  # a value the pattern admits (e.g. a grey level) stays selectable
        return container.selectbox(_label(p), options, help=p.help, key=key, **default(index=options.index(v)))
    if p.type in (int, float):
        lo = None if p.min is None else p.type(p.min)
        hi = None if p.max is None else p.type(p.max)
        step = 1 if p.type is int else (0.01 if abs(float(v)) < 1 else 0.1)
        return container.number_input(_label(p), min_value=lo, max_value=hi, step=step, help=p.help, key=key,
                                      **default(value=p.type(v)))
    if p.type is dict:
        text = ", ".join(f"{k}={x}" for k, x in (v or {}).items())
        raw = container.text_input(_label(p), value=text, help=f"{p.help} Write name=value, comma-separated.",
                                   key=key)
        out = {}
        for part in filter(None, (s.strip() for s in raw.split(","))):
            name, _, val = part.partition("=")
            out[name.strip()] = val.strip()
        return out
    return container.text_input(_label(p), help=p.help, key=key, **default(value=str(v)))


def param_form(params, key: str, container=st, columns: int = 3, values: dict | None = None,
               keep: bool = False) -> dict:
    """Widgets for ``params`` (explainer's or segmenter's), laid out in ``columns``; returns name -> value.

    ``values`` are the page's own defaults (by parameter name; the Param's limits still apply). With
    ``keep`` the choices survive a visit to another page (``jobs.keep``). A ``segmenter`` choice with a
    ``segmenter_params`` dict beside it shows the chosen segmenter's own parameters (from its registry
    entry) instead of a text box.
    """
    from xai_core.segmenters import SEGMENTERS

    values = values or {}
    if keep:
        from pages._ui.jobs import keep as keep_value

        for p in params:
            if p.type is not dict:
                keep_value(f"{key}_{p.name}", values.get(p.name, p.default))
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
        out["segmenter_params"] = param_form(seg.params, f"{key}_{seg.name}", container, columns, given, keep)
    return out


def method_picker(container=st, key: str = "method", default: str | None = None, label: str = "Method") -> str:
    """A choice among every registered explainer (so a new method is offered with no page edit); the first
    featured method (``xai_core.explainers.featured``) unless ``default`` says otherwise."""
    from xai_core.explainers import EXPLAINERS, featured

    names = EXPLAINERS.names()
    default = default or (featured(1) or names)[0]
    # a value already in session_state (kept across pages) wins; passing a default too makes Streamlit warn
    index = 0 if key in st.session_state or default not in names else names.index(default)
    return container.selectbox(label, names, index=index, key=key,
                               format_func=lambda n: EXPLAINERS.get(n).display_name,
                               help="Any registered explanation method; see the Methods side by side page.")


def budget_values(method: str, share: float = 1.0) -> dict:
    """``{budget parameter: share of its default}`` for a method that declares a budget
    (``Explainer.budget_param``: SHAP's evaluations, LIME's samples, RISE's masks), else ``{}``: a page's
    cheaper setting for many scans, without naming a method or a parameter. Kept within the Param's range."""
    from xai_core.explainers import EXPLAINERS

    cls = EXPLAINERS.get(method)
    p = next((p for p in cls.params if p.name == cls.budget_param), None)
    if p is None:
        return {}
    return {p.name: p.check(max(p.min or 1, int(round(p.default * share))))}
