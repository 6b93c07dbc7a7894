"""Progressive maps: the final step is the one-shot map, bit for bit; the schedule's cost is bounded."""

import numpy as np
import pytest

from conftest import tiny_loaded
from xai_core import explain
from xai_core.errors import InputError
from xai_core.progressive import explain_progressive, overhead, rank_agreement, schedule


def test_schedule_ends_at_budget_and_costs_at_most_a_third_more():
    assert schedule(1000) == [62, 250, 1000]
    assert schedule(1000, minimum=300) == [1000]
    assert schedule(10_000) == [625, 2500, 10_000]
    assert schedule(100) == [100]  # nothing smaller than the floor
    assert overhead(schedule(10_000)) == pytest.approx(1 + 1 / 16 + 1 / 4)
    assert overhead([1000]) == 1.0
    with pytest.raises(InputError):
        schedule(1000, ratio=1)


@pytest.mark.parametrize("method,params", [
    ("shap-partition", {"max_evals": 400, "masker": "blur(4,4)", "seed": 3}),
    ("lime", {"num_samples": 400, "segmenter": "slic", "seed": 3}),
])
def test_final_step_equals_one_shot_bit_for_bit(method, params):
    lm = tiny_loaded()
    rng = np.random.default_rng(0)
    img = rng.uniform(0, 255, (16, 16, 1)).astype(np.float32)
    steps = list(explain_progressive(lm, img, method, "margin", top_k=2, cache=None, **params))
    one = explain(lm, img, method, "margin", top_k=2, cache=None, **params)
    budget = [p for p in params if p in ("max_evals", "num_samples")][0]
    assert [s.budget for s in steps] == schedule(params[budget])
    assert steps[-1].final and not steps[0].final
    np.testing.assert_array_equal(steps[-1].explanation.values, one.values)
    np.testing.assert_array_equal(steps[-1].explanation.base_values, one.base_values)
    assert steps[0].agreement is None
    assert all(-1 <= s.agreement <= 1 for s in steps[1:])
    # the early steps really are coarser runs, not copies of the final one
    assert not np.array_equal(steps[0].explanation.values, one.values)


def test_a_cached_final_map_is_shown_at_once_without_coarse_steps(tmp_path):
    from xai_core.cache import DiskCache

    cache = DiskCache(tmp_path)
    lm = tiny_loaded()
    img = np.random.default_rng(1).uniform(0, 255, (16, 16, 1)).astype(np.float32)
    first = list(explain_progressive(lm, img, "shap-partition", "margin", top_k=2, cache=cache, max_evals=800))
    assert len(first) == 3 and not first[-1].explanation.cached
    again = list(explain_progressive(lm, img, "shap-partition", "margin", top_k=2, cache=cache, max_evals=800))
    assert len(again) == 1 and again[0].final and again[0].budget == 800 and again[0].explanation.cached
    np.testing.assert_array_equal(again[0].explanation.values, first[-1].explanation.values)
    assert explain(lm, img, "shap-partition", "margin", top_k=2, cache=cache, cached_only=True,
                   max_evals=900) is None  # nothing computed for a budget never asked for


def test_rank_agreement_is_one_for_the_same_map_and_minus_one_reversed():
    lm = tiny_loaded()
    img = np.random.default_rng(1).uniform(0, 255, (16, 16, 1)).astype(np.float32)
    e = explain(lm, img, "shap-partition", "margin", top_k=1, cache=None, max_evals=200)
    assert rank_agreement(e, e) == pytest.approx(1.0)
    import copy

    r = copy.deepcopy(e)
    r.values = -r.values
    assert rank_agreement(e, r) == pytest.approx(-1.0)


def test_shap_page_refines_progressively_and_ends_on_the_one_shot_maps():
    """The page draws coarse maps first; what it keeps is exactly the non-progressive map."""
    from streamlit.testing.v1 import AppTest

    import xai_core as xc
    from tests.conftest import ROOT

    at = AppTest.from_file(str(ROOT / "pages/shap_margin_vs_probability.py"), default_timeout=300).run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    shown = at.session_state["shap_mvp_result"]
    ds = xc.load_dataset("synthetic-brain-mri")
    for space in ("margin", "probability"):
        one = xc.explain("brain-basic-cnn", ds.image("test", 0), "shap-partition", space, top_k=4, cache=None,
                         max_evals=1000, masker="blur(20,20)", seed=0)
        np.testing.assert_array_equal(shown[space].values, one.values)
    # every step of the schedule went through the disk cache, coarse ones included
    for b in schedule(1000)[:-1]:
        e = xc.explain("brain-basic-cnn", ds.image("test", 0), "shap-partition", "margin", top_k=4,
                       max_evals=b, masker="blur(20,20)", seed=0)
        assert e.cached
