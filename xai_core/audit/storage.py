"""An audit folder on disk: append-only parts while running, one table and a summary when done.

Layout of ``--out DIR``::

    spec.json        what is audited (a rerun must match it)
    command.txt      the exact command(s) that wrote the folder, one per run
    parts/           one Parquet file per finished batch, written to a temporary name and renamed
    rows.parquet     all rows, in image order (rewritten at the end of every run)
    rows.csv         the same table as CSV
    maps.npz         every explained map at 32x32 (see maps.py), for ``strategies``
    summary.json     means with bootstrap intervals, overall and per class (see summary.py)

A batch is appended by an atomic rename, so a killed audit loses at most the
batch in flight, and a rerun reads the parts to skip every finished image.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from .. import config
from ..errors import InputError
from ..paths import within
from .maps import MAP_COLUMN, write_maps
from .spec import AuditSpec
from ..exports import csv_text

SPEC_FILE, COMMAND_FILE, ROWS_FILE, CSV_FILE, SUMMARY_FILE = (
    "spec.json", "command.txt", "rows.parquet", "rows.csv", "summary.json")
PARTS = "parts"


def frame(rows: list[dict], cols: list[str]) -> pd.DataFrame:
    """Rows as a table with fixed column types, so parts from any engine concatenate and compare exactly."""
    df = pd.DataFrame.from_records(rows, columns=cols)
    for c in cols:
        if c == MAP_COLUMN:  # float32 bytes of the reduced map (None where there is none)
            df[c] = df[c].astype(object)
        elif c in ("index", "class_index", "slice", "slices"):
            df[c] = pd.to_numeric(df[c]).fillna(-1).astype(np.int64)
        elif c in ("correct", "ood_flag"):
            df[c] = df[c].astype("boolean")
        elif c in ("probability", "ood_score", "class_probability", "seconds") or not (
                c in ("image_id", "true_class", "predicted_class", "method", "class", "error", "withheld", "case",
                      "plane", "modality", "study", "spacing", "backend")
                or c.endswith(".verdict")):
            df[c] = pd.to_numeric(df[c], errors="coerce").astype(np.float64)
        else:
            df[c] = df[c].astype("string")
    return df


class AuditStore:
    def __init__(self, out: str | Path):
        self.out = Path(out)

    @property
    def parts(self) -> Path:
        return self.out / PARTS

    def file(self, name: str) -> Path:
        """``out / name`` for reading, refused if a symbolic link leads it out of the audit folder (a
        planted ``rows.csv -> /etc/passwd`` would otherwise be served as a download)."""
        return within(self.out / name, self.out, own=self.out, what="the audit folder")

    def start(self, spec: AuditSpec, command: str = "") -> None:
        """Create the folder, or check that an existing one audits the same thing."""
        self.out.mkdir(parents=True, exist_ok=True)
        self.parts.mkdir(exist_ok=True)
        path = self.out / SPEC_FILE
        if path.exists():
            old = AuditSpec.from_json(path.read_text())
            if old.identity() != spec.identity():
                diff = sorted(k for k, v in spec.identity().items() if old.identity().get(k) != v)
                raise InputError(f"{self.out} holds an audit with different settings ({', '.join(diff)}); "
                                 "choose another --out folder.")
        _write_atomic(path, spec.to_json().encode())
        if command:
            with open(self.out / COMMAND_FILE, "a", encoding="utf-8") as f:
                f.write(command.rstrip("\n") + "\n")

    def spec(self) -> AuditSpec:
        path = self.out / SPEC_FILE
        if not path.is_file():
            raise InputError(f"{self.out} is not an audit folder (no {SPEC_FILE}).")
        return AuditSpec.from_json(self.file(SPEC_FILE).read_text())

    def append(self, df: pd.DataFrame) -> None:
        """One finished batch, atomically: a part appears whole or not at all."""
        if len(df):
            name = f"part-{time.time_ns():020d}-{os.getpid()}.parquet"
            tmp = self.parts / f".{name}.tmp"
            df.to_parquet(tmp, index=False)
            os.replace(tmp, self.parts / name)

    def done_ids(self) -> set[str]:
        done = set()
        for p in sorted(self.parts.glob("part-*.parquet")) if self.parts.is_dir() else []:
            done.update(pd.read_parquet(self.file(f"{PARTS}/{p.name}"), columns=["image_id"])["image_id"].astype(str))
        return done

    def rows(self, order: list[str] | None = None) -> pd.DataFrame:
        """Every row so far: parts concatenated, in image order (then method order, then class)."""
        files = sorted(self.parts.glob("part-*.parquet")) if self.parts.is_dir() else []
        if not files:
            if (self.out / ROWS_FILE).is_file():
                return pd.read_parquet(self.file(ROWS_FILE))
            return pd.DataFrame()
        df = pd.concat([pd.read_parquet(self.file(f"{PARTS}/{p.name}")) for p in files], ignore_index=True)
        df = df.drop_duplicates(["image_id", "method", "class_index"], keep="first")
        spec = self.spec()
        rank = {m: i for i, m in enumerate(spec.methods)}
        pos = {i: n for n, i in enumerate(order)} if order is not None else None
        key_img = df["image_id"].map(pos) if pos is not None else df["image_id"]
        df = df.assign(_i=key_img, _m=df["method"].map(rank), _c=df["class_index"])
        return df.sort_values(["_i", "_m", "_c"], kind="stable").drop(columns=["_i", "_m", "_c"]).reset_index(
            drop=True)

    def finish(self, df: pd.DataFrame, summary: dict) -> None:
        """The final table (without the map cells), its CSV, the maps and the summary."""
        if MAP_COLUMN in df:
            write_maps(df, self.out)
            df = df.drop(columns=[MAP_COLUMN])
        tmp = self.out / f".{ROWS_FILE}.tmp"
        df.to_parquet(tmp, index=False)
        os.replace(tmp, self.out / ROWS_FILE)
        _write_atomic(self.out / CSV_FILE, csv_text(df).encode())
        _write_atomic(self.out / SUMMARY_FILE, json.dumps(summary, indent=2, allow_nan=False).encode())

    def summary(self) -> dict:
        return json.loads(self.file(SUMMARY_FILE).read_text())

    def commands(self) -> list[str]:
        p = self.out / COMMAND_FILE
        return self.file(COMMAND_FILE).read_text().splitlines() if p.is_file() else []


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def private_root(root: Path, owner: str) -> Path:
    """``owner``'s private audits: what a dashboard session audits stays here until it shares it."""
    return Path(root) / config.SESSIONS / config.check_owner(owner)


