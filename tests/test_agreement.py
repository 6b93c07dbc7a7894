"""Agreement between maps (xai_core.agreement): the one Spearman used by convergence, randomisation,
progressive SHAP and the method comparison."""

import numpy as np
import pandas as pd

from xai_core.agreement import spearman, spearman_matrix
from xai_core.method_comparison import rank_agreement


def _pearson_of_ranks(a, b):
    """Spearman by its definition: Pearson correlation of the average ranks (ties share their mean rank)."""
    from scipy.stats import rankdata

    ra, rb = rankdata(np.ravel(a)), rankdata(np.ravel(b))
    ra, rb = ra - ra.mean(), rb - rb.mean()
    return float((ra * rb).sum() / np.sqrt((ra * ra).sum() * (rb * rb).sum()))


def test_spearman_is_the_correlation_of_ranks_with_ties_and_nan_for_a_flat_map():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 5, (12, 12)).astype(float)  # many ties, as SHAP cells and superpixels give
    b = a + rng.normal(0, 2, a.shape)
    assert abs(spearman(a, b) - _pearson_of_ranks(a, b)) < 1e-12
    assert abs(spearman(a, a) - 1.0) < 1e-12 and abs(spearman(a, -a) + 1.0) < 1e-12
    assert np.isnan(spearman(a, np.zeros_like(a))) and np.isnan(spearman(np.ones(4), np.arange(4.0)))


def test_the_method_comparison_matrix_is_spearman_for_every_pair():
    rng = np.random.default_rng(1)
    maps = {"a": rng.normal(size=(8, 8)), "b": rng.normal(size=(8, 8)), "flat": np.zeros((8, 8))}
    table = rank_agreement(maps)
    assert isinstance(table, pd.DataFrame) and list(table.index) == list(table.columns) == ["a", "b", "flat"]
    m = spearman_matrix(list(maps.values()))
    np.testing.assert_array_equal(table.to_numpy(), m)
    assert abs(m[0, 0] - 1.0) < 1e-12 and abs(m[1, 1] - 1.0) < 1e-12
    assert m[0, 1] == m[1, 0] == spearman(maps["a"], maps["b"])
    assert np.isnan(m[2]).all() and np.isnan(m[:, 2]).all()
