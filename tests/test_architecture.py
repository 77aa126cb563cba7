"""The layering is a checked rule: import-linter's contracts, and no hidden imports.

``make test`` runs ``lint-imports`` (the contracts in pyproject.toml); these
tests run the same contracts in the suite, and check what the contracts cannot
see: an import of riskmodel inside a function (a hidden dependency, the usual
way a cycle is held apart) is allowed only where it loads an optional heavy
dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "riskmodel"

# module -> riskmodel modules it may import inside a function, and why
LOCAL_IMPORTS_ALLOWED = {
    # imports dask.distributed at module level: only when a Dask backend starts
    "riskmodel.execution.backends": {"riskmodel.execution.dask_plugin"},
}


def _module(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _local_riskmodel_imports(path: Path) -> set[str]:
    found: set[str] = set()

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if in_function and isinstance(child, ast.ImportFrom) and (child.module or "").startswith("riskmodel"):
                found.add(child.module or "")
            elif in_function and isinstance(child, ast.Import):
                found.update(a.name for a in child.names if a.name.startswith("riskmodel"))
            visit(child, inside)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


def test_no_riskmodel_import_inside_a_function() -> None:
    bad = {}
    for path in sorted(SRC.rglob("*.py")):
        mod = _module(path)
        extra = _local_riskmodel_imports(path) - LOCAL_IMPORTS_ALLOWED.get(mod, set())
        if extra:
            bad[mod] = sorted(extra)
    assert not bad, f"function-local imports of riskmodel (import at the top, or fix the layering): {bad}"


def test_the_checker_sees_a_local_import(tmp_path: Path) -> None:
    p = tmp_path / "m.py"
    p.write_text("import os\n\ndef f():\n    from riskmodel.data import IncidentPanel\n    return IncidentPanel\n")
    assert _local_riskmodel_imports(p) == {"riskmodel.data"}


def test_import_linter_contracts_are_kept() -> None:
    cli = pytest.importorskip("importlinter.cli", reason="import-linter is a dev dependency (pip install -e '.[dev]')")
    root = Path(__file__).resolve().parents[1]
    code = cli.lint_imports(config_filename=str(root / "pyproject.toml"), no_cache=True)
    assert code == 0, "an import-linter contract is broken: run `lint-imports` for the report"
