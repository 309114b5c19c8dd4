"""The task-type package: each module is one registered, documented, compilable type, and
adding a type is adding one module (and its template) with nothing else touched."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lambda_compiler.config import DEFAULT_CONFIG
from lambda_compiler.generated import stale
from lambda_compiler.task_types import TASK_TYPES, TEMPLATE_DIR, TaskType
from lambda_compiler.task_types._docs import docs_with_types, type_text
from lambda_compiler.task_types._shared import Sql, WaiterDelay
from tests.conftest import REPO_ROOT
from tests.rowkit import compile_rows, job

DOCS = REPO_ROOT / "docs" / "task-types.md"
# The documented default policy, with the two opt-in types switched on as the docs say.
EXAMPLE_POLICY = dataclasses.replace(
    DEFAULT_CONFIG, python_module_prefixes=("analytics",), allow_bash=True
)
SPECS = list(TASK_TYPES.values())


def _module_file(spec: TaskType) -> Path:
    return Path(sys.modules[spec.params.__module__].__file__ or "")


def test_every_module_of_the_package_is_a_registered_type() -> None:
    on_disk = {path.stem for path in TEMPLATE_DIR.glob("*.py") if not path.stem.startswith("_")}
    registered = {_module_file(spec).stem for spec in SPECS}
    assert on_disk == registered
    assert len(TASK_TYPES) == len(on_disk) == 6


def test_every_template_of_the_package_belongs_to_an_operator() -> None:
    used = {operator.template for spec in SPECS for operator in spec.operators}
    assert used == {path.name for path in TEMPLATE_DIR.glob("*.j2")}


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.name)
def test_each_parameter_is_documented(spec: TaskType) -> None:
    undocumented = [name for name, f in spec.params.model_fields.items() if not f.description]
    assert undocumented == []
    optional = {name for name, f in spec.params.model_fields.items() if f.default is None}
    assert set(spec.defaults) <= optional, "`defaults` explains only parameters defaulting to None"
    doc = sys.modules[spec.params.__module__].__doc__ or ""
    assert doc.strip(), f"{spec.params.__module__} has no docstring to document {spec.name}"


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.name)
def test_each_example_row_compiles_to_one_of_the_types_operators(spec: TaskType) -> None:
    assert spec.examples
    for row in spec.examples:
        assert row["task_type"] == spec.name
        result = compile_rows([row], [job("1", row["task_id"])], config=EXAMPLE_POLICY)
        assert result.problems == []
        (dag,) = result.dags.values()
        assert dag.source is not None
        classes = [op.class_name for op in spec.operators]
        assert sum(f" = {name}(" in dag.source for name in classes) == 1, classes


def test_the_checked_in_docs_are_what_the_generator_writes() -> None:
    problem = stale(DOCS, docs_with_types, "make docs")
    assert problem is None, problem


def test_the_docs_show_each_types_parameters_and_examples() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    for name, spec in TASK_TYPES.items():
        assert f"\n## {name}\n" in docs
        for parameter in spec.params.model_fields:
            assert f"| `{parameter}` |" in docs
    assert "| `waiter_delay` | integer 1 to 3600 | no | operator default (60 s) |" in docs
    assert "`BashOperator` from `airflow.operators.bash` on Airflow 2.10, 2.11; from" in docs
    assert '"task_type": "GLUE"' in docs


@pytest.mark.parametrize(
    ("annotation", "words"),
    [
        (Sql, "string or list of strings"),
        (WaiterDelay, "integer 1 to 3600"),
        (dict[str, str] | None, "map of strings"),
        (list[int], "list of integers"),
        (bool, "boolean"),
    ],
)
def test_parameter_types_in_words(annotation: object, words: str) -> None:
    from pydantic import TypeAdapter

    assert type_text(TypeAdapter(annotation).json_schema()) == words


NEW_TYPE = '''
"""Does nothing, with a note.

A test type: the whole of what adding a type takes.
"""

from __future__ import annotations

from lambda_compiler.task_types._shared import NonEmpty, Operator, TaskParams, TaskType


class NoopParams(TaskParams):
    """`NOOP`: nothing."""

    note: NonEmpty
    """shown in the task's docs"""


_NOOP = Operator("airflow.providers.standard.operators.empty", "EmptyOperator", "noop.py.j2")

TASK_TYPE = TaskType(
    "NOOP",
    NoopParams,
    lambda _: _NOOP,
    operators=(_NOOP,),
    runs_where="nowhere",
    examples=({"task_id": "1", "task_type": "NOOP", "task_params": {"note": "x"}},),
)
'''
CHECK = """
import json
from lambda_compiler.schema import schema_text
from lambda_compiler.task_types._docs import types_markdown
from tests.rowkit import compile_rows, job, task

row = task("1", "n", task_type="noop", task_params={"note": "hello"})
(dag,) = compile_rows([row], [job("1", "1")]).dags.values()
print(json.dumps({
    "problems": [str(p) for p in dag.problems],
    "source": dag.source,
    "schema": "NoopParams" in schema_text(),
    "docs": types_markdown(),
}))
"""


def test_adding_a_type_is_adding_one_module_and_its_template(tmp_path: Path) -> None:
    for package in ("lambda_compiler", "dag_templates", "dags_runtime", "tests"):
        shutil.copytree(
            REPO_ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    types = tmp_path / "lambda_compiler" / "task_types"
    (types / "noop.py").write_text(NEW_TYPE, encoding="utf-8")
    (types / "noop.py.j2").write_text("        doc={{ params.note | literal }},\n")

    run = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CHECK)],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )

    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["problems"] == []
    assert "from airflow.providers.standard.operators.empty import EmptyOperator" in out["source"]
    assert 'doc="hello",' in out["source"]
    assert out["schema"]
    assert "| [`NOOP`](#noop) | `EmptyOperator` | nowhere |" in out["docs"]
    assert "| `note` | string | yes |  | shown in the task's docs |" in out["docs"]
