"""``shortcut``: does a model lean on a shortcut, and which explanation methods show it?"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import InputError

from . import command
from ._shared import table


def _arguments(s) -> None:
    s.add_argument("--model", required=True, action="append",
                   help="shipped model name, model folder or .keras file (repeatable)")
    s.add_argument("--dataset", default="synthetic-brain-mri-tagged",
                   help="a dataset with a clean split and/or a shortcut mask")
    s.add_argument("--method", action="append", default=None,
                   help="explanation method for the audit (repeatable; default shap-partition and lime)")
    s.add_argument("--images", type=int, default=12, help="shortcut-carrying test scans explained per method")
    s.add_argument("--json", action="store_true", help="print every figure as JSON")
    s.add_argument("--out", default=None, help="also write the JSON to this file (the page reads shipped results "
                                               "from assets/shortcut/DATASET.json)")


@command("shortcut", "clean vs tagged accuracy, and per method the attribution share on the shortcut vs the lesion",
         _arguments)
def run(args) -> int:
    from ..shortcut import audit, recall_drop

    methods = args.method or ["shap-partition", "lime"]
    results = []
    for m in args.model:
        results.append({"recall": recall_drop(m, args.dataset),
                        "audit": audit(m, args.dataset, methods, n=args.images)})
    text = json.dumps(results, indent=2, default=float)
    if args.out:
        out = Path(args.out)
        if out.suffix != ".json":
            raise InputError("--out must name a .json file.")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
    if args.json:
        print(text)
        return 0
    for r in results:
        d, a = r["recall"], r["audit"]
        print(f"{d['model']}: accuracy {d['accuracy_tagged']:.4f} on {d['tagged_split']}, "
              f"{d['accuracy_clean']:.4f} on {d['clean_split']} (drop {d['drop']:+.4f})")
        print(table([{k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in row.items()}
                     for row in d["per_class"]], ["class", "recall_tagged", "recall_clean", "drop"]))
        print(table([{"method": row["method"], "marker_share": f"{row['marker_share']:.4f}",
                      "lesion_focus": f"{row['lesion_focus']:.4f}", "marker_area": f"{row['marker_area']:.4f}",
                      "images": row["images"]} for row in a["methods"]],
                    ["method", "marker_share", "lesion_focus", "marker_area", "images"]))
    return 0
