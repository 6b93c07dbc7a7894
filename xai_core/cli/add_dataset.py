"""``add-dataset``: unpack a zip (or check a folder) of class subfolders under the data roots."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import InputError
from . import command


def _arguments(ad) -> None:
    src = ad.add_mutually_exclusive_group(required=True)
    src.add_argument("--zip", help="a .zip of a dataset folder")
    src.add_argument("--folder", help="a folder under the data roots")


@command("add-dataset", "unpack a zip (or check a folder) of class subfolders under the data roots", _arguments)
def run(args) -> int:
    from ..data.archive import extract_zip
    from ..data.folder import load_folder

    if args.zip:
        path = Path(args.zip)
        if not path.is_file():
            raise InputError(f"{args.zip} is not a file.")
        folder = extract_zip(path.read_bytes(), path.name)
    else:
        folder = args.folder

    def progress(f, msg):
        print(f"\r{msg}", end="", file=sys.stderr, flush=True)

    ds = load_folder(folder, progress=progress)
    print(file=sys.stderr)
    sizes = ", ".join(f"{s} {len(ds.split(s))}" for s in ds.splits)
    print(f"{ds.name}: classes {', '.join(ds.class_names)}; {sizes}; {ds.meta['skipped']} unreadable file(s) "
          f"skipped")
    return 0
