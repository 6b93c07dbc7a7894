"""Our localisation metrics against Quantus 0.6.0's values on the same maps and masks (issue 22 item 10).

The fixture (``tests/fixtures/quantus/reference.npz``) was written by ``make_reference.py`` beside it,
run in its own virtualenv with Quantus 0.6.0; this test needs no Quantus. The maps are continuous (no
ties), where the definitions match; the README lists the conventions that differ (ties, signed mass).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from xai_core.metrics import METRICS

from test_trust_metrics import _expl, linear_loaded

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "quantus" / "reference.npz"


@pytest.fixture(scope="module")
def reference():
    with np.load(FIXTURE, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


@pytest.mark.parametrize("name, key", [("pointing-game", "pointing_game"), ("relevance-rank", "relevance_rank"),
                                       ("relevance-mass", "relevance_mass")])
def test_localisation_metrics_equal_quantus_where_definitions_match(reference, name, key):
    assert str(reference["quantus_version"]) == "0.6.0"
    maps, masks = reference["maps"], reference["masks"]
    lm = linear_loaded(maps.shape[1:] + (1,))
    x = np.zeros(maps.shape[1:] + (1,), np.float32)
    ours = [METRICS.get(name)(lm, x, _expl(lm, x, m[..., None]), mask).value for m, mask in zip(maps, masks)]
    np.testing.assert_allclose(ours, reference[key].astype(np.float64), atol=1e-6)
    assert len(set(np.round(ours, 6))) > 1  # the fixture's maps differ in how well they localise


def test_deletion_curve_equals_quantus_pixel_flipping(reference):
    """Quantus's PixelFlipping (16 pixels a step, black baseline, softmax) on the shipped mnist-cnn: our
    deletion curve at 49 steps of a 784-pixel digit, with a black reference image, is the same curve (ours
    also holds the unperturbed score at 0%)."""
    import xai_core as xc

    lm = xc.load_model("mnist-cnn")
    for scan, m, label, curve in zip(reference["scans"], reference["flip_maps"], reference["labels"],
                                     reference["pixel_flipping"]):
        x = np.asarray(scan, np.float32)
        probs = lm.forward_image(x)[1]
        e = xc.Explanation(values=m[None, ..., None], base_values=[0.0], output_values=[probs[label]],
                           class_indices=[int(label)], class_names=[lm.class_names[int(label)]],
                           output_space="probability", method="test-none", params={}, image=x,
                           extras={"baseline": np.zeros_like(x)})
        r = METRICS.get("deletion")(lm, x, e, steps=49, random_orders=2, max_random_orders=2)
        np.testing.assert_allclose(r.details["curve"][1:], curve, atol=1e-6)
