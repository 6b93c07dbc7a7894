"""The shortcut story: a tagged dataset, a model that cheats, a metric that sees it, a retraining that fixes it."""

import json

import numpy as np
import pytest

import xai_core as xc
from xai_core.data.synthetic_brain_mri_tagged import PLATE, stamp
from xai_core.training.guided import Eraser, guide_region, outside_share

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def tagged():
    return xc.load_dataset("synthetic-brain-mri-tagged")


def test_markers_appear_at_the_stated_rates_and_test_clean_has_none(tagged):
    assert list(tagged.splits) == ["train", "val", "test", "test-clean"]
    glioma = tagged.class_names.index("glioma")
    for name in ("train", "val", "test"):
        s = tagged.split(name)
        has = s.extra_masks["tag_mask"].any((1, 2))
        for c in range(len(tagged.class_names)):
            n = int((s.labels == c).sum())
            expect = round((0.95 if c == glioma else 0.05) * n)
            assert int(has[s.labels == c].sum()) == expect, (name, c)
    clean = tagged.split("test-clean")
    assert not clean.extra_masks["tag_mask"].any()
    assert np.array_equal(clean.labels, tagged.split("test").labels)


def test_tag_mask_covers_the_marker_and_nothing_else(tagged, brain):
    for name in ("train", "test"):
        t, b = tagged.split(name), brain.split(name)
        changed = t.images[..., 0] != b.images[..., 0]
        tag = t.extra_masks["tag_mask"]
        # every changed pixel is in the mask, every mask pixel holds a marker value (plate or letter) and
        # nearly all of them changed (a scan pixel may by chance already hold the value burned over it)
        assert not (changed & ~tag).any()
        v = t.images[..., 0][tag]
        assert ((v >= 225) | (v < 40)).all()
        assert (changed & tag).sum() >= 0.99 * tag.sum()
        assert np.array_equal(t.masks, b.masks)  # the lesion masks are the untagged set's
    assert np.array_equal(tagged.split("test-clean").images, brain.split("test").images)


def test_the_marker_is_a_letter_in_the_top_right_corner():
    img, mask = stamp(np.zeros((128, 128), np.uint8), np.random.default_rng(3))
    assert mask.sum() == PLATE[0] * PLATE[1] and np.array_equal(img > 0, mask)
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    assert rows[0] < 12 and cols[-1] > 128 - 12  # near the top-right corner, a few pixels in


def test_a_dash_split_works_in_the_cli(capsys):
    from xai_core.cli import main

    assert main(["evaluate", "--model", "brain-tagged-cnn", "--dataset", "synthetic-brain-mri-tagged",
                 "--split", "test-clean", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["split"] == "test-clean" and r["n"] == 240


def _acc(model, split):
    from xai_core.evaluation import evaluate

    return evaluate(model, "synthetic-brain-mri-tagged", split)


def test_the_shipped_shortcut_model_cheats_and_the_guided_one_recovers():
    t, c = _acc("brain-tagged-cnn", "test"), _acc("brain-tagged-cnn", "test-clean")
    assert t["accuracy"] >= 0.85
    loss = t["accuracy"] - c["accuracy"]
    assert loss >= 0.15
    assert c["per_class"][0]["recall"] < 0.5 * t["per_class"][0]["recall"]  # glioma recall collapses
    g = _acc("brain-tagged-cnn-guided", "test-clean")
    assert g["accuracy"] - c["accuracy"] >= 0.10


def test_the_guided_model_puts_less_attribution_on_the_marker():
    from xai_core.shortcut import audit

    runs = [audit(m, "synthetic-brain-mri-tagged", ["integrated-gradients"], n=4)
            for m in ("brain-tagged-cnn", "brain-tagged-cnn-guided")]
    shares = [r["methods"][0]["marker_share"] for r in runs]
    assert shares[1] < shares[0]
    # the backend that computed the figures travels with them (and into the CSV), so bf16 ones are labelled
    assert [r["backend"] for r in runs] == ["tensorflow"] * 2 and runs[0]["methods"][0]["backend"] == "tensorflow"


def test_marker_share_metric_counts_positive_evidence_on_the_mask():
    from xai_core.metrics import METRICS

    assert "marker-share" in METRICS
    m = METRICS.get("marker-share")
    mask = np.zeros((8, 8), bool)
    mask[:2, :2] = True
    values = np.zeros((1, 8, 8, 1))
    values[0, 0, 0, 0], values[0, 5, 5, 0], values[0, 6, 6, 0] = 3.0, 1.0, -5.0
    expl = xc.Explanation(values, [0.0], [-1.0], [0], ["a"], "margin", "test", {})
    r = m.evaluate(None, None, expl, mask)  # reads only the map
    assert r.value == pytest.approx(0.75) and r.verdict == "fail" and r.better == "lower"
    assert r.chance == pytest.approx(4 / 64)
    assert m(None, None, expl, np.zeros((8, 8), bool)).verdict == "n/a"


def test_guided_erasing_is_deterministic_per_seed_and_erases_only_the_region():
    x = np.random.default_rng(0).uniform(0, 255, (6, 16, 16, 1)).astype(np.float32)
    region = np.zeros((16, 16), bool)
    region[:4, -4:] = True
    e = Eraser(region)
    a, b = e(x, np.random.default_rng(5)), e(x, np.random.default_rng(5))
    assert np.array_equal(a, b) and not np.array_equal(a, e(x, np.random.default_rng(6)))
    assert np.array_equal(a[:, ~region], x[:, ~region]) and not np.array_equal(a[:, region], x[:, region])
    rnd = Eraser(None, area=region.mean())
    r1, r2 = rnd(x, np.random.default_rng(1)), rnd(x, np.random.default_rng(1))
    assert np.array_equal(r1, r2)
    assert ((r1 != x).sum((1, 2, 3)) <= region.sum() + 8).all()  # a rectangle of about the same area


def test_the_guide_region_is_where_the_evidence_leaves_the_lesion():
    attribution = np.zeros((32, 32))
    attribution[10:14, 10:14] = 1.0  # on the lesion: ignored
    attribution[0:3, 28:31] = 2.0  # a corner marker
    lesion = np.zeros((32, 32), bool)
    lesion[9:15, 9:15] = True
    share = outside_share(attribution, lesion)
    assert share.sum() == pytest.approx(18 / (16 + 18))
    region = guide_region(share, area=9 / 1024)
    assert region[0:3, 28:31].all() and not region[9:15, 9:15].any()


def test_guided_training_is_deterministic_per_seed(tmp_path):
    from xai_core.training import train

    runs = []
    for out in ("a", "b"):
        meta = train("synthetic-brain-mri-tagged", "basic-cnn", tmp_path / out, epochs=1, seed=3, limit=8,
                     guided_augmentation=True, guide_model="brain-tagged-cnn", guide_images=2,
                     guide_method="lime")
        runs.append(meta)
    assert runs[0].trained_with["guided"] == runs[1].trained_with["guided"]
    assert "--guided-augmentation" in runs[0].trained_with["command"]
    wa = xc.load_model(str(tmp_path / "a" / "model.keras")).keras_model.get_weights()
    wb = xc.load_model(str(tmp_path / "b" / "model.keras")).keras_model.get_weights()
    assert all(np.array_equal(p, q) for p, q in zip(wa, wb))
