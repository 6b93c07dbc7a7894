"""``import-model``: check a .keras/.h5 file in safe mode and add it to your models."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import InputError
from . import command


def _arguments(im) -> None:
    im.add_argument("--file", required=True, help="the .keras (or legacy .h5) file")
    im.add_argument("--name", required=True, help="name in the model picker")
    im.add_argument("--labels", default=None, help="class names: .txt (one per line) or .json")
    im.add_argument("--scale", default=None, help="pixel scaling: 0-1, 0-255, -1-1, torch or caffe")
    im.add_argument("--size", default=None, metavar="HxW", help="input size, for models that accept any size")
    im.add_argument("--replace", action="store_true", help="replace a model of yours with the same name")
    im.add_argument("--ood-reference", default=None, metavar="DATASET_OR_FOLDER",
                    help="what 'in domain' means for it: a registered dataset, or a folder or .zip of at least 50 "
                         "typical training scans (see the ood-reference command)")


@command("import-model", "check a .keras/.h5 file in safe mode and add it to your models", _arguments)
def run(args) -> int:
    from ..models.importing import import_model, parse_labels

    path = Path(args.file)
    if not path.is_file():
        raise InputError(f"{args.file} is not a file.")
    names = parse_labels(Path(args.labels).read_text(errors="replace")) if args.labels else None
    size = None
    if args.size:
        m = re.fullmatch(r"(\d+)[xX](\d+)", args.size.strip())
        if not m:
            raise InputError("--size must look like 224x224.")
        size = (int(m[1]), int(m[2]))
    dest = import_model(path.read_bytes(), path.name, args.name, names, args.scale, size, args.replace)
    from ..models import load_model

    lm = load_model(dest)
    print(f"added {args.name} ({dest}): input {lm.input_shape}, scaling {lm.metadata.input_scale}, classes "
          f"{', '.join(lm.class_names)}")
    if args.ood_reference:
        from .ood_reference import add_reference

        print(add_reference(lm, args.ood_reference))
    else:
        from ..domain_reference import describe

        print(describe(lm))
    return 0
