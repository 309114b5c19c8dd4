"""`dynadag runs`: recent runs of a DAG from the run history, newest first, and one run's tries."""

from __future__ import annotations

import datetime
import json

import pytest
from typer.testing import CliRunner

from dags_runtime.events import TaskEvent
from dags_runtime.history import record_try
from lambda_compiler.cli import app

pytestmark = pytest.mark.moto
T0 = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.UTC)


def _try(run: str, task: str, attempt: int, state: str, minute: int) -> TaskEvent:
    start = T0 + datetime.timedelta(days=int(run[-1]), minutes=minute)
    return TaskEvent(
        kind="x", state=state, dag_id="job-sales", run_id=run, task_id=task,
        try_number=attempt, start=start, end=start + datetime.timedelta(seconds=30),
        error="RuntimeError: boom" if state != "success" else None, log_url=None,
        dag_row="mwaa_job[job_type='etl', job_id='1']", task_row=f"mwaa_task[task_id='{task}']",
    )  # fmt: skip


@pytest.fixture
def history(aws_for_airflow, monkeypatch):
    """Three runs written the way the runtime writes them; run 2 failed after a retry."""
    monkeypatch.setenv("DYNADAG_RUN_HISTORY_TABLE", aws_for_airflow.history_table)
    tries = [
        _try("manual__1", "extract", 1, "success", 0),
        _try("manual__1", "load", 1, "success", 1),
        _try("scheduled__2", "extract", 1, "success", 0),
        _try("scheduled__2", "load", 1, "up_for_retry", 1),
        _try("scheduled__2", "load", 2, "failed", 2),
        _try("manual__3", "extract", 1, "up_for_retry", 0),
    ]
    for attempt in tries:
        record_try(aws_for_airflow.dynamodb, aws_for_airflow.history_table, attempt)
    return tries


def test_runs_are_listed_newest_first_with_their_outcome(history):
    result = CliRunner().invoke(app, ["runs", "job-sales", "--format", "json"])
    assert result.exit_code == 0, result.output
    runs = json.loads(result.stdout)
    assert [(r["run_id"], r["state"], r["tasks"], r["tries"]) for r in runs] == [
        ("manual__3", "running", 1, 1),
        ("scheduled__2", "failed", 2, 3),
        ("manual__1", "success", 2, 2),
    ]
    assert runs[1]["failed_tasks"] == ["load"]
    assert runs[2]["start"] == "2024-05-02T12:00:00+00:00"
    limited = CliRunner().invoke(app, ["runs", "job-sales", "-n", "1"])
    assert limited.exit_code == 0 and "manual__3" in limited.stdout
    assert "scheduled__2" not in limited.stdout


def test_one_runs_tries_are_shown_in_order(history):
    result = CliRunner().invoke(app, ["runs", "job-sales", "--run", "scheduled__2"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split("\t")[:3] == ["task", "try", "state"]
    assert [line.split("\t")[:3] for line in lines[1:4]] == [
        ["extract", "1", "success"],
        ["load", "1", "up_for_retry"],
        ["load", "2", "failed"],
    ]
    assert lines[3].split("\t")[5:] == ["30", "RuntimeError: boom"]


def test_an_unknown_dag_is_one_clear_error(aws_for_airflow, monkeypatch):
    monkeypatch.setenv("DYNADAG_RUN_HISTORY_TABLE", aws_for_airflow.history_table)
    result = CliRunner().invoke(app, ["runs", "job-nothing"])
    assert result.exit_code == 1
    assert "no run history for 'job-nothing' in table 'dynadag_run_history' at " in result.output
    # the hint says what to check, with the values this command used
    assert "has job-nothing run yet" in result.output
    assert "AIRFLOW__DYNADAG__RUN_HISTORY_TABLE=dynadag_run_history" in result.output
    assert "Traceback" not in result.output
