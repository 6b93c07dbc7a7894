"""Every CSV this project writes goes through ``csv_text``: text cells cannot become spreadsheet formulas.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a formula by
Excel, LibreOffice and Google Sheets (``-2+3+cmd|' /C notepad'!A0``). Class names, file names and model
names come from users' files, so the OWASP rule applies: such a *text* cell gets a leading apostrophe
(https://owasp.org/www-community/attacks/CSV_Injection). Numbers are never touched: a negative
attribution stays the number -0.25, not the text "'-0.25".
"""

from __future__ import annotations

import csv

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """``value`` with a leading apostrophe if it is text that a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _texty(values) -> bool:
    """Whether a column or index may hold text (object, string or categorical dtype)."""
    dtype = values.dtype
    return dtype == object or pd.api.types.is_string_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype)


def _escape_labels(labels: pd.Index) -> pd.Index:
    if isinstance(labels, pd.MultiIndex):
        return labels.set_levels([lvl.map(csv_cell) if _texty(lvl) else lvl for lvl in labels.levels])
    return labels.map(csv_cell) if _texty(labels) else labels


def escape_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells, column names and index labels are formula-safe; numbers unchanged."""
    out = df.copy()
    for c in out.columns:
        col = out[c]
        if _texty(col):
            out[c] = col.astype(object).map(csv_cell)
    out.columns = _escape_labels(out.columns)
    out.index = _escape_labels(out.index)
    return out


def csv_text(df: pd.DataFrame, index: bool = False, **kwargs) -> str:
    """``df.to_csv(index=index)`` with every text cell escaped (see the module docstring)."""
    safe = escape_frame(df)
    if _has_cr(safe):  # pandas leaves a lone carriage return unquoted, which splits the row in two
        kwargs.setdefault("quoting", csv.QUOTE_NONNUMERIC)
    return safe.to_csv(index=index, **kwargs)


def _has_cr(df: pd.DataFrame) -> bool:
    labels = [*map(str, df.columns), *map(str, df.index)]
    cells = [v for c in df.columns if _texty(df[c]) for v in df[c] if isinstance(v, str)]
    return any("\r" in t for t in labels + cells)


def write_csv(df: pd.DataFrame, path, index: bool = False) -> None:
    """Write ``csv_text(df)`` to ``path`` (UTF-8)."""
    from pathlib import Path

    Path(path).write_text(csv_text(df, index=index), encoding="utf-8")
