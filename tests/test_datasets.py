"""The embedded brain-MRI set: deterministic, realistic where it matters, no shortcut."""

import numpy as np
import pytest

from xai_core.data import synthetic_brain_mri as gen


def test_generation_is_deterministic_in_the_seed():
    a, b, c = gen.build(0, per_class=6), gen.build(0, per_class=6), gen.build(1, per_class=6)
    for split in ("train", "val", "test"):
        np.testing.assert_array_equal(a.split(split).images, b.split(split).images)
        np.testing.assert_array_equal(a.split(split).masks, b.split(split).masks)
    assert not np.array_equal(a.split("train").images, c.split("train").images)


def test_splits_classes_and_masks(brain):
    assert brain.class_names == ("glioma", "meningioma", "no_tumor", "pituitary")
    assert brain.image_shape == (128, 128, 1)
    sizes = [len(brain.split(s)) for s in ("train", "val", "test")]
    assert sizes == [1680, 480, 240]
    for split in ("train", "test"):
        s = brain.split(split)
        area = s.masks.reshape(len(s), -1).sum(1)
        assert (area[s.labels == 2] == 0).all(), "no_tumor scans must have empty masks"
        assert (area[s.labels != 2] > 0).all(), "every tumour scan must have a lesion mask"


def test_lesions_sit_where_a_radiologist_expects(brain):
    s = brain.split("train")
    area = s.masks.reshape(len(s), -1).sum(1)
    ys = np.array([np.nonzero(m)[0].mean() if m.any() else np.nan for m in s.masks])
    pit, gli, men = (s.labels == 3), (s.labels == 0), (s.labels == 1)
    # pituitary: small and low on the midline (the sella), below the centre of the head
    assert np.median(area[pit]) < 0.5 * np.median(area[gli])
    assert (ys[pit] > 64).all()
    # meningioma: against the skull, so its mask reaches further out than a deep glioma's
    def reach(m):
        yy, xx = np.nonzero(m)
        return np.hypot(yy - 64, xx - 64).max()
    r_men = np.median([reach(m) for m in s.masks[men][:80]])
    r_gli = np.median([reach(m) for m in s.masks[gli][:80]])
    assert r_men > r_gli + 5


def test_anatomy_and_contrast_vary(brain):
    imgs = brain.split("train").images[:200, ..., 0].astype(float)
    head_area = (imgs > 20).reshape(200, -1).sum(1)
    assert head_area.std() / head_area.mean() > 0.05
    assert np.percentile(imgs.reshape(200, -1), 95, axis=1).std() > 8


def _histograms(images):
    return np.stack([np.histogram(im, bins=32, range=(0, 256))[0] for im in images]).astype(float)


def test_histogram_model_stays_far_below_the_cnn(brain, brain_model):
    """The classes must not separate on global intensity statistics."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    tr, te = brain.split("train"), brain.split("test")
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    clf.fit(_histograms(tr.images), tr.labels)
    hist_acc = clf.score(_histograms(te.images), te.labels)
    cnn_acc = (brain_model.predict_proba(te.images.astype(np.float32)).argmax(1) == te.labels).mean()
    assert hist_acc < 0.5, hist_acc
    assert cnn_acc - hist_acc > 0.4, (cnn_acc, hist_acc)


def test_lung_ct_lesions_sit_in_the_lungs_and_differ_by_size():
    import xai_core as xc

    lung = xc.load_dataset("synthetic-lung-ct")
    tr = lung.split("train")
    area = tr.masks.reshape(len(tr), -1).sum(1)
    names = np.array(lung.class_names)[tr.labels]
    assert (area[names == "normal"] == 0).all()
    assert (area[names == "benign"] > 0).all() and (area[names == "malignant"] > 0).all()
    assert np.median(area[names == "malignant"]) > 3 * np.median(area[names == "benign"])
    # lesions are dark-lung surroundings: the mean intensity around a nodule is low (inside a lung field)
    from scipy import ndimage

    for i in np.flatnonzero(names != "normal")[:40]:
        ring = ndimage.binary_dilation(tr.masks[i], iterations=4) & ~ndimage.binary_dilation(tr.masks[i], iterations=2)
        assert tr.images[i][..., 0][ring].mean() < 110


def test_lung_ct_histogram_model_stays_far_below_the_cnn():
    import xai_core as xc
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    lung = xc.load_dataset("synthetic-lung-ct")
    tr, te = lung.split("train"), lung.split("test")
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    clf.fit(_histograms(tr.images), tr.labels)
    hist_acc = clf.score(_histograms(te.images), te.labels)
    model = xc.load_model("lung-basic-cnn")
    cnn_acc = float((xc.predict_split(model, "synthetic-lung-ct", "test").argmax(1) == te.labels).mean())
    assert hist_acc < 0.5, hist_acc
    assert cnn_acc - hist_acc > 0.35, (cnn_acc, hist_acc)


@pytest.mark.parametrize("name, n, shape", [("mnist", 5000, (28, 28, 1)), ("sklearn-digits", 1797, (28, 28, 1))])
def test_real_digit_datasets_ship_inside_packages(name, n, shape):
    import xai_core as xc

    ds = xc.load_dataset(name)
    assert ds.image_shape == shape and sum(len(ds.split(s)) for s in ("train", "val", "test")) == n
    counts = np.bincount(ds.split("train").labels, minlength=10)
    assert counts.min() > 0.9 * counts.max()  # stratified
    assert ds.split("test").images.max() == 255
