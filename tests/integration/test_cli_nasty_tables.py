"""`dynadag rebuild` and `status` over tables holding every kind of bad value: no traceback,
every rejected DAG listed with a bounded, redacted reason, healthy DAGs built."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from lambda_compiler.cli import app
from tests.cli_stack import CliStack, make_stack

pytestmark = pytest.mark.moto
runner = CliRunner()

SECRET = "hunter2-do-not-leak"


def _s(text: str) -> dict:
    return {"S": text}


def _deep(levels: int) -> dict:
    value: dict = {"S": "x"}
    for _ in range(levels):
        value = {"M": {"a": value}}
    return value


def _task(task_id: str, **attrs: dict) -> dict:
    return {
        "task_id": _s(task_id),
        "task_name": _s(f"t{task_id}"),
        "task_type": _s("SQL"),
        "task_params": _s('{"conn_id": "redshift_default", "sql": "SELECT 1;"}'),
        **attrs,
    }


def _job(job_id: str, tasks: str) -> dict:
    return {
        "job_type": _s("etl"),
        "job_id": _s(job_id),
        "job_name": _s(f"job{job_id}"),
        "task_list": _s(tasks),
    }


# One bad value per task; job N lists task N (and job 0 only the healthy task 0).
NASTY_TASK_ATTRIBUTES = {
    "1": {"task_params": {"B": b"\x00\x01"}},
    "2": {"task_params": _s('{"conn_id": "redshift_default", "sql": "x", "parameters": [NaN]}')},
    "3": {
        "task_params": {"M": {"conn_id": _s("redshift_default"), "sql": _s("x"), "p": _deep(31)}}
    },
    "4": {"task_params": _s('{"conn_id": "redshift_default", "sql": "' + "x" * 350_000 + '"}')},
    "5": {
        "task_params": _s(f'{{"conn_id": "redshift_default", "sql": "x", "password": "{SECRET}"}}')
    },
    "6": {"task_params": {"M": {"conn_id": _s("redshift_default"), "sql": {"BS": [b"a"]}}}},
    "7": {"task_params": {"M": {"conn_id": _s("redshift_default"), "sql": {"N": "9" * 38}}}},
    "8": {"task_type": {"NS": ["1", "2"]}},
    "9": {"task_params": _s("{" * 5000)},
}


@pytest.fixture
def stack(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> CliStack:
    stack = make_stack(moto_endpoint, monkeypatch)
    tables = stack.settings.tables
    stack.dynamodb.put_item(TableName=tables.task, Item=_task("0"))
    stack.dynamodb.put_item(TableName=tables.job, Item=_job("0", "0"))
    for task_id, attrs in NASTY_TASK_ATTRIBUTES.items():
        stack.dynamodb.put_item(TableName=tables.task, Item=_task(task_id, **attrs))
        stack.dynamodb.put_item(TableName=tables.job, Item=_job(task_id, f"0,{task_id}"))
    return stack


def test_rebuild_and_status_report_every_bad_value_without_a_traceback(stack: CliStack) -> None:
    rebuild = runner.invoke(app, ["rebuild"])
    assert rebuild.exit_code == 1, rebuild.output  # invalid DAGs: exit 1, as status
    assert rebuild.exception is None or isinstance(rebuild.exception, SystemExit)
    assert "Traceback" not in rebuild.output
    assert "1 written" in rebuild.output  # the healthy job, whatever its neighbours hold
    assert "job0" in stack.body("job-job0")

    status = runner.invoke(app, ["status", "--format", "json"])
    assert status.exit_code == 1 and "Traceback" not in status.output
    records = {record["dag_id"]: record for record in json.loads(status.stdout)}
    assert records["job-job0"]["outcome"] == "written"
    for task_id in NASTY_TASK_ATTRIBUTES:
        record = records[f"job-job{task_id}"]
        assert record["outcome"] == "invalid", record
        assert record["problems"], record
        assert all(len(problem["message"]) <= 1_000 for problem in record["problems"])
        assert any(f"task_id='{task_id}'" == problem["key"] for problem in record["problems"])
    assert SECRET not in status.stdout and SECRET not in rebuild.output
