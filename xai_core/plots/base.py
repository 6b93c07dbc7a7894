"""What every figure shares: the colour scale, colour limits, the background image and units.

Kept apart from ``plots/__init__`` so the figure modules import it, not their package (no cycle).
"""

from __future__ import annotations

import numpy as np

# shap's own red and blue; the middle is transparent so the scan shows through.
SHAP_COLORSCALE = [
    [0.0, "rgba(30,136,229,1.0)"],
    [0.5, "rgba(255,255,255,0.0)"],
    [1.0, "rgba(255,13,87,1.0)"],
]

# LIME's pro/con colours: green supports the class, red speaks against it.
PRO_CON_COLORSCALE = [[0.0, "rgba(214,39,40,0.75)"], [0.5, "rgba(255,255,255,0.0)"], [1.0, "rgba(44,160,44,0.75)"]]

# An explainer names its palette (``Explainer.palette``); figures and reports read the colours and the
# sentence that explains them from here, so a new method needs no branch on its name.
PALETTES = {
    "shap": (SHAP_COLORSCALE, "red raises the class score, blue lowers it"),
    "pro_con": (PRO_CON_COLORSCALE, "green supports the class, red speaks against it"),
}


def palette(method: str) -> tuple[str, list, str]:
    """(palette name, Plotly colour scale, the sentence that explains its colours) for a method's maps."""
    from ..explainers import EXPLAINERS

    declared = EXPLAINERS.get(method).palette if method in EXPLAINERS else "shap"
    if isinstance(declared, (tuple, list)):  # a plug-in's own (Plotly colour scale, sentence)
        scale, words = declared
        return method, list(scale), str(words)
    scale, words = PALETTES.get(declared, PALETTES["shap"])
    return declared, scale, words

UNITS = {"margin": "logit", "probability": "probability"}

# A map that says nothing (``xai_core.magnitude.negligible``: a negligible map, or a model whose output does
# not move) is drawn at this opacity beside others on a shared scale, so normalised noise never looks
# like evidence; hovering still shows its true values.
FAINT_OPACITY = 0.2
FAINT_NOTE = "<br><sup>negligible: says nothing</sup>"
APPROXIMATE_NOTE = "<br><sup>bf16: fast, approximate</sup>"


def approximate_note(expl, short: bool = False) -> str:
    """What a panel of a map computed with bf16 forward passes adds to its title (nothing for fp32)."""
    if expl is None or not getattr(expl, "approximate", False):
        return ""
    return " · bf16, approximate" if short else APPROXIMATE_NOTE


def faint(expl, k: int = 0) -> bool:
    """Whether class ``k``'s map says nothing (drawn faintly)."""
    from ..magnitude import negligible

    return bool(negligible(expl)[k])


def symmetric_limit(maps: np.ndarray, percentile: float = 99.9) -> float:
    """The colour limit shared by a set of maps: a high percentile of |value| (never zero)."""
    a = np.abs(np.asarray(maps, np.float64))
    v = float(np.nanpercentile(a, percentile)) if a.size else 0.0
    return v if v > 0 else float(a.max(initial=0.0)) or 1e-12


def _rgb(image: np.ndarray) -> np.ndarray:
    img = np.clip(np.asarray(image, np.float64), 0, 255).astype(np.uint8)
    return np.repeat(img, 3, axis=-1) if img.shape[-1] == 1 else img[..., :3]


def value_label(expl) -> str:
    """What a map's values mean, for colour bars and hovers: the explainer's declared unit.

    Saved explanations carry it in ``info["unit"]``; older ones fall back to the registry, then to the
    output space alone.
    """
    unit = (expl.info or {}).get("unit")
    if unit:
        return str(unit)
    try:
        from ..explainers import EXPLAINERS

        return EXPLAINERS.get(expl.method).unit_label(expl.output_space)
    except Exception:
        return f"value ({UNITS.get(expl.output_space, expl.output_space)})"
