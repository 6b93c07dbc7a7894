"""How big is a map? The test for maps that say nothing, and an absolute colour scale.

An attribution map shares out a change of the model's output among the pixels,
so its size can be judged against the *scale of that output*:

* probability space: a probability spans 0 to 1, so the scale is 1.0;
* margin (logit) space has no fixed range; we take 1 logit as the unit (it
  multiplies the class's odds by e, about 2.7, a change anyone would call
  large), so the scale is 1.0 logit there too.

**Negligible rule.** A class's map is negligible when the total absolute
attribution, sum over pixels of |value|, is below ``NEGLIGIBLE_FRACTION``
(1%) of that scale. The total bounds what the pixels can do together: for
an additive method (SHAP: base + sum = output) no subset of pixels can move
the output by more than the total, so below 0.01 probability (or 0.01 logit,
a 1% change in the odds) hiding the whole scan changes the answer by less
than one percentage point; whatever pattern is drawn is noise of the
estimator, not evidence. Such a map must be drawn faintly and said in words,
never stretched to full colour (issue 11: an MR in probability space was drawn
saturated on a colour bar of -1e-6 to 1e-6).

**A model whose output does not move.** ``xai_core.gates.output_spread``
(stamped into ``Explanation.info`` by ``api.explain``) is how far the
explained class's score moves over the scan and drastic alterations of it.
Below the same 1% of the scale, no map of that class can hold evidence,
whatever its own size (normalising methods stretch noise to full colour), so
``negligible`` counts it too.

**Absolute scale.** Auto-scaled colour bars make every map look equally
strong. ``absolute_limit`` fixes full colour at ``ABSOLUTE_SHARE`` times a
pixel's even share of one scale unit (1 / number of pixels), so the same
colour means the same amount of output on every map of that space and size.
"""

from __future__ import annotations

import numpy as np

from .explanation import Explanation

NEGLIGIBLE_FRACTION = 0.01
ABSOLUTE_SHARE = 20.0
FAINT_STRETCH = 10.0  # a map that says nothing reaches at most a tenth of full colour
OUTPUT_SCALE = {"probability": 1.0, "margin": 1.0}
UNIT_WORDS = {"probability": "probability", "margin": "logit"}


def output_scale(expl: Explanation) -> float:
    """The scale the map is judged against, in the output's own unit (see the module docstring)."""
    return OUTPUT_SCALE.get(expl.output_space, 1.0)


def total_attribution(expl: Explanation) -> np.ndarray:
    """(K,) sum over pixels and channels of |value| per explained class."""
    return np.abs(expl.values).reshape(len(expl.values), -1).sum(1)


def max_pixel(expl: Explanation) -> np.ndarray:
    """(K,) the largest |value| of one pixel (channels summed) per explained class."""
    return np.abs(expl.maps()).reshape(len(expl.values), -1).max(1, initial=0.0)


def flat_output(expl: Explanation, fraction: float = NEGLIGIBLE_FRACTION) -> np.ndarray:
    """(K,) bool: the model's score for the class does not move on this scan (``gates.output_spread``
    below ``fraction`` of the scale); all False where the spread was never measured."""
    spread = expl.info.get("output_spread") if isinstance(expl.info, dict) else None
    if spread is None or len(spread) != len(expl.values):
        return np.zeros(len(expl.values), bool)
    return np.asarray(spread, np.float64) < fraction * output_scale(expl)


def negligible(expl: Explanation, fraction: float = NEGLIGIBLE_FRACTION) -> np.ndarray:
    """(K,) bool: the class's total |attribution| is below ``fraction`` of the output scale, or the
    model's output for it does not move at all (``flat_output``)."""
    return (total_attribution(expl) < fraction * output_scale(expl)) | flat_output(expl, fraction)


def threshold(expl: Explanation, fraction: float = NEGLIGIBLE_FRACTION) -> float:
    return fraction * output_scale(expl)


def negligible_message(expl: Explanation, k: int, fraction: float = NEGLIGIBLE_FRACTION) -> str:
    """One plain sentence for class ``k`` when its map is negligible, else ''."""
    if not negligible(expl, fraction)[k]:
        return ""
    unit = UNIT_WORDS.get(expl.output_space, expl.output_space)
    what = "probability" if expl.output_space == "probability" else "score (logit)"
    if flat_output(expl, fraction)[k]:
        return (f"{expl.class_names[k]}: this map says nothing. The model's {what} for this class hardly moves "
                f"on this scan: blacking it out, inverting it or replacing it with noise changes it by at most "
                f"{expl.info['output_spread'][k]:.1g} {unit}, below the {threshold(expl, fraction):g} {unit} we "
                "count as a real effect. It is drawn faintly, on the absolute scale, and earns no verdict.")
    return (f"{expl.class_names[k]}: this map says nothing. No pixel moves this class's {what} by more than "
            f"{max_pixel(expl)[k]:.1g} {unit}, and all pixels together by at most "
            f"{total_attribution(expl)[k]:.1g}, below the {threshold(expl, fraction):g} {unit} "
            "we count as a real effect; it is drawn faintly, on the absolute scale.")


def absolute_limit(expl: Explanation) -> float:
    """Colour limit of the absolute scale: ``ABSOLUTE_SHARE`` x one unit spread evenly over the pixels."""
    h, w = expl.values.shape[1:3]
    return ABSOLUTE_SHARE * output_scale(expl) / max(1, h * w)


def faint_limit(expl: Explanation, auto: float) -> float:
    """The colour limit of maps that say nothing: the absolute one, and at least ``FAINT_STRETCH`` x their
    own largest values, so a map normalised by its method (Grad-CAM, XRAI) stays faint too."""
    return max(FAINT_STRETCH * float(auto), absolute_limit(expl))


def colour_limit(expl: Explanation, auto: float, absolute: bool = False) -> float:
    """The colour limit to draw with: the absolute one on request, and ``faint_limit`` when every map shown
    is negligible (noise is not stretched to full colour)."""
    floor = absolute_limit(expl)
    if bool(np.all(negligible(expl))):
        return faint_limit(expl, auto)
    if absolute:
        return floor
    return auto
