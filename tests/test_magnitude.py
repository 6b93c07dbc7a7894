"""Maps that say nothing must say so (issue 11, item 3): the negligible rule and the colour limit."""

import numpy as np

from xai_core import Explanation, plots
from xai_core.magnitude import (NEGLIGIBLE_FRACTION, absolute_limit, colour_limit, negligible,
                                negligible_message)


def _expl(values, space="probability"):
    v = np.asarray(values, np.float64)[..., None]  # (K, H, W, 1)
    k = len(v)
    return Explanation(values=v, base_values=np.zeros(k), output_values=v.reshape(k, -1).sum(1),
                       class_indices=np.arange(k), class_names=[f"c{i}" for i in range(k)],
                       output_space=space, method="test", params={})


def test_negligible_is_judged_on_total_attribution_against_the_output_scale():
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(8, 8))
    just_below = noise / np.abs(noise).sum() * NEGLIGIBLE_FRACTION * 0.99
    just_above = noise / np.abs(noise).sum() * NEGLIGIBLE_FRACTION * 1.01
    e = _expl([just_below, just_above])
    assert list(negligible(e)) == [True, False]
    assert "says nothing" in negligible_message(e, 0) and negligible_message(e, 1) == ""
    assert f"{np.abs(just_below).max():.1g}" in negligible_message(e, 0)  # the largest pixel, in words
    # the same numbers in margin space: 1 logit is the unit, so the verdict is the same
    assert list(negligible(_expl([just_below, just_above], "margin"))) == [True, False]


def test_noise_is_not_stretched_to_full_colour():
    tiny = _expl([np.full((8, 8), 1e-6) * np.sign(np.arange(64).reshape(8, 8) % 2 - 0.5)])
    auto = plots.symmetric_limit(tiny.maps())
    assert auto < 2e-6  # the old figure put full red at 1e-6
    assert colour_limit(tiny, auto) == absolute_limit(tiny) == 20.0 / 64
    fig = plots.explanation_figure(tiny)
    assert fig.layout.coloraxis.cmax == absolute_limit(tiny)
    assert "negligible" in fig.layout.annotations[0].text
    strong = _expl([np.eye(8) * 0.2])
    assert colour_limit(strong, 0.2) == 0.2 and colour_limit(strong, 0.2, absolute=True) == absolute_limit(strong)
