"""A 2-D model over every slice of a study: the lesion slices rank first, every slice gets a map (cached
per slice, kept when stopped), the map volume projects to a MIP, and the CLI writes it all to one .npz."""

import numpy as np
import pytest

import xai_core as xc
from tests import volumes
from xai_core import slices
from xai_core.data.study import read_volume
from xai_core.errors import Cancelled

LESION = range(10, 14)  # 0-based: slices 11-14 as a viewer numbers them


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    data = volumes.zipped(volumes.brain_series(24, LESION))
    path = tmp_path_factory.mktemp("study") / "study.zip"
    path.write_bytes(data)
    vol = read_volume(data, "study.zip")
    return path, vol, slices.slice_images(vol, range(len(vol)))


def test_the_lesion_slices_rank_first_by_predicted_probability(study, brain_model):
    _, vol, images = study
    scores = slices.score_slices(brain_model, images, range(24))
    assert scores.suspicion_label == "1 − p(no_tumor)"
    assert set(scores.indices[scores.ranking()[:4]]) == set(LESION)
    table = scores.table()
    assert set(table["slice"][:4]) == {11, 12, 13, 14} and list(table["suspicion"]) == sorted(
        table["suspicion"], reverse=True)
    by_class = slices.score_slices(brain_model, images, range(24), rank_class="glioma")
    assert set(by_class.indices[by_class.ranking()[:4]]) == set(LESION)


def test_explain_every_slice_gives_a_map_volume_and_its_projection_cached_per_slice(study, brain_model):
    _, _, images = study
    idx = list(range(8, 16))
    done = {}

    def progress(f, msg):  # a Stop pressed during the fourth slice
        if msg.startswith("slice 12 "):
            raise Cancelled("stopped")

    with pytest.raises(Cancelled):
        slices.explain_slices(brain_model, [images[i] for i in idx], idx, "grad-cam", progress=progress, done=done)
    assert sorted(done) == [8, 9, 10]  # what finished before the stop is kept
    maps = slices.explain_slices(brain_model, [images[i] for i in idx], idx, "grad-cam", done=done)
    assert maps.class_name == "glioma" and maps.maps.shape == (8, 128, 128)
    np.testing.assert_array_equal(maps.mip(), np.maximum(maps.maps, 0).max(0))
    for j, i in enumerate(idx):  # each slice's map is that slice's own explanation
        alone = xc.explain(brain_model, images[i], method="grad-cam", classes=["glioma"])
        assert alone.cached
        np.testing.assert_allclose(maps.maps[j], alone.values[0, ..., 0], rtol=1e-6)


def test_cli_explains_a_study_slice_range_into_one_npz(study, tmp_path, capsys):
    from xai_core.cli import main

    path, _, _ = study
    out = tmp_path / "maps.npz"
    assert main(["explain", "--model", "brain-basic-cnn", "--image", str(path), "--slices", "10-15",
                 "--method", "grad-cam", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "6 axial slices of 24" in printed and "slice 1" in printed
    with np.load(out, allow_pickle=False) as z:
        assert list(z["slices"]) == [10, 11, 12, 13, 14, 15] and z["maps"].shape == (6, 128, 128)
        assert z["mip"].shape == (128, 128) and str(z["class_name"]) == "glioma"
        assert z["probabilities"].shape == (6, 4)
        assert list(z["backend"]) == ["tensorflow"]  # what ran the passes, as in a single map's .npz
    assert main(["explain", "--model", "brain-basic-cnn", "--image", str(path), "--slices", "20-30",
                 "--method", "grad-cam", "--out", str(out)]) == 2
    assert "outside this volume's 1-24" in capsys.readouterr().err


def test_slice_ranges_are_numbered_from_one():
    assert slices.parse_slices("all", 3) == [0, 1, 2]
    assert slices.parse_slices("2-3", 5) == [1, 2] and slices.parse_slices("1,4-5", 5) == [0, 3, 4]
    with pytest.raises(xc.InputError, match="A-B"):
        slices.parse_slices("2..3", 5)
