"""Image datasets from a folder of class subfolders (Keras's ``image_dataset_from_directory`` layout).

Recognised layouts, after descending through single wrapper folders (as zips
often have):

* ``ROOT/<class>/...``: one pool, split 70:20:10 per class with a seed;
* ``ROOT/<split>/<class>/...`` with split folders named train/training,
  val/valid/validation and test/testing in any case, e.g. the public Brain
  Tumor MRI dataset (``Training/`` and ``Testing/`` x ``glioma``,
  ``meningioma``, ``notumor``, ``pituitary``); a missing validation split is
  carved from the training one (20%, per class, seeded).

The IQ-OTH/NCCD lung dataset (``Bengin cases``, ``Malignant cases``,
``Normal cases``) is the first layout. Class names are the folder names,
sorted, as Keras does. Only folders under the configured data roots
(``config.data_roots()``) are read; anything that resolves outside them,
symbolic links included, is refused. Images are decoded once, in order, with
progress, resized to a common size and kept in the disk cache; unreadable
files are skipped and counted, never fatal.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import config
from ..errors import ImageError, InputError
from ..paths import within
from .base import FRACTIONS, SPLITS, Dataset, Split
from .folder_studies import group_cases, listed

PREFIX = "folder:"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".dcm", ".dicom"}
SPLIT_NAMES = {"train": "train", "training": "train", "val": "val", "valid": "val", "validation": "val",
               "test": "test", "testing": "test"}
IGNORED = {"__MACOSX", ".DS_Store", "Thumbs.db"}
DEFAULT_SIZE = (128, 128)


def _roots() -> list[Path]:
    return config.data_roots()


def safe_path(path: str | Path, own: Path | None = None) -> Path:
    """``path`` resolved (symlinks followed); refused unless it lies inside a configured data root and
    outside every hidden folder (``uploads/.sessions`` holds each session's private uploads), except
    ``own``: the caller's own private area (``paths.within``)."""
    roots = _roots()
    try:
        return within(path, roots, own=own, what="the data folders this dashboard may read")
    except InputError as exc:
        if "outside" in str(exc):
            raise InputError(f"{path} is outside the data folders this dashboard may read "
                             f"({', '.join(map(str, roots))}); set XAI_DATA_ROOTS to allow another folder.") from None
        raise


_MARKUP = set("<>[]`$*|\\")


def check_class_name(name: str) -> str:
    """Refuse a class-folder name that would print or render as something else (a newline, a right-to-left
    override, HTML or Markdown markup); class names appear in tables, plots, pages and CLI output."""
    import unicodedata

    for ch in name:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Zl", "Zp", "Co", "Cs") or ch in _MARKUP:
            what = (f"the markup character {ch!r}" if ch in _MARKUP else
                    f"the invisible or control character U+{ord(ch):04X} ({unicodedata.name(ch, 'a line break or control character')})")
            raise InputError(f"The class folder {name!r} contains {what}; rename it using letters, digits, "
                             f"spaces and - _ . , ( ) so that its name shows as it is.")
    if len(name) > 100:
        raise InputError(f"The class folder name {name[:40]!r}… is {len(name)} characters long; the limit is 100.")
    return name


def _subdirs(p: Path) -> list[Path]:
    return sorted(d for d in p.iterdir() if d.is_dir() and not d.name.startswith(".") and d.name not in IGNORED)


def _images_under(d: Path, root: Path, first_only: bool = False) -> list[Path]:
    out = []
    for f in (d.rglob("*") if first_only else sorted(d.rglob("*"))):
        if f.name.startswith(".") or any(part in IGNORED for part in f.parts) or not (
                f.suffix.lower() in IMAGE_SUFFIXES or listed(f)):
            continue
        r = f.resolve()
        if r.is_file() and r.is_relative_to(root):  # a link out of the dataset is not followed
            out.append(f)
            if first_only:
                break
    return out


@dataclass
class FolderIndex:
    root: Path
    layout: str  # "classes" or "splits"
    class_names: tuple[str, ...]
    files: dict[str, list[tuple[Path, int]]]  # split ("all" for the classes layout) -> (file or case, label)

    def count(self) -> int:
        return sum(len(v) for v in self.files.values())


def scan_folder(path: str | Path, quick: bool = False, own: Path | None = None) -> FolderIndex:
    """Find the layout, classes and image files of a dataset folder (no image is decoded).

    ``quick`` lists at most one file per class folder: enough to tell whether a folder is a dataset.
    Otherwise each folder of one DICOM series is one entry, a case (``folder_studies``), so a split never
    separates the slices of one series.
    ``own``: the caller's private area, the one hidden folder it may read (see ``safe_path``).
    """
    def entries(c: Path) -> list[Path]:
        found = _images_under(c, root, quick)
        return found if quick else group_cases(found, c)

    root = safe_path(path, own)
    if not root.is_dir():
        raise InputError(f"{path} is not a folder.")
    def subdirs(p: Path) -> list[Path]:  # a class folder that links out of the dataset is not followed
        return [c for c in _subdirs(p) if c.resolve().is_relative_to(root)]

    d = root
    for _ in range(3):  # wrapper folders: "Brain Tumor MRI/Training/...", "archive/IQ-OTHNCCD/..."
        subs = subdirs(d)
        if len(subs) == 1 and not any(f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES for f in d.iterdir()):
            d = subs[0]
        else:
            break
    subs = subdirs(d)
    splits = {SPLIT_NAMES[s.name.lower()]: s for s in subs if s.name.lower() in SPLIT_NAMES}
    files: dict[str, list[tuple[Path, int]]] = {}
    if splits:
        names = sorted({c.name for s in splits.values() for c in subdirs(s)})
        for split, sd in splits.items():
            files[split] = [(f, names.index(c.name)) for c in subdirs(sd) for f in entries(c)]
        layout = "splits"
    else:
        names = [c.name for c in subs]
        files["all"] = [(f, i) for i, c in enumerate(subs) for f in entries(c)]
        layout = "classes"
    for n in names:
        check_class_name(n)
    used = {lab for v in files.values() for _, lab in v}
    if len(used) < 2:
        raise InputError(f"{path} needs at least two class subfolders holding images ({', '.join(sorted(IMAGE_SUFFIXES))}) "
                         f"or studies (.nii, .nii.gz, a zipped or unpacked DICOM series); found {len(used)}.")
    return FolderIndex(root, layout, tuple(names), files)


def dataset_name(path: str | Path, own: Path | None = None) -> str:
    """The name under which a folder appears in the dataset pickers: ``folder:`` + its path in its data root."""
    p = safe_path(path, own)
    for r in _roots():
        if p == r or p.is_relative_to(r):
            rel = p.relative_to(r).as_posix()
            return PREFIX + (rel if len(_roots()) == 1 else f"{r.name}/{rel}")
    raise InputError(f"{path} is outside the data folders.")  # unreachable after safe_path


def own_area(rel: str) -> Path | None:
    """The private upload area a dataset name points into (``uploads/.sessions/OWNER/...``), if any.

    Such a name is only ever listed to its owner, and the owner id is a 128-bit secret, so holding the
    name is holding the right to open it; no other hidden folder is reachable by name."""
    parts = Path(rel).parts
    if len(_roots()) > 1:
        parts = parts[1:]  # "ROOTNAME/uploads/...": private areas live in the first root only
    if len(parts) > 3 and parts[0] == "uploads" and parts[1] == config.SESSIONS:
        try:
            return config.upload_dir(config.check_owner(parts[2]))
        except ValueError:
            return None
    return None


def resolve_name(name: str) -> Path:
    rel = name[len(PREFIX):]
    roots = _roots()
    if len(roots) > 1 and "/" in rel:
        head, _, rest = rel.partition("/")
        for r in roots:
            if r.name == head:
                return safe_path(r / rest, own_area(rel))
    return safe_path(rel, own_area(rel))


def list_folder_datasets(max_depth: int = 2, owner: str | None = None) -> list[str]:
    """Dataset folders found under the data roots (to depth 2), by picker name, plus ``owner``'s
    private uploads (other owners' are dot folders, never visited)."""
    found = []
    if owner is not None:
        mine = config.upload_dir(owner)
        if mine.is_dir():
            for s in _subdirs(mine)[:200]:
                try:
                    scan_folder(s, quick=True, own=mine)
                    found.append(dataset_name(s, mine))
                except (InputError, OSError):
                    pass

    def visit(d: Path, depth: int):
        if d.name == "uploads" and d.parent in _roots():  # a container of unpacked zips, never one dataset
            for s in _subdirs(d)[:200]:
                visit(s, depth)
            return
        try:
            scan_folder(d, quick=True)  # rescanned every few seconds by the pickers: no full file listing
            found.append(dataset_name(d))
            return
        except (InputError, OSError):
            pass
        if depth < max_depth:
            for s in _subdirs(d)[:200]:
                visit(s, depth + 1)

    for r in _roots():
        if r.is_dir():
            for s in _subdirs(r)[:200]:
                visit(s, 1)
    return found


def _stratified(labels: np.ndarray, fractions, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    parts = [[] for _ in fractions]
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        cuts = np.round(np.cumsum(fractions)[:-1] * len(idx)).astype(int)
        for k, chunk in enumerate(np.split(idx, cuts)):
            parts[k].extend(chunk.tolist())
    return [np.array(sorted(p), np.int64) for p in parts]


def load_folder(path: str | Path, size: tuple[int, int] = DEFAULT_SIZE, channels: int = 1, seed: int = 0,
                progress=None, own: Path | None = None) -> Dataset:
    """Decode a dataset folder into a ``Dataset`` (cached on disk by file list, sizes and times);
    ``own`` as in ``scan_folder``."""
    from ..cache import DECODED_KIND, DEFAULT_CACHE
    from .folder_studies import dataset_image, is_case, read_case, signature, slice_images
    from .images import read_scan
    from .store import load, save

    index = scan_folder(path, own=own)
    name = dataset_name(index.root, own)
    listing = []
    for split, items in index.files.items():
        for f, lab in items:
            listing.append((str(f.relative_to(index.root)), *signature(f), lab, split))

    # The decoded copy lives in the bounded result cache (kind "datasets"), evicted like any entry.
    key = hashlib.sha256(json.dumps([str(index.root), listing, list(size), channels, seed]).encode()).hexdigest()
    cached = DEFAULT_CACHE.lookup(key, DECODED_KIND, load)
    if cached is not None:
        return cached
    total = index.count()
    images, labels, origin, entry, problems = [], [], [], [], []
    entry_labels = []  # one per listed file or case: splits are drawn over these, so a case stays whole
    done = 0
    for split, items in index.files.items():
        for f, lab in items:
            entry_labels.append(lab)
            try:
                if is_case(f):  # a study: every slice of its acquired plane, each an image of the case's class
                    found = slice_images(read_case(f), size, channels)
                else:
                    found = [dataset_image(read_scan(f)[0], size, channels)]
                images += found
                labels += [lab] * len(found)
                origin += [split] * len(found)
                entry += [len(entry_labels) - 1] * len(found)
            except (ImageError, InputError) as exc:
                problems.append(f"{f.relative_to(index.root)}: {exc}")
            done += 1
            if progress is not None and (done % 25 == 0 or done == total):
                progress(done / total, f"read {done:,} of {total:,} images")
    if not images:
        raise InputError(f"None of the {total} image files in {path} could be read.")
    x, y, o, e = np.stack(images), np.array(labels, np.int64), np.array(origin), np.array(entry, np.int64)
    splits: dict[str, Split] = {}
    if index.layout == "classes":  # drawn over the listed entries, as audits draw it (audit.spec)
        for s, part in zip(SPLITS, _stratified(np.array(entry_labels, np.int64), FRACTIONS, seed)):
            idx = np.flatnonzero(np.isin(e, part))
            splits[s] = Split(x[idx], y[idx])
    else:
        for s in SPLITS:
            idx = np.flatnonzero(o == s)
            if len(idx):
                splits[s] = Split(x[idx], y[idx])
        if "val" not in splits and "train" in splits:  # carve validation from training, per class
            tr = np.flatnonzero(o == "train")
            cases = np.unique(e[tr])  # carved per entry: the slices of one case stay on one side
            keep, val = (np.flatnonzero(np.isin(e, cases[k])) for k in _stratified(
                np.array(entry_labels, np.int64)[cases], (0.8, 0.2), seed))
            splits["train"], splits["val"] = Split(x[keep], y[keep]), Split(x[val], y[val])
        if "test" not in splits:
            raise InputError(f"{path} has split folders but no test split (test/ or Testing/).")
        splits = {s: splits[s] for s in SPLITS if s in splits}
    ds = Dataset(name, index.class_names, splits, f"Images from {index.root.name} ({index.layout} layout)",
                 "folder", seed, {"root": str(index.root), "layout": index.layout, "files": total,
                                  "skipped": len(problems), "problems": problems[:20], "size": list(size),
                                  "channels": channels})
    DEFAULT_CACHE.store(key, DECODED_KIND, ds, save)
    return ds
