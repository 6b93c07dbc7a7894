"""Text that comes from users' files shown as exactly that text, in every place it is shown.

Class names (labels files, a model's metadata, folder names), DICOM text fields and model names are
written by whoever made the file. Each output reads some characters as instructions: Markdown (links,
images fetched on page load, ``:red[...]`` colour), HTML (tags, entities), matplotlib's mathtext (``$``
starts a formula; an unbalanced one is a parse error that stops a PDF), and a terminal (ESC sequences
move the cursor, retitle the window, hide text). One function per output turns such text into a
literal; ``clip`` keeps a 10,000-character name from breaking a layout.
"""

from __future__ import annotations

import html
import re
import unicodedata

ELLIPSIS = "…"

# Every character CommonMark may read as markup, plus Streamlit's own (":" for :red[..] and :emoji:,
# "$" for LaTeX, "~" strikethrough, "|" tables)
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|$~:&=^])")
# CSI (ESC [ ... final, or 8-bit CSI), OSC and DCS (to BEL or ST), other two-character escapes
_ANSI = re.compile(r"(?:\x1b\]|\x9d|\x1bP|\x90)[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"
                   r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")


def clip(text, limit: int = 200) -> str:
    """``text`` as a string of at most ``limit`` characters, cut with an ellipsis."""
    s = "" if text is None else str(text)
    return s if len(s) <= limit else s[:max(0, limit - 1)] + ELLIPSIS


def visible(text) -> str:
    """``text`` with control and format characters (newlines, right-to-left overrides, zero-width joiners,
    ESC) shown as ``\\uXXXX``, so a name cannot pretend to be two lines or read backwards."""
    out = []
    for ch in "" if text is None else str(text):
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Co", "Cs"):
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def markdown_literal(text, limit: int | None = 200) -> str:
    """``text`` escaped so that Markdown (Streamlit's included) shows it character for character."""
    s = visible(clip(text, limit) if limit else text)
    return _MARKDOWN.sub(r"\\\1", s)


_LINKS = re.compile(r"([\\`\[\]<>$])")


def message_literal(text) -> str:
    """A sentence of ours that quotes users' text (an error naming a file or class): the characters that
    make links, images, HTML, colour and formulas are escaped, and bare ``https://``/``www.`` addresses are
    broken so they are not linked; the rest keeps its plain look (``XAI_DATA_ROOTS`` stays as written)."""
    s = _LINKS.sub(r"\\\1", visible(text))
    return re.sub(r"(?i)(://|www\.)", lambda m: "\\:" + m.group(1)[1:] if m.group(1) == "://" else "www\\.", s)


def html_literal(text, limit: int | None = None) -> str:
    """``text`` for an HTML page or a Plotly label (which reads ``<b>``, ``<a href>``, ``<br>``)."""
    s = visible(clip(text, limit) if limit else text)
    return html.escape(s, quote=True)


def plotly_literal(text, limit: int | None = 60) -> str:
    """``text`` for a Plotly title, tick or hover label: HTML-escaped (Plotly reads ``<a href>``, ``<br>``)
    and ``%`` as an entity, so ``%{x}`` in a name is not a template field."""
    return html_literal(text, limit).replace("%", "&#37;")


def mathtext_literal(text, limit: int | None = 80) -> str:
    """``text`` for a matplotlib label: ``$`` escaped (mathtext would parse it), controls made visible."""
    s = visible(clip(text, limit) if limit else text)
    return s.replace("\\", "\\\\").replace("$", r"\$")


def terminal_literal(text) -> str:
    """``text`` for a terminal: escape sequences removed, other control characters made visible (the
    newline and tab of a multi-line message are kept)."""
    s = _ANSI.sub("", "" if text is None else str(text))
    return "".join(ch if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp")
                   else f"\\u{ord(ch):04x}" for ch in s)
