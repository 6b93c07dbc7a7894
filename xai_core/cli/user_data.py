"""``user-data``: list what you added (models, unpacked datasets, decoded copies) and delete by name."""

from __future__ import annotations

import json

from . import command
from ._shared import table


def _arguments(u) -> None:
    g = u.add_mutually_exclusive_group()
    g.add_argument("--list", action="store_true", help="list what you added and the space it takes (default)")
    g.add_argument("--delete", metavar="NAME", help="delete one model or dataset you added, by its listed name")
    u.add_argument("--json", action="store_true", help="machine-readable output")


@command("user-data", "list or delete the models and datasets you added, within the disk budget", _arguments)
def run(args) -> int:
    from .. import config, userdata

    if args.delete:
        item = userdata.delete(args.delete)
        print(f"deleted {item.kind} {item.name} ({item.bytes / 2**20:,.1f} MB) from {item.path}")
        return 0
    rows = [{"name": i.name, "kind": i.kind, "MB": round(i.bytes / 2**20, 1), "path": str(i.path)}
            for i in userdata.items()]
    used, limit = userdata.used_bytes(), config.user_data_max_bytes()
    if args.json:
        print(json.dumps({"items": rows, "used_bytes": used, "limit_bytes": limit}, indent=2))
        return 0
    print(table(rows, ["name", "kind", "MB", "path"]) if rows else "nothing added yet")
    print(f"{used / 2**20:,.1f} MB used of {limit / 2**20:,.0f} MB (XAI_USER_DATA_MAX_MB)")
    return 0
