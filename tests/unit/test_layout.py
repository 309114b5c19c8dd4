"""tests/unit is the pure core (`make test-fast`): no moto server and no Airflow.

A test that needs either lives in tests/integration, tests/airflow or tests/runtime. This
reads the unit modules' source, so it also catches a module that `-m "not moto"` would
only deselect.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent.parent
UNIT_MODULES = sorted((TESTS / "unit").glob("*.py"))
HEAVY_ROOTS = {"moto", "airflow"}
"""Packages whose import means a moto server or an Airflow in the test."""
HEAVY_MODULES = ("tests.cli_stack", "tests.integration")
"""Test helpers that provision a moto stack."""
HEAVY_MARKS = {"moto", "airflow", "airflow_matrix"}


def _imports(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def _is_heavy(module: str) -> bool:
    return module.split(".")[0] in HEAVY_ROOTS or module.startswith(HEAVY_MODULES)


def _fixtures(tree: ast.AST) -> dict[str, ast.FunctionDef]:
    return {
        node.name: node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
        and any("fixture" in ast.unparse(decorator) for decorator in node.decorator_list)
    }


def _parameters(function: ast.FunctionDef) -> set[str]:
    return {arg.arg for arg in [*function.args.args, *function.args.kwonlyargs]}


@functools.cache
def heavy_fixtures() -> frozenset[str]:
    """The shared fixtures (tests/conftest.py) that import moto or Airflow, or use one that does."""
    fixtures = _fixtures(ast.parse((TESTS / "conftest.py").read_text()))
    heavy = {name for name, f in fixtures.items() if any(map(_is_heavy, _imports(f)))}
    while grown := {n for n, f in fixtures.items() if _parameters(f) & heavy} - heavy:
        heavy |= grown
    return frozenset(heavy)


def test_the_shared_moto_and_airflow_fixtures_are_found() -> None:
    assert {"moto_server", "moto_endpoint", "airflow_dags_folder"} <= heavy_fixtures()


@pytest.mark.parametrize("path", UNIT_MODULES, ids=lambda path: path.name)
def test_a_unit_module_starts_no_moto_server_and_no_airflow(path: Path) -> None:
    tree = ast.parse(path.read_text())
    heavy = heavy_fixtures()
    imports = sorted(filter(_is_heavy, _imports(tree)))
    fixtures = sorted(
        f"{node.name}({name})"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
        for name in _parameters(node) & heavy
    )
    marks = sorted(
        ast.unparse(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr in HEAVY_MARKS
        and ast.unparse(node.value) == "pytest.mark"
    )
    assert not (imports or fixtures or marks), (
        f"{path.name} belongs in tests/integration (moto) or tests/airflow: "
        f"imports {imports}, fixtures {fixtures}, marks {marks}"
    )
