"""``ood-reference``: give a model (typically your own) its out-of-domain reference, stored with the model.

    python -m xai_core ood-reference --model my-model --from synthetic-brain-mri
    python -m xai_core ood-reference --model my-model --from my-training-scans/      (a folder, >= 50 scans)
    python -m xai_core ood-reference --model my-model --from scans.zip

Every page and command then checks scans against it (``xai_core.domain_reference``).
"""

from __future__ import annotations

from pathlib import Path

from . import command


def _arguments(p) -> None:
    p.add_argument("--model", required=True, help="model name, model folder or .keras file")
    p.add_argument("--from", dest="source", required=True,
                   help="a registered dataset, or a folder or .zip of at least 50 typical training scans "
                        "(inside the data folders, XAI_DATA_ROOTS)")


def add_reference(model, source: str) -> str:
    """Fit and store the reference; returns the one line to print. Shared with ``import-model``."""
    from ..data.archive import extract_zip
    from ..domain_reference import describe, fit_reference

    if source.lower().endswith(".zip") and Path(source).is_file():
        source = str(extract_zip(Path(source).read_bytes(), Path(source).name))
    fit_reference(model, source)
    return describe(model)


@command("ood-reference", "fit and store a model's out-of-domain reference (a dataset or a folder/zip of scans)",
         _arguments)
def run(args) -> int:
    from ..models import load_model

    lm = load_model(args.model)
    print(f"{lm.name}: {add_reference(lm, args.source)}")
    return 0
