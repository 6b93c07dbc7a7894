"""No module of xai_core imports from a higher layer (segmenters never import explainers, and so on).

The layers, lowest first. A module may import its own layer and the ones below. Every import counts,
including the lazy ones inside functions: a lazy import still couples the layers.
"""

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "xai_core"

LAYERS = [
    {"version", "agreement", "errors", "params", "registry", "config", "explanation", "cache", "cancel", "limits",
     "magnitude", "userdata", "exports", "untrusted", "paths", "prediction"},  # shared types, budgets, safe output
    {"data"},  # images, scans, datasets
    {"models"},  # loading, heads, white-box access, architectures
    {"segmenters"},
    {"explainers"},
    {"ood"},
    # metrics that re-run an explanation (stability, randomisation) call the API, so they share its layer
    {"metrics", "api", "domain", "evaluation", "compare", "cross_domain", "method_comparison",
     "progressive", "warmup", "trust", "shortcut", "audit", "training", "gates", "regions",
     "domain_reference", "strategies", "slices", "estimate", "precision"},  # workflows over the plug-ins
    {"plots"},  # results in, figures out
    {"cli", "__main__", "__init__", "report", "export"},  # entry points and the documents they write
]
RANK = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def _part(module: str) -> str:
    """The top-level part of xai_core a dotted module path (relative to xai_core) belongs to."""
    return module.split(".")[0] or "__init__"


# Known cycles (sorted module names); the list may only shrink.
KNOWN_CYCLES: list[list[str]] = []

# Known debt, each with its reason; the list may only shrink.
ALLOWED = {
}


def _imports(path: Path, text: str | None = None):
    """Every xai_core module ``path`` imports, relative to xai_core, at module level or inside functions."""
    rel = path.relative_to(CORE).with_suffix("")
    package = list(rel.parts[:-1])
    for node in ast.walk(ast.parse(path.read_text() if text is None else text)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)] if node.level > 1 else package
                target = ".".join([*base, *(node.module.split(".") if node.module else [])])
                # `from .pkg import name`: the submodule pkg.name if there is one, else pkg itself
                for a in node.names:
                    yield f"{target}.{a.name}".lstrip(".") if _is_module(f"{target}.{a.name}") else target
            elif node.module and node.module.startswith("xai_core"):
                target = node.module.removeprefix("xai_core").lstrip(".")
                for a in node.names:
                    yield f"{target}.{a.name}".lstrip(".") if _is_module(f"{target}.{a.name}") else target
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("xai_core"):
                    yield a.name.removeprefix("xai_core").lstrip(".")


def _is_module(dotted: str) -> bool:
    p = CORE.joinpath(*dotted.strip(".").split("."))
    return bool(dotted.strip(".")) and (p.with_suffix(".py").is_file() or (p / "__init__.py").is_file())


def _module(path: Path) -> str:
    """The dotted name of a file of xai_core, relative to it (a package by its folder; the root is "")."""
    parts = path.relative_to(CORE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph() -> dict[str, set[str]]:
    """Module -> the modules it imports, lazy imports inside functions included."""
    return {_module(f): {t for t in _imports(f) if t != _module(f)} for f in CORE.rglob("*.py")}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles: strongly connected groups of more than one module (Tarjan's algorithm)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while not group or group[-1] != v:
                group.append(stack.pop())
                on.discard(group[-1])
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


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
    assert found == ["plots.base"] and RANK[_part(found[0])] > RANK["models"]


def test_no_import_cycle():
    """No group of modules imports itself round, counting lazy imports inside functions."""
    assert [c for c in _cycles(_graph()) if c not in KNOWN_CYCLES] == []


def test_the_cycle_finder_finds_a_cycle():
    """A lazy import back from the user-data budget to the loaders would be reported (the test can fail)."""
    graph = _graph()
    assert "data" not in graph["userdata"] and "userdata" in graph["data"]
    graph["userdata"] = graph["userdata"] | set(_imports(CORE / "userdata.py", "def f():\n    from . import data\n"))
    assert any({"userdata", "data"} <= set(c) for c in _cycles(graph))


def test_the_checker_sees_a_name_imported_from_a_package():
    """`from . import name` is an import of the package itself unless `name` is one of its submodules:
    the cache reading `__version__` from the package root would import every layer above it."""
    assert list(_imports(CORE / "cache.py", "from . import __version__\n")) == [""]
    assert _part("") == "__init__" and RANK["__init__"] > RANK["cache"]
    assert list(_imports(CORE / "userdata.py", "from . import config\n")) == ["config"]
    assert list(_imports(CORE / "metrics" / "focus.py", "from . import Metric\n")) == ["metrics"]
    assert list(_imports(CORE / "metrics" / "focus.py", "from .. import version\n")) == ["version"]
