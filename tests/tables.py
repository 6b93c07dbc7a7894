"""Is any text of an ``st.dataframe`` cut off? A check for AppTest elements.

``st.dataframe`` draws on a canvas (glide-data-grid), so the browser's ``scrollWidth <= clientWidth``
cannot see its cells. What decides a cut is known in advance, though: a column with a fixed width
(``"small"`` 75 px, ``"medium"`` 200 px, ``"large"`` 400 px or a number of pixels) clips text wider than
that width less the grid's 8 px padding each side; a column without one is sized by the grid to its
longest text. So each fixed-width column's header and cells are measured at the grid's 14 px with
DejaVu Sans (bold for headers), a wider face than the grid's Source Sans: if DejaVu fits, the grid's
text fits. DejaVu comes with fontconfig, which Chromium needs anyway.
"""

from __future__ import annotations

import io
import json
from functools import lru_cache

import pyarrow as pa
from PIL import ImageFont

PRESETS = {"small": 75, "medium": 200, "large": 400}
PADDING = 2 * 8
FONTS = {False: "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
         True: "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"}


@lru_cache(maxsize=2)
def _font(bold: bool):
    return ImageFont.truetype(FONTS[bold], 14)


def text_px(text: str, bold: bool = False) -> float:
    return _font(bold).getlength(text)


def _shown(value, type_config: dict) -> str:
    fmt = type_config.get("format")
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, (int, float)) and fmt:
        if fmt == "percent":
            return f"{value:.2%}"
        if "%" in fmt:
            return fmt % value
    return str(value)


def cut_off(element) -> list[tuple[str, str, float, float]]:
    """(column, text, pixels needed, pixels given) for every header or cell a fixed-width column clips."""
    proto = element.proto
    config = json.loads(proto.columns or "{}")
    table = pa.ipc.open_stream(io.BytesIO(proto.arrow_data.data)).read_all().to_pandas()
    cut = []
    for name in table.columns:
        col = config.get(str(name), {})
        width = col.get("width")
        if width is None or col.get("hidden"):
            continue  # sized by the grid to its content
        px = PRESETS.get(width, width) if isinstance(width, str) else float(width)
        header = col.get("label") or str(name)
        texts = [(header, True)] + [(_shown(v, col.get("type_config", {})), False) for v in table[name]]
        for text, bold in texts:
            need = text_px(text, bold) + PADDING
            if need > px:
                cut.append((str(name), text, round(need, 1), float(px)))
    return cut
