"""``evaluate``: classification metrics of a model on a dataset split (the source paper's Fig. 11)."""

from __future__ import annotations

import json

from ..errors import InputError
from . import command
from ._shared import table


def _arguments(v) -> None:
    v.add_argument("--model", required=True, help="shipped model name, model folder or .keras file")
    v.add_argument("--dataset", default=None, help="dataset (default: the one the model was trained on)")
    v.add_argument("--split", default="test", help="split name (train, val, test, ...)")
    v.add_argument("--json", action="store_true", help="print every figure as JSON")


@command("evaluate", "classification metrics of a model on a dataset split", _arguments)
def run(args) -> int:
    from ..evaluation import evaluate
    from ..models import load_model

    lm = load_model(args.model)
    dataset = args.dataset or lm.metadata.dataset
    if not dataset:
        raise InputError(f"{lm.name} does not say which dataset it was trained on; pass --dataset.")
    r = evaluate(lm, dataset, args.split)
    if args.json:
        print(json.dumps(r, indent=2))
        return 0
    print(f"{r['model']} on {r['dataset']}:{r['split']} ({r['n']} images)")
    print("  ".join(f"{k} {r[k]:.4f}" for k in ("accuracy", "balanced_accuracy", "cohen_kappa", "log_loss", "mse",
                                                "macro_f1") if r[k] is not None))
    rows = [{k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in row.items()} for row in r["per_class"]]
    print(table(rows, ["class", "support", "accuracy", "precision", "recall", "f1", "auc_ovr"]))
    return 0
