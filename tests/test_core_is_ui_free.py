"""xai_core must never import streamlit (the CLI and Python API run without it)."""

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "xai_core"


def test_no_module_of_xai_core_imports_streamlit():
    offenders = []
    for f in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(f.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{f.name}: {n}" for n in names if n.split(".")[0] == "streamlit"]
    assert not offenders


def test_importing_the_whole_api_loads_no_streamlit():
    code = ("import sys, xai_core as xc; xc.EXPLAINERS.names(); xc.DATASETS.names(); "
            "xc.ARCHITECTURES.names(); import xai_core.cli, xai_core.plots; "
            "print('streamlit' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=CORE.parent)
    assert out.stdout.strip().splitlines()[-1] == "False"
