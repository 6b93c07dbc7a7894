"""``strategies``: cluster a finished audit's maps into the model's strategies and flag suspicious ones."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import InputError
from . import command
from ._shared import table


def _arguments(s) -> None:
    s.add_argument("--audit", required=True, help="a finished audit folder (python -m xai_core audit --out DIR)")
    s.add_argument("--method", default=None, help="whose maps to cluster (default: the audit's first method)")
    s.add_argument("--class", dest="class_name", default=None,
                   help="only maps explaining this class (default: every explained class)")
    s.add_argument("--k", default="auto", help="number of clusters, or 'auto' for the largest eigengap")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--json", action="store_true", help="print the result as JSON")
    s.add_argument("--out", default=None, help="write strategies.json and clusters.csv into this folder")


@command("strategies", "cluster an audit's stored maps (SpRAy) and flag strategies whose evidence sits away "
                       "from the finding", _arguments)
def run(args) -> int:
    import pandas as pd

    from ..exports import write_csv
    from ..strategies import from_audit

    folder = Path(args.audit)
    if not folder.is_dir():
        raise InputError(f"{args.audit} is not a folder.")
    if args.k != "auto":
        try:
            k = int(args.k)
        except ValueError:
            raise InputError(f"--k must be a whole number or 'auto'; got {args.k!r}.") from None
    else:
        k = "auto"
    result = from_audit(folder, args.method, args.class_name, k, args.seed)
    doc = result.to_json()
    rows = result.table()
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "strategies.json").write_text(json.dumps(doc, indent=1))
        write_csv(pd.DataFrame(rows), out / "clusters.csv")
    if args.json:
        print(json.dumps(doc))
        return 0
    print(f"{doc['meta']['model']} on {doc['meta']['dataset']}:{doc['meta']['split']}, {result.method}: "
          f"{len(result.image_ids)} maps, {result.k} strategies ({result.k_chosen_by})"
          + (f", {result.left_out} maps without positive evidence left out" if result.left_out else "")
          + "".join(f", {n} withheld ({why})" for why, n in result.withheld.items()))
    print(table([{"cluster": r["cluster"], "size": r["size"], "predicted": r["predicted_classes"],
                  "accuracy": "" if r["accuracy"] is None else f"{r['accuracy']:.2f}",
                  "flag": "SUSPICIOUS" if r["suspicious"] else "", "where": r["description"].split("; ", 1)[-1]}
                 for r in rows], ["cluster", "size", "predicted", "accuracy", "flag", "where"]))
    return 0
