"""Core modules never import boto3/botocore nor read the environment (STYLE.md layers)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = [
    "rows",
    "problems",
    "model",
    "params",
    "parse",
    "task_types",
    "graph",
    "validate",
    "literals",
    "naming",
    "file_metadata",
    "safety",
    "render",
    "compiler",
    "context",
    "snapshot",
    "schedules",
    "plan",
    "config",
    "doc_md",
    "isolation",
    "limits",
    "redact",
    "row_jinja",
    "lineage",
    "diagram",
    "change_plan",
    "affected",
    "manifest",
    "outcome",
]
PACKAGE = Path(__file__).resolve().parents[2] / "lambda_compiler"


def _sources(module: str) -> list[Path]:
    """A core module's file, or every file of a core package (`task_types`)."""
    folder = PACKAGE / module
    return sorted(folder.glob("*.py")) if folder.is_dir() else [PACKAGE / f"{module}.py"]


@pytest.mark.parametrize("module", CORE)
def test_core_module_has_no_io_imports(module):
    tree = ast.Module(
        body=[node for path in _sources(module) for node in ast.parse(path.read_text()).body],
        type_ignores=[],
    )
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots = {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots = {(node.module or "").split(".")[0]}
        else:
            roots = set()
        assert not roots & {"boto3", "botocore", "airflow"}, f"{module} imports {roots}"
        if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv"}:
            pytest.fail(f"{module} reads the environment (line {node.lineno})")
        if isinstance(node, ast.Attribute) and node.attr in {"now", "utcnow", "today", "time"}:
            pytest.fail(f"{module} reads the clock (line {node.lineno})")
