"""`dynadag compile` / `dynadag validate`: files written, problems reported, exit codes."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from lambda_compiler.cli import app
from tests.conftest import EXAMPLE_ROWS
from tests.rowkit import job, task

runner = CliRunner()


def _rows_file(tmp_path, tasks, jobs):
    path = tmp_path / "rows.json"
    path.write_text(json.dumps({"mwaa_task": tasks, "mwaa_job": jobs}))
    return path


def test_compile_writes_every_example_dag_and_exits_zero(tmp_path):
    result = runner.invoke(app, ["compile", str(EXAMPLE_ROWS), "--out", str(tmp_path / "dags")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "dags").iterdir()) == [
        "job-customer_sync.py",
        "job-daily_sales.py",
        "job-weekly_revenue.py",
        "schedule-daily.py",
        "schedule-weekly_finance.py",
    ]


def test_compile_writes_valid_dags_and_exits_one_when_some_have_problems(tmp_path):
    rows = _rows_file(
        tmp_path, [task("1")], [job("1", "1", name="ok"), job("2", "1,5", name="bad")]
    )
    result = runner.invoke(app, ["compile", str(rows), "--out", str(tmp_path / "dags")])
    assert result.exit_code == 1
    assert [p.name for p in (tmp_path / "dags").iterdir()] == ["job-ok.py"]
    assert (
        "mwaa_job[job_type='etl', job_id='2']: task_list: task '5' does not exist" in result.stderr
    )


def test_validate_json_format_lists_problems_for_tools(tmp_path):
    rows = _rows_file(tmp_path, [task("1", task_type="NOPE")], [job("1", "1")])
    result = runner.invoke(app, ["validate", str(rows), "--format", "json"])
    assert result.exit_code == 1
    problems = json.loads(result.stdout)
    first = problems[0]
    assert (first["table"], first["key"], first["field"], first["code"]) == (
        "mwaa_task",
        "task_id='1'",
        "task_type",
        "unknown-task-type",
    )
    assert "'NOPE' is not a known task type" in first["message"]


def test_validate_writes_nothing_and_exits_zero_for_valid_rows(tmp_path):
    result = runner.invoke(app, ["validate", str(EXAMPLE_ROWS)])
    assert result.exit_code == 0
    assert "5 DAG(s) checked, 0 problem(s)" in result.stderr


def test_usage_errors_exit_two_and_bad_files_one(tmp_path):
    assert runner.invoke(app, ["compile", str(EXAMPLE_ROWS)]).exit_code == 2  # no --out
    assert runner.invoke(app, ["validate", str(tmp_path / "missing.json")]).exit_code == 1
    bad = tmp_path / "bad.json"
    bad.write_text('{"mwaa_tasks": []}')
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 1  # as `import` of the same file
    assert "unknown tables ['mwaa_tasks']" in result.stderr
