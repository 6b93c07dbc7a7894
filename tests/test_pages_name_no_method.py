"""Pages name no explanation method: defaults come from the registry (``featured``), settings from each
method's own Params (``param_form``), so a new explainer needs no page edit (issue 23, item 5)."""

import ast
from pathlib import Path

import xai_core as xc

PAGES = Path(__file__).resolve().parent.parent / "pages"
# Pages whose subject is one method: the SHAP page (SHAP Partition's masker and budget) and the LIME page
# (LIME's segmenters); every other page works with whatever the registry holds.
SUBJECT_PAGES = {"shap_margin_vs_probability.py", "lime_segmenters.py"}


def _named_methods(path: Path, text: str | None = None) -> list[str]:
    """Method names a page script spells out: string constants equal to a registered explainer's name,
    and imports from one explainer's own module (e.g. its MASKERS)."""
    names, found = set(xc.EXPLAINERS.names()), []
    for node in ast.walk(ast.parse(path.read_text() if text is None else text)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names:
            found.append(node.value)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("xai_core.explainers."):
            found.append(node.module)
    return found


def test_no_page_names_a_method():
    offenders = {str(f.relative_to(PAGES)): _named_methods(f) for f in sorted(PAGES.rglob("*.py"))
                 if f.name not in SUBJECT_PAGES}
    assert {f: n for f, n in offenders.items() if n} == {}


def test_the_check_sees_a_named_method_and_an_import_from_a_plug_in():
    page = PAGES / "compare_architectures.py"
    assert _named_methods(page, 'if method == "shap-partition":\n    pass\n') == ["shap-partition"]
    assert _named_methods(page, "from xai_core.explainers.shap_partition import MASKERS\n") == [
        "xai_core.explainers.shap_partition"]


def test_featured_methods_come_from_the_registry_in_rank_order():
    from xai_core.explainers import featured

    ranks = [xc.EXPLAINERS.get(n).featured for n in featured()]
    assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks)  # one method per rank
    assert featured(1) == ["shap-partition"] and featured(2) == ["shap-partition", "lime"]
    assert set(featured()) <= set(xc.EXPLAINERS.names())
