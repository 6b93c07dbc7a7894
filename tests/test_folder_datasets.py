"""Dataset folders in the public layouts, zips, and the data-root boundary."""

import io
import os
import zipfile

import numpy as np
import pytest

import xai_core as xc
from tests import files
from xai_core.data.archive import extract_zip
from xai_core.data.folder import dataset_name, list_folder_datasets, load_folder, scan_folder


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("XAI_DATA_ROOTS", str(root))
    return root


def _zip(layout_root, extra: dict | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in sorted(layout_root.rglob("*")):
            if f.is_file():
                zf.write(f, f.relative_to(layout_root.parent).as_posix())
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_brain_tumor_mri_layout_with_training_and_testing(data_root):
    files.class_tree(data_root / "Brain Tumor MRI", files.BRAIN_LAYOUT)
    (data_root / "Brain Tumor MRI/Training/glioma/broken.png").write_bytes(b"not an image")
    index = scan_folder("Brain Tumor MRI")
    assert index.layout == "splits" and index.class_names == ("glioma", "meningioma", "notumor", "pituitary")
    seen = []
    ds = load_folder(index.root, progress=lambda f, msg: seen.append(f))
    assert seen[-1] == 1.0 and ds.meta["skipped"] == 1 and "broken.png" in ds.meta["problems"][0]
    assert len(ds.split("test")) == 16  # Testing/ is kept as the test split
    assert len(ds.split("train")) + len(ds.split("val")) == 40  # Training/ minus the broken file, carved 80:20
    assert sorted(np.bincount(ds.split("val").labels)) == [2, 2, 2, 2]  # stratified
    assert ds.image_shape == (128, 128, 1) and ds.name == "folder:Brain Tumor MRI"
    # brightness encodes the class in the fixture: labels must follow the folders
    means = [ds.split("test").images[ds.split("test").labels == k].mean() for k in range(4)]
    assert means == sorted(means)


def test_iq_othnccd_layout_inside_a_wrapper_folder(data_root):
    files.class_tree(data_root / "archive", files.IQ_LAYOUT, suffix=".jpg")
    index = scan_folder(data_root / "archive")
    assert index.layout == "classes"
    assert index.class_names == ("Bengin cases", "Malignant cases", "Normal cases")
    ds = xc.load_dataset(dataset_name(index.root))
    assert [len(ds.split(s)) for s in ("train", "val", "test")] == [21, 6, 3]  # 70:20:10 of 10 per class
    assert ds.class_names == index.class_names
    assert "folder:archive" in list_folder_datasets() and "folder:archive" in xc.data.dataset_names()


def test_paths_outside_the_data_roots_are_refused(data_root, tmp_path):
    outside = tmp_path / "elsewhere"
    files.class_tree(outside, {"a": 3, "b": 3})
    with pytest.raises(xc.InputError, match="outside the data folders"):
        scan_folder(outside)
    with pytest.raises(xc.InputError, match="outside the data folders"):
        scan_folder("../elsewhere")
    with pytest.raises(xc.InputError, match="outside the data folders"):
        xc.load_dataset("folder:../elsewhere")
    # a link inside the root that points out is not followed
    files.class_tree(data_root / "inside", {"a": 3, "b": 3})
    os.symlink(outside / "a", data_root / "inside" / "c")
    assert scan_folder("inside").class_names == ("a", "b")  # nothing read through the link
    os.symlink(outside, data_root / "escape")
    with pytest.raises(xc.InputError, match="outside the data folders"):
        scan_folder("escape")


def test_zip_upload_in_both_layouts(data_root, tmp_path):
    files.class_tree(tmp_path / "src" / "Brain Tumor MRI", files.BRAIN_LAYOUT)
    files.class_tree(tmp_path / "src2" / "IQ", files.IQ_LAYOUT)
    seen = []
    dest = extract_zip(_zip(tmp_path / "src" / "Brain Tumor MRI", {"__MACOSX/._x": b"junk"}), "brain mri.zip",
                       progress=lambda f, m: seen.append(f))
    assert dest.parent == data_root / "uploads" and seen[-1] == 1.0
    assert scan_folder(dest).class_names == ("glioma", "meningioma", "notumor", "pituitary")
    dest2 = extract_zip(_zip(tmp_path / "src2" / "IQ"), "iq.zip")
    assert len(load_folder(dest2).class_names) == 3
    again = extract_zip(_zip(tmp_path / "src2" / "IQ"), "iq.zip")  # never overwrites
    assert again != dest2 and again.name == "iq-2"


@pytest.mark.parametrize("entry, needle", [("../evil.png", "outside its folder"), ("a/../../evil.png", "outside"),
                                           ("/etc/evil.png", "absolute path"), ("C:/evil.png", "absolute path")])
def test_zip_slip_entries_are_refused_and_nothing_is_written(data_root, tmp_path, entry, needle):
    files.class_tree(tmp_path / "src" / "ds", {"a": 2, "b": 2})
    with pytest.raises(xc.InputError, match=needle):
        extract_zip(_zip(tmp_path / "src" / "ds", {entry: b"payload"}), "slip.zip")
    assert not list(tmp_path.rglob("evil.png")) and not (data_root / "evil.png").exists()
    assert not (data_root / "uploads").exists() or not any((data_root / "uploads").iterdir())


def test_zip_limits_and_links(data_root, tmp_path, monkeypatch):
    files.class_tree(tmp_path / "src" / "ds", {"a": 3, "b": 3})
    data = _zip(tmp_path / "src" / "ds")
    monkeypatch.setenv("XAI_ZIP_MAX_FILES", "5")
    with pytest.raises(xc.InputError, match="6 files; the limit is 5"):
        extract_zip(data, "many.zip")
    monkeypatch.setenv("XAI_ZIP_MAX_FILES", "1000")
    monkeypatch.setenv("XAI_ZIP_MAX_MB", "0.001")
    with pytest.raises(xc.InputError, match="expand to"):
        extract_zip(data, "big.zip")
    monkeypatch.setenv("XAI_ZIP_MAX_MB", "100")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("ds/a/link.png")
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(xc.InputError, match="symbolic link"):
        extract_zip(buf.getvalue(), "link.zip")
    with pytest.raises(xc.InputError, match="not a readable zip"):
        extract_zip(b"PK\x03\x04 broken", "broken.zip")
