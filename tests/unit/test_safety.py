"""The AST allowlist rejects anything a generated DAG file should never contain."""

from __future__ import annotations

import pytest

from lambda_compiler.safety import UnsafeSourceError, check_source

GOOD = """
from __future__ import annotations

import datetime

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG(dag_id="x", start_date=pendulum.datetime(2024, 1, 1, tz="UTC")):
    a = EmptyOperator(task_id="a", execution_timeout=datetime.timedelta(seconds=5))
    b = EmptyOperator(task_id="b")
    a >> b
"""


def test_a_plain_dag_file_passes():
    check_source(GOOD)


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("import os", "import of 'os'"),
        ("from subprocess import run", "import from 'subprocess'"),
        ("from . import x", "import from ''"),
        ("__import__('os')", "call of '__import__'"),
        ("print('x')", "call of 'print'"),
        ("import pendulum\npendulum.__class__", "access to '__class__'"),
        ("def f():\n    pass", "FunctionDef statements"),
        ("x = lambda: 1", "definitions are not allowed"),
        ("for i in []:\n    pass", "For statements"),
        ("x = (", "does not compile"),
    ],
)
def test_unsafe_constructs_are_rejected_with_the_line(source, reason):
    with pytest.raises(UnsafeSourceError, match=reason.replace("(", r"\(")):
        check_source(source)
