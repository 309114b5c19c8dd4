"""The rows file's JSON Schema: generated from the compiler's models, checked in, and it
rejects what the compiler rejects."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest
import yaml

from lambda_compiler.compiler import compile_dags
from lambda_compiler.generated import stale
from lambda_compiler.rows_yaml import rows_yaml
from lambda_compiler.schema import schema_text
from lambda_compiler.snapshot import snapshot_from_json
from tests.conftest import EXAMPLE_ROWS, REPO_ROOT
from tests.rowkit import job, scheduler, task

SCHEMA_FILE = REPO_ROOT / "docs" / "rows.schema.json"
VALIDATOR = jsonschema.Draft202012Validator(json.loads(schema_text()))
DROP = object()


def _base() -> dict[str, list[dict[str, Any]]]:
    return {
        "mwaa_task": [task("1"), task("2", task_type="REDSHIFT-SQL")],
        "mwaa_job": [job("1", "1,2", job_task_dependencies=[{"task_id": "2", "pid": "1"}])],
        "mwaa_scheduler": [scheduler("1", "1")],
    }


def test_the_checked_in_schema_is_what_the_generator_writes() -> None:
    problem = stale(SCHEMA_FILE, lambda _: schema_text(), "make docs")
    assert problem is None, problem


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(json.loads(schema_text()))


@pytest.mark.parametrize("form", ["as stored", "yaml export"])
def test_rows_the_compiler_accepts_pass_the_schema(form: str) -> None:
    for data in (json.loads(EXAMPLE_ROWS.read_text()), _base()):
        if form == "yaml export":
            data = yaml.safe_load(rows_yaml(data))
        assert compile_dags(snapshot_from_json(data)).problems == []
        assert [e.message for e in VALIDATOR.iter_errors(data)] == []


# (table, item index, attributes to set (DROP removes one), what the compiler says)
CORPUS: list[tuple[str, int, dict[str, Any], str]] = [
    ("mwaa_task", 0, {"task_name": DROP}, "task_name"),
    ("mwaa_task", 0, {"task_name": "  "}, "task_name"),
    ("mwaa_task", 0, {"task_id": True}, "task_id"),
    ("mwaa_task", 0, {"task_type": "REDSHIF-SQL"}, "task_type"),
    ("mwaa_task", 0, {"task_params": {"conn_id": "redshift_default", "sqll": "SELECT 1;"}}, "sql"),
    ("mwaa_task", 0, {"task_params": DROP}, "task_params"),
    ("mwaa_task", 0, {"task_params": {"conn_id": "redshift_default", "sql": " "}}, "sql"),
    ("mwaa_task", 0, {"task_params": {"conn_id": "redshift_default", "sql": []}}, "sql"),
    ("mwaa_task", 0, {"task_params": ["SELECT 1;"]}, "task_params"),
    (
        "mwaa_task",
        1,
        {"task_params": {"sql": "SELECT 1;", "autocommit": "sometimes"}},
        "autocommit",
    ),
    ("mwaa_task", 0, {"status": "2"}, "status"),
    ("mwaa_job", 0, {"job_name": DROP}, "job_name"),
    ("mwaa_job", 0, {"job_params": {"retires": 1}}, "retires"),
    ("mwaa_job", 0, {"job_params": {"retries": -1}}, "retries"),
    ("mwaa_job", 0, {"job_params": {"max_active_runs": 0}}, "max_active_runs"),
    ("mwaa_job", 0, {"job_params": {"tags": [""]}}, "tags"),
    ("mwaa_job", 0, {"job_params": {"alerts": {"on_failure": "maybe"}}}, "alerts"),
    ("mwaa_job", 0, {"job_params": {"trigger_rule": "when_ready"}}, "trigger_rule"),
    ("mwaa_job", 0, {"job_task_dependencies": [{"task_id": "2", "parent": "1"}]}, "parent"),
    ("mwaa_job", 0, {"job_task_dependencies": [{"pid": "1"}]}, "task_id"),
    ("mwaa_job", 0, {"job_task_dependencies": {"task_id": "2"}}, "job_task_dependencies"),
    ("mwaa_job", 0, {"job_task_configs": {"1": {"retries": "many"}}}, "retries"),
    ("mwaa_job", 0, {"job_task_configs": [{"retries": 1}]}, "task_id"),
    ("mwaa_job", 0, {"job_task_configs": [{"task_id": "1", "retrys": 1}]}, "retrys"),
    ("mwaa_job", 0, {"job_task_configs": {"1": {"task_group": "not a group!"}}}, "task_group"),
    ("mwaa_scheduler", 0, {"schedule_name": ""}, "schedule_name"),
    ("mwaa_scheduler", 0, {"schedule_params": {"schedul": "@daily"}}, "schedul"),
    ("mwaa_scheduler", 0, {"schedule_params": {"poke_interval": 1}}, "poke_interval"),
    ("mwaa_scheduler", 0, {"schedule_params": {"timetable": "weekly"}}, "timetable"),
    ("mwaa_scheduler", 0, {"schedule_job_configs": {"1": {"conf": ["x"]}}}, "conf"),
    ("mwaa_scheduler", 0, {"schedule_job_dependencies": [{"job_id": None}]}, "job_id"),
]


@pytest.mark.parametrize(("table", "index", "change", "field"), CORPUS)
def test_the_schema_rejects_what_the_compiler_rejects(
    table: str, index: int, change: dict[str, Any], field: str
) -> None:
    data = copy.deepcopy(_base())
    row = data[table][index]
    for name, value in change.items():
        if value is DROP:
            row.pop(name, None)
        else:
            row[name] = value

    problems = compile_dags(snapshot_from_json(data)).problems
    errors = list(VALIDATOR.iter_errors(data))

    assert any(field in p.field or field in p.message for p in problems), problems
    assert errors, f"the schema accepts {table} item {index + 1} with {change}"
    assert all(list(e.absolute_path)[:2] == [table, index] for e in errors)
