"""The README's table of verdict rules, generated from the metric registry (one home for each rule).

``rules_table()`` writes one Markdown row per registered metric: its
category, whether it sits on the default trust card, the region its mask
must outline, its verdict rule and why. ``update_readme(path)`` replaces the
text between the two markers in the README; ``tests/test_verdicts.py``
checks that the README holds exactly this table.
"""

from __future__ import annotations

from pathlib import Path

from . import METRICS

START, END = "<!-- metric-rules:start -->", "<!-- metric-rules:end -->"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def rules_table() -> str:
    rows = ["| metric | category | better | default card | mask | verdict rule | why |",
            "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, m in sorted(METRICS.items(), key=lambda kv: (kv[1].category, kv[1].card or 999, kv[0])):
        card = "yes" if m.card is not None else f"on request ({m.cost})"
        rows.append(f"| `{name}` | {m.category} | {m.better} | {card} | {m.region or '-'} | {_cell(m.rule)} | "
                    f"{_cell(m.why)} |")
    return "\n".join(rows)


def readme_table(text: str) -> str | None:
    """The table between the markers of a README's ``text`` (None without the markers)."""
    if START not in text or END not in text:
        return None
    return text.split(START, 1)[1].split(END, 1)[0].strip()


def update_readme(path) -> None:
    """Write ``rules_table()`` between the markers of the README at ``path``."""
    p = Path(path)
    text = p.read_text()
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    p.write_text(f"{head}{START}\n{rules_table()}\n{END}{tail}")


if __name__ == "__main__":  # python -m xai_core.metrics.rules README.md
    import sys

    update_readme(sys.argv[1] if len(sys.argv) > 1 else "README.md")
