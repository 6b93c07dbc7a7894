"""Focus score on hand-made maps, smoothing, and the models-by-images comparison."""

import numpy as np
import pytest

import xai_core as xc
from xai_core.compare import compare
from xai_core.metrics.focus import chance_focus, focus_score, smooth


def test_focus_score_on_a_hand_made_map():
    m = np.zeros((4, 4))
    mask = np.zeros((4, 4), bool)
    mask[:2, :2] = True
    m[0, 0], m[1, 1] = 3.0, 1.0  # 4 inside
    m[3, 3] = 2.0  # 2 outside
    m[2, 2] = -10.0  # negative attribution is not evidence for the class: ignored
    assert focus_score(m, mask) == pytest.approx(4 / 6)
    assert focus_score(m[..., None].repeat(3, -1) / 3, mask) == pytest.approx(4 / 6)  # channels summed
    assert chance_focus(mask) == pytest.approx(4 / 16)
    assert focus_score(np.ones((4, 4)), mask) == pytest.approx(chance_focus(mask))  # even spread = chance
    assert np.isnan(focus_score(-np.ones((4, 4)), mask)) and np.isnan(focus_score(m, np.zeros((4, 4), bool)))
    with pytest.raises(xc.InputError):
        focus_score(m, np.ones((3, 3), bool))


def test_smoothing_keeps_the_total_and_spreads_a_peak():
    m = np.zeros((2, 33, 33))
    m[:, 16, 16] = 1.0
    s = smooth(m, 2.0)
    assert s.shape == m.shape and s.sum() == pytest.approx(m.sum())
    assert s[0, 16, 16] < 0.1 and s[0, 16, 18] > 0 and np.array_equal(smooth(m, 0), m)
    with pytest.raises(xc.InputError):
        smooth(m, -1)


def test_compare_uses_the_same_settings_and_reports_focus(brain, brain_model):
    test = brain.split("test")
    idx = [i for i in range(len(test)) if test.masks[i].any()][:2]
    lung = xc.load_model("lung-basic-cnn")
    r = compare([brain_model, lung], [test.images[i] for i in idx], [f"#{i}" for i in idx],
                [brain.class_names[test.labels[i]] for i in idx], [test.masks[i] for i in idx],
                target="true", output="probability", params={"max_evals": 300})
    table = r.table()
    assert len(table) == 4
    params = {(e.params["max_evals"], e.params["masker"], e.output_space) for row in r.explanations for e in row}
    assert params == {(300, "blur(20,20)", "probability")}
    # the brain model explains the true class; the lung model does not know it and explains its prediction
    brain_rows, lung_rows = table[table.model == "brain-basic-cnn"], table[table.model == "lung-basic-cnn"]
    assert list(brain_rows["explained class"]) == list(brain_rows["true class"])
    assert list(lung_rows["explained class"]) == list(lung_rows["predicted"])
    assert (table["additivity residual"] < 1e-4).all()
    assert table["focus"].between(0, 1).all() and (table["focus by chance"] < 0.2).all()
    expect = focus_score(r.explanations[0][0].map(0), test.masks[idx[0]])
    assert table["focus"].iloc[0] == pytest.approx(expect)
    # smoothing changes the focus but not the explanation
    assert not np.allclose(r.table(3.0)["focus"], table["focus"])
    with pytest.raises(xc.InputError, match="1 to 4 images"):
        compare([brain_model], [test.images[0]] * 5)
