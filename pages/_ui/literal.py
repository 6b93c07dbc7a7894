"""Text from users' files on a page: shown as the characters it holds, never as Markdown or HTML.

Streamlit renders Markdown in ``st.markdown``, captions, alerts, metric and widget labels: a class name
``[x](https://...)`` would be a working link, ``![](https://...)`` an image fetched on page load (a
tracking pixel), ``:red[...]`` coloured text. Every class name, model or dataset name, file name and
DICOM text field that goes into such an element passes through ``lit``; long ones are cut with an
ellipsis so that a 10,000-character name cannot push the page apart.
"""

from __future__ import annotations

from xai_core.untrusted import markdown_literal


def lit(text, limit: int | None = 200) -> str:
    """``text`` escaped for Streamlit Markdown (see ``xai_core.untrusted.markdown_literal``)."""
    return markdown_literal(text, limit)


def lits(texts, limit: int | None = 200, sep: str = ", ") -> str:
    """Several names, each escaped and cut, joined by ``sep``."""
    return sep.join(lit(t, limit) for t in texts)
