"""Every CSV export escapes text cells a spreadsheet would run as formulas (OWASP CSV injection)."""

import ast
import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from tests.conftest import ROOT
from xai_core.exports import csv_text

ATTACKS = ["=1+1", "+1+1/img1.png", "-2+3+cmd|' /C notepad'!A0", "@SUM(A1)", "\tx", "\rx"]


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_formula_cells_are_escaped_and_numbers_are_not():
    df = pd.DataFrame({"class": ATTACKS, "value": [-0.25, 1.0, -3.0, 0.0, 2.5, -1e-9],
                       "n": np.arange(-3, 3), "name": pd.array(ATTACKS, dtype="string")})
    rows = _cells(csv_text(df))
    assert rows[0] == ["class", "value", "n", "name"]
    for (cls, value, n, name), attack in zip(rows[1:], ATTACKS):
        assert cls == "'" + attack and name == "'" + attack  # text: made inert
    back = pd.read_csv(io.StringIO(csv_text(df)))
    assert back["value"].tolist() == df["value"].tolist()  # negative numbers stay numbers
    assert back["n"].tolist() == list(range(-3, 3))
    # a harmless text cell and a column name that looks like a formula
    rows = _cells(csv_text(pd.DataFrame({"=cmd": ["glioma", "-"]})))
    assert rows == [["'=cmd"], ["glioma"], ["'-"]]
    # index labels too (the method agreement matrix is written with its index)
    rows = _cells(csv_text(pd.DataFrame({"a": [1.0]}, index=["=HYPERLINK(1)"]), index=True))
    assert rows[1][0] == "'=HYPERLINK(1)"


def test_every_csv_writer_goes_through_the_shared_function():
    """No page, CLI command or core module writes CSV by itself: one function, one rule."""
    offenders = []
    for f in [*ROOT.joinpath("pages").rglob("*.py"), *ROOT.joinpath("xai_core").rglob("*.py"), ROOT / "app.py"]:
        if f.name == "exports.py":
            continue
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("to_csv", "writer", "DictWriter"):
                offenders.append(f"{f.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, offenders


def test_the_audit_rows_csv_is_escaped(tmp_path):
    from xai_core.audit import AuditSpec, AuditStore

    store = AuditStore(tmp_path / "a")
    store.start(AuditSpec("m", "d"))
    df = pd.DataFrame({"image_id": ["+1+1/img1.png"], "true_class": ["=cmd"], "focus": [-0.5]})
    store.finish(df, {"rows": 1})
    rows = _cells(Path(tmp_path / "a" / "rows.csv").read_text())
    assert rows[1] == ["'+1+1/img1.png", "'=cmd", "-0.5"]