def list_audits(root: Path, owner: str | None = None) -> list[dict]:
    """Audits directly under ``root`` (shared) and, with ``owner``, in that owner's private area
    (newest first), for the page's picker. Hidden folders (other sessions' areas) and links are skipped."""
    out = []
    places = [(Path(root), False)] + ([(private_root(root, owner), True)] if owner else [])
    for base, private in places:
        if base.is_dir():
            for d in base.iterdir():
                if d.name.startswith(".") or d.is_symlink() or not (d / SPEC_FILE).is_file():
                    continue
                out.append({"name": d.name, "path": d, "finished": (d / SUMMARY_FILE).is_file(),
                            "mtime": (d / SPEC_FILE).stat().st_mtime, "private": private})
    return sorted(out, key=lambda r: -r["mtime"])


def audit_folder(root: Path, name: str, owner: str | None = None) -> Path:
    """``root / name`` (or, with ``owner``, that owner's private ``name``), refused unless it is a direct
    child of that folder, with no link leading out and no other session's area (no other path is opened)."""
    base = private_root(root, owner) if owner else Path(root)
    try:
        p = within(base / str(name), root, own=base if owner else None, what="the audits folder")
    except InputError:
        p = None
    if p is None or p.parent != base.resolve() or not (p / SPEC_FILE).is_file() or (base / str(name)).is_symlink():
        raise InputError(f"There is no audit named {name!r} in {root}.")
    return p


def share_audit(root: Path, name: str, owner: str) -> Path:
    """Move ``owner``'s private audit ``name`` into the shared audits folder; refused while it audits a
    private model or dataset (other users could not open those, and their paths would show)."""
    src = audit_folder(root, name, owner)
    spec = AuditStore(src).spec()
    if config.SESSIONS in f"{spec.model}/{spec.dataset}":
        raise InputError("This audit is of your private model or dataset; add those to the shared library first, "
                         "then audit them again to share the result.")
    dest = Path(root) / src.name
    if dest.exists():
        raise InputError(f"The shared audits folder already has an audit called {src.name!r}.")
    os.replace(src, dest)
    return dest
