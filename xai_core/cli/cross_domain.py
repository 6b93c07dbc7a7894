"""``cross-domain``: run a model over another dataset (the source paper's Tables 1 and 2)."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import InputError
from . import command
from ..exports import write_csv


def _arguments(x) -> None:
    x.add_argument("--model", required=True, help="shipped model name, model folder or .keras file")
    x.add_argument("--dataset", required=True, help="the (target) dataset to run it on")
    x.add_argument("--split", default="test", help="split name (train, val, test, ...)")
    x.add_argument("--group", action="append", default=None, metavar="NAME=CLASS,CLASS",
                   help="a class group whose probabilities are summed, e.g. tumor=glioma,meningioma,pituitary "
                        "(repeatable)")
    x.add_argument("--ood", default=None, help="out-of-domain score (default mahalanobis)")
    x.add_argument("--out", required=True, help="output .csv; the summary goes next to it as .json")


@command("cross-domain", "run a model over another dataset: probabilities, groups, out-of-domain scores "
                         "(CSV + summary JSON)", _arguments)
def run(args) -> int:
    from ..cross_domain import cross_domain
    from ..ood import DEFAULT_SCORE, OOD_SCORES

    out = Path(args.out)
    if out.suffix != ".csv":
        raise InputError("--out must name a .csv file.")
    ood = args.ood or DEFAULT_SCORE
    OOD_SCORES.get(ood)
    result = cross_domain(args.model, args.dataset, args.split, groups="; ".join(args.group or []), ood=ood)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_csv(result.table, out)
    summary_path = out.with_suffix(".json")
    summary_path.write_text(json.dumps(result.summary, indent=2))
    o = result.summary["ood"]
    print(f"wrote {out} ({len(result.table)} rows) and {summary_path}")
    print("arg-max: " + ", ".join(f"{k} {v}" for k, v in result.summary["argmax_counts"].items()))
    if o["available"]:
        auroc = f"AUROC {o['auroc']:.3f} against {o['reference_dataset']} test" if o["auroc"] is not None else \
            "this is the model's own dataset"
        print(f"outside the training domain: {o['flagged_fraction']:.1%} of images ({o['method']}; {auroc})")
    else:
        print(f"no out-of-domain score: {o['reason']}")
    return 0
