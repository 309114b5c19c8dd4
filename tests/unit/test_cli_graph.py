"""`dynadag graph`: a DAG's scheduler → jobs → tasks from its rows, as a tree or as text."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from lambda_compiler.cli import app
from tests.rowkit import job, task
from tests.unit.test_diagram import ROWS

runner = CliRunner()


def _rows(tmp_path: Path, rows: dict[str, list[dict[str, object]]] = ROWS) -> str:
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(rows))
    return str(path)


def test_graph_prints_a_scheduler_as_a_tree_of_jobs_and_tasks(tmp_path: Path) -> None:
    result = runner.invoke(app, ["graph", "schedule-nightly", "--rows", _rows(tmp_path)])

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "schedule-nightly  mwaa_scheduler[schedule_id='1'], schedule 0 12 * * *",
        "├── job-orders  mwaa_job[job_type='etl', job_id='1']",
        "│   ├── extract  SQL, mwaa_task[task_id='1']",
        "│   └── load  SQL, mwaa_task[task_id='2']  after extract",
        "└── job-reports  mwaa_job[job_type='etl', job_id='2']  after job-orders",
        "    └── report  SQL, mwaa_task[task_id='3']",
    ]


def test_graph_of_a_job_by_row_reference_names_its_schedulers(tmp_path: Path) -> None:
    rows = _rows(tmp_path)

    result = runner.invoke(app, ["graph", "mwaa_job[job_type='etl', job_id='2']", "--rows", rows])

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        "triggered by schedule-nightly (mwaa_scheduler[schedule_id='1'])"
    )


def test_graph_writes_mermaid_and_dot_for_docs(tmp_path: Path) -> None:
    rows = _rows(tmp_path)

    mermaid = runner.invoke(app, ["graph", "job-orders", "--rows", rows, "--format", "mermaid"])
    dot = runner.invoke(app, ["graph", "job-orders", "--rows", rows, "--format", "dot"])

    assert mermaid.exit_code == 0 and dot.exit_code == 0, mermaid.output + dot.output
    assert mermaid.stdout.splitlines()[:2] == ["flowchart TD", '    n0["job-orders"]']
    assert dot.stdout.splitlines()[0] == 'digraph "job-orders" {'


def test_graph_of_a_disabled_or_unknown_dag_is_one_error_line(tmp_path: Path) -> None:
    disabled = {**ROWS, "mwaa_job": [*ROWS["mwaa_job"], job("5", "1", name="off", status=0)]}
    rows = _rows(tmp_path, disabled)

    off = runner.invoke(app, ["graph", "job-off", "--rows", rows])
    unknown = runner.invoke(app, ["graph", "job-nope", "--rows", rows])
    by_row = runner.invoke(app, ["graph", "mwaa_job", "etl", "5", "--rows", rows])

    assert off.exit_code == 1 and unknown.exit_code == 1
    assert off.stderr.splitlines() == [
        "error: DAG 'job-off' is disabled: disabled by mwaa_job[job_type='etl', job_id='5'] "
        "status=0"
    ]
    assert unknown.stderr.splitlines() == ["error: unknown DAG 'job-nope': no row produces it"]
    assert by_row.exit_code == 1 and by_row.stderr == off.stderr


def test_graph_of_an_invalid_dag_draws_it_and_warns(tmp_path: Path) -> None:
    broken = {**ROWS, "mwaa_job": [job("1", "1,2,404", name="orders"), ROWS["mwaa_job"][1]]}

    result = runner.invoke(app, ["graph", "job-orders", "--rows", _rows(tmp_path, broken)])

    assert result.exit_code == 0, result.output
    assert "has 1 problem(s)" in result.stderr
    assert result.stdout.splitlines()[0] == "job-orders  mwaa_job[job_type='etl', job_id='1']"


def test_graph_tree_shows_hostile_names_literally_on_one_line(tmp_path: Path) -> None:
    rows = {"mwaa_task": [task("1", "[bold]x[/bold]\n└── fake")], "mwaa_job": [job("1", "1")]}

    result = runner.invoke(app, ["graph", "job-job_1", "--rows", _rows(tmp_path, rows)])

    assert result.stdout.splitlines() == [
        "job-job_1  mwaa_job[job_type='etl', job_id='1']",
        "└── task-1 ([bold]x[/bold]\\u000a└── fake)  SQL, mwaa_task[task_id='1']",
    ]
