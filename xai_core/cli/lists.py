"""``datasets``, ``models``, ``explainers``, ``architectures``: list what is registered."""

from __future__ import annotations

import json

from . import command
from ._shared import table


def _json_flag(s) -> None:
    s.add_argument("--json", action="store_true", help="machine-readable output")


def _print(rows, cols, as_json) -> int:
    print(json.dumps(rows, indent=2) if as_json else table(rows, cols))
    return 0


@command("datasets", "list registered datasets", _json_flag)
def datasets(args) -> int:
    from ..data import list_datasets
    from ..data.folder import list_folder_datasets

    rows = list_datasets() + [{"name": n, "domain": "folder", "classes": [], "description": "dataset folder"}
                              for n in list_folder_datasets()]
    for r in rows:
        r["classes"] = ",".join(r["classes"]) if not args.json else r["classes"]
    return _print(rows, ["name", "domain", "classes", "description"], args.json)


@command("models", "list shipped and user models", _json_flag)
def models(args) -> int:
    from ..models import list_models

    return _print(list_models(), ["name", "source", "dataset", "arch", "test_accuracy"], args.json)


@command("explainers", "list registered explanation methods", _json_flag)
def explainers(args) -> int:
    from ..explainers import EXPLAINERS

    rows = [c.describe() for _, c in EXPLAINERS.items()]
    if not args.json:
        rows = [{**r, "params": ", ".join(f"{k}={v}" for k, v in r["params"].items()) or "-",
                 "additive": "yes" if r["additive"] else "no"} for r in rows]
    return _print(rows, ["name", "display_name", "family", "unit", "additive", "params"], args.json)


@command("architectures", "list registered architectures", _json_flag)
def architectures(args) -> int:
    from ..models.architectures import ARCHITECTURES

    rows = [{"name": n, "description": a.description} for n, a in ARCHITECTURES.items()]
    return _print(rows, ["name", "description"], args.json)
