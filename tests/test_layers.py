"""No module of xai_core imports from a higher layer (segmenters never import explainers, and so on).

The layers, lowest first. A module may import its own layer and the ones below. Every import counts,
including the lazy ones inside functions: a lazy import still couples the layers.
"""

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "xai_core"

LAYERS = [
    {"errors", "params", "registry", "config", "explanation", "cache", "cancel", "limits", "magnitude",
     "userdata", "prediction"},  # shared types and budgets, no plug-ins
    {"data"},  # images, scans, datasets
    {"models"},  # loading, heads, white-box access, architectures, training
    {"segmenters"},
    {"explainers"},
    {"ood"},
    # metrics that re-run an explanation (stability, randomisation) call the API, so they share its layer
    {"metrics", "api", "domain", "evaluation", "compare", "cross_domain", "method_comparison",
     "progressive", "warmup", "trust", "shortcut", "audit", "estimate"},  # workflows over the plug-ins
    {"plots"},  # results in, figures out
    {"cli", "__main__", "__init__", "report"},  # entry points and the documents they write
]
RANK = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def _part(module: str) -> str:
    """The top-level part of xai_core a dotted module path (relative to xai_core) belongs to."""
    return module.split(".")[0] or "__init__"


# Known debt, each with its reason; the list may only shrink.
ALLOWED = {
    # training reports the same metrics as `evaluate`; classification_report belongs in a lower layer
    ("models/training.py", "evaluation"),
    # deleting a user item also drops the loaders' in-memory copies (lazy imports, inside delete())
    ("userdata.py", "data"),
    ("userdata.py", "models"),
    # explanation-guided training explains inside the training loop (lazy imports); found at merge, for review
    ("models/guided.py", "api"),
    ("models/training.py", "explainers"),
}


def _imports(path: Path, text: str | None = None):
    rel = path.relative_to(CORE).with_suffix("")
    package = list(rel.parts[:-1])
    for node in ast.walk(ast.parse(path.read_text() if text is None else text)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)] if node.level > 1 else package
                target = ".".join([*base, *(node.module.split(".") if node.module else [])])
                names = [target] if node.module else [f"{target}.{a.name}".lstrip(".") for a in node.names]
                yield from names
            elif node.module and node.module.startswith("xai_core"):
                yield node.module.removeprefix("xai_core").lstrip(".")
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("xai_core"):
                    yield a.name.removeprefix("xai_core").lstrip(".")


def test_every_part_of_the_core_has_a_layer():
    parts = {p.stem if p.is_file() else p.name for p in CORE.iterdir()
             if (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists()))}
    assert parts <= set(RANK), f"give these a layer in LAYERS: {sorted(parts - set(RANK))}"


def test_no_import_reaches_up_a_layer():
    offenders = []
    for f in CORE.rglob("*.py"):
        here = _part(".".join(f.relative_to(CORE).with_suffix("").parts))
        for target in _imports(f):
            there = _part(target)
            if there in RANK and RANK[there] > RANK[here] and (str(f.relative_to(CORE)), there) not in ALLOWED:
                offenders.append(f"{f.relative_to(CORE)} imports {target} ({there} is above {here})")
    assert not offenders, "\n".join(offenders)


def test_the_checker_catches_an_upward_import():
    """A segmenter that imported an explainer would be reported (the test can fail)."""
    found = list(_imports(CORE / "segmenters" / "slic.py", "from ..explainers import EXPLAINERS\n"))
    assert found == ["explainers"] and RANK[_part(found[0])] > RANK["segmenters"]
    found = list(_imports(CORE / "models" / "loaded.py", "from xai_core.plots import base\n"))
    assert found == ["plots"] and RANK["plots"] > RANK["models"]
