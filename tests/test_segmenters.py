"""Every registered segmenter: labels 0..n-1 covering the image, deterministic, fair counts by default."""

import numpy as np
import pytest

import xai_core as xc
from xai_core.segmenters import SEGMENTERS, relabel, segment, segment_stats


def _photo():
    from skimage import data, transform

    return transform.resize(data.astronaut(), (128, 128), anti_aliasing=True) * 255


@pytest.fixture(scope="module")
def scans(brain):
    return [brain.image("test", i) for i in (0, 7, 100, 200)]


@pytest.mark.parametrize("name", SEGMENTERS.names())
def test_labels_run_0_to_n_minus_1_and_cover_the_image(name, scans):
    for image in [*scans, _photo(), np.zeros((40, 30, 1))]:
        seg = segment(name, image)
        assert seg.shape == image.shape[:2] and seg.dtype == np.int32
        n = int(seg.max()) + 1
        assert seg.min() == 0
        assert np.array_equal(np.unique(seg), np.arange(n))  # every label in 0..n-1 is used: lime hides them all


@pytest.mark.parametrize("name", SEGMENTERS.names())
def test_deterministic(name, scans):
    assert np.array_equal(segment(name, scans[1]), segment(name, scans[1]))


@pytest.mark.parametrize("name", SEGMENTERS.names())
def test_defaults_give_roughly_20_to_80_segments_at_128_px(name, scans):
    counts = [segment_stats(segment(name, im))["segments"] for im in [*scans, _photo()]]
    assert all(20 <= c <= 80 for c in counts), counts


@pytest.mark.parametrize("name", SEGMENTERS.names())
def test_parameters_are_validated(name):
    seg = SEGMENTERS.get(name)
    with pytest.raises(xc.InputError, match="no parameter"):
        seg.validate({"bogus": 1})
    for p in seg.params:
        if p.min is not None:
            with pytest.raises(xc.InputError, match=p.name):
                seg.validate({p.name: p.min - 1})
    assert seg.validate({}) == {p.name: p.default for p in seg.params}


def test_parameters_change_the_segmentation(scans):
    few = segment_stats(segment("slic", scans[0], n_segments=20))["segments"]
    many = segment_stats(segment("slic", scans[0], n_segments=150))["segments"]
    assert few < many
    coarse = segment_stats(segment("felzenszwalb", scans[0], scale=400))["segments"]
    fine = segment_stats(segment("felzenszwalb", scans[0], scale=20, min_size=10))["segments"]
    assert coarse < fine


def test_relabel_and_stats_on_a_hand_made_labelling():
    labels = np.array([[5, 5, 9], [1, 9, 9]])
    out = relabel(labels)
    assert out.tolist() == [[1, 1, 2], [0, 2, 2]]
    s = segment_stats(out)
    assert s["segments"] == 3 and s["min_px"] == 1 and s["max_px"] == 3 and s["median_px"] == 2
    assert s["largest_share"] == pytest.approx(0.5)


def test_refuses_an_image_it_cannot_segment():
    with pytest.raises(xc.InputError, match="cannot be segmented"):
        segment("slic", np.zeros((8, 8, 2)))
