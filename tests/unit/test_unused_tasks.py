"""Task rows no enabled job lists are still checked on their own, and never break a DAG."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from lambda_compiler.cli import app
from lambda_compiler.problems import ProblemCode
from lambda_compiler.rows import RowRef
from tests.rowkit import compile_rows, job, task

runner = CliRunner()
TYPO_PARAMS = task("8", task_params={"conn_id": "redshift_default", "sqll": "SELECT 1;"})
TYPO_TYPE = task("9", task_type="REDSHIF-SQL")


def _ref(task_id: str) -> RowRef:
    return RowRef("mwaa_task", (("task_id", task_id),))


def test_a_typo_in_an_unused_task_is_a_problem_of_that_row_only() -> None:
    result = compile_rows([task("1"), TYPO_PARAMS, TYPO_TYPE], [job("1", "1", name="daily")])

    assert result.dags["job-daily"].ok
    assert set(result.unused) == {_ref("8"), _ref("9")}
    by_row = {(p.ref, p.field, p.code) for p in result.problems}
    assert by_row == {
        (_ref("8"), "task_params.sql", ProblemCode.INVALID_TASK_PARAMS),
        (_ref("8"), "task_params.sqll", ProblemCode.INVALID_TASK_PARAMS),
        (_ref("9"), "task_type", ProblemCode.UNKNOWN_TASK_TYPE),
    }
    assert "'REDSHIF-SQL' is not a known task type" in str(result.unused[_ref("9")][0])


def test_a_valid_unused_task_has_no_problem_and_a_used_one_is_not_unused() -> None:
    result = compile_rows([task("1"), task("2")], [job("1", "1")])

    assert result.problems == []
    assert result.unused == {_ref("2"): ()}


def test_a_task_listed_only_by_a_disabled_job_is_unused() -> None:
    result = compile_rows([task("1"), TYPO_TYPE], [job("1", "1"), job("2", "9", status=0)])

    assert set(result.unused) == {_ref("9")}
    assert [p.code for p in result.problems] == [ProblemCode.UNKNOWN_TASK_TYPE]


def test_a_broken_task_a_job_lists_stays_a_problem_of_that_job() -> None:
    result = compile_rows([TYPO_TYPE], [job("1", "9", name="uses_it")])

    assert result.unused == {}
    assert not result.dags["job-uses_it"].ok


def _rows(tmp_path: Path, tasks: list, jobs: list) -> Path:
    path = tmp_path / "rows.json"
    path.write_text(json.dumps({"mwaa_task": tasks, "mwaa_job": jobs}))
    return path


def test_validate_reports_unused_task_problems_and_warns_it_is_unused(tmp_path: Path) -> None:
    rows = _rows(tmp_path, [task("1"), TYPO_PARAMS], [job("1", "1")])

    result = runner.invoke(app, ["validate", str(rows)])

    assert result.exit_code == 1
    assert "mwaa_task[task_id='8']: task_params.sqll: is not a known parameter" in result.stderr
    assert (
        "warning: mwaa_task[task_id='8']: no enabled job lists this task; "
        "it is checked but builds nothing"
    ) in result.stderr


def test_compile_of_a_valid_unused_task_warns_but_succeeds(tmp_path: Path) -> None:
    rows = _rows(tmp_path, [task("1"), task("2")], [job("1", "1", name="daily")])

    result = runner.invoke(app, ["compile", str(rows), "--out", str(tmp_path / "dags")])

    assert result.exit_code == 0, result.output
    assert "warning: mwaa_task[task_id='2']: no enabled job lists this task" in result.stderr
    assert [p.name for p in (tmp_path / "dags").iterdir()] == ["job-daily.py"]


def test_validate_json_lists_unused_task_problems_without_warning_text(tmp_path: Path) -> None:
    rows = _rows(tmp_path, [task("1"), TYPO_TYPE], [job("1", "1")])

    result = runner.invoke(app, ["validate", str(rows), "--format", "json"])

    assert result.exit_code == 1
    assert json.loads(result.stdout) == [
        {
            "table": "mwaa_task",
            "key": "task_id='9'",
            "field": "task_type",
            "code": "unknown-task-type",
            "message": "'REDSHIF-SQL' is not a known task type; known types: BASH, "
            "EMR-SERVERLESS-SPARK, GLUE, PYTHON, REDSHIFT-SQL, SQL",
        }
    ]
