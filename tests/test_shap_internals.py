"""The shap internals our SHAP Partition relies on (xai_core/explainers/shap_partition.py), pinned.

A shap upgrade that changes any of them must fail here, by name, before a map changes silently:
- the bit-packed Owen queue replaces ``shap.explainers._partition.queue`` (the stdlib ``queue`` module, looked
  up at call time) and expects items ``(priority, tie-break, (mask, ...))`` with a 1-D bool mask per feature;
- ties are broken by ``np.random.randn()`` on numpy's global generator, which ``seeded_global_numpy`` seeds;
- ``_CsrRows`` swaps the explainer's ``_mask_matrix`` (a sparse matrix of cluster rows) for fast row access;
- ``_FastBlur`` subclasses ``shap.maskers.Image`` and reads its ``input_shape`` and ``blur_kernel``.
"""

import inspect
import queue
import types

import numpy as np
import shap

from xai_core.explainers import shap_partition
from xai_core.explainers._global import seeded_global_numpy


def test_the_owen_traversal_uses_the_stdlib_priority_queue_looked_up_at_call_time():
    from shap.explainers import _partition

    assert _partition.queue is queue, "shap no longer imports the queue module into explainers/_partition.py"
    src = inspect.getsource(_partition)
    assert src.count("queue.PriorityQueue()") >= 2, "the Owen traversals no longer build queue.PriorityQueue()"
    assert "np.random.randn()" in src, "ties are no longer broken with np.random.randn() (seeded_global_numpy)"
    assert "q.get()[2]" in src, "the traversal no longer takes the third element of a queue item"


class _Recording(shap_partition._PackedMaskQueue):
    items: list = []

    def put(self, item):
        _Recording.items.append(item)
        super().put(item)


def _tiny_partition(max_evals=60):
    """A 6x6 grey image and a linear model: small enough to explain in milliseconds."""
    w = np.random.default_rng(0).normal(size=(6 * 6,))
    image = np.random.default_rng(1).uniform(0, 255, (6, 6, 1)).astype(np.float32)
    masker = shap_partition._masker("blur(2,2)", (6, 6, 1))
    masker.reset(image)
    explainer = shap.explainers.Partition(lambda x: x.reshape(len(x), -1) @ w[:, None], masker)
    return explainer, image, max_evals


def test_queue_items_are_priority_tiebreak_and_a_bool_mask_first():
    from shap.explainers import _partition

    explainer, image, max_evals = _tiny_partition()
    _Recording.items = []
    saved = _partition.queue
    _partition.queue = types.SimpleNamespace(PriorityQueue=_Recording)
    try:
        with seeded_global_numpy(0):
            explainer(image[None], max_evals=max_evals, batch_size=16, silent=True)
    finally:
        _partition.queue = saved
    assert _Recording.items, "shap did not use the PriorityQueue it finds in its module: the packed queue is bypassed"
    for priority, tie, args in _Recording.items:
        assert np.isscalar(priority) and np.isscalar(tie)
        mask = args[0]
        assert isinstance(mask, np.ndarray) and mask.dtype == bool and mask.shape == (image.size,)


def test_the_explainer_keeps_a_sparse_mask_matrix_and_the_masker_its_blur_kernel():
    explainer, image, _ = _tiny_partition()
    assert hasattr(explainer, "_mask_matrix"), "PartitionExplainer._mask_matrix is gone: _CsrRows would do nothing"
    rows = shap_partition._CsrRows.wrap(explainer._mask_matrix)
    assert isinstance(rows, shap_partition._CsrRows), "the mask matrix is no longer a sparse matrix of 0/1 rows"
    dense = explainer._mask_matrix.toarray().astype(bool)
    assert all(np.array_equal(rows[i, :], dense[i]) for i in range(dense.shape[0]))
    masker = shap_partition._masker("blur(2,2)", (6, 6, 1))
    assert issubclass(type(masker), shap.maskers.Image)
    assert masker.input_shape == (6, 6, 1) and masker.blur_kernel == (2, 2)
    # the fast blur gives what shap's own blur masker gives, for any mask
    masker.reset(image)
    plain = shap.maskers.Image("blur(2,2)", (6, 6, 1))
    mask = np.random.default_rng(2).random(image.size) < 0.5
    np.testing.assert_array_equal(masker(mask, image.reshape(-1))[0], plain(mask, image.reshape(-1))[0])
