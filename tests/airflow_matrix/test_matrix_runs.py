"""Generated DAGs run on each release: SQL on SQLite, run history and alerts on moto and a
Slack stub, and scheduler runs that give their jobs the scheduler's logical date."""

from __future__ import annotations

import contextlib
import datetime
import json
import sqlite3
import time

import pytest

from tests.airflow_matrix.conftest import TargetAirflow, compile_for
from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.airflow_matrix, pytest.mark.moto]

DAY = "2024-01-01"
FAILING_ROWS = {
    "mwaa_task": [
        {"task_id": "301", "task_name": "create_totals", "task_type": "REDSHIFT-SQL", "status": 1,
         "task_params": {"sql": "CREATE TABLE IF NOT EXISTS totals (day TEXT);"}},
        {"task_id": "302", "task_name": "load_totals", "task_type": "REDSHIFT-SQL", "status": 1,
         "task_params": {"sql": "INSERT INTO no_such_table VALUES ('{{ ds }}');"}},
    ],
    "mwaa_job": [
        {"job_type": "demo", "job_id": "301", "job_name": "sqlite_failing", "status": 1,
         "task_list": "301,302", "job_task_dependencies": [{"task_id": "302", "pid": "301"}],
         "job_params": {"alerts": {"slack_conn_id": "slack_data_alerts"}},
         "job_task_configs": {"302": {"retries": 1, "retry_delay": 0}}},
    ],
}  # fmt: skip

# `airflow dags test` on these releases runs tasks in-process and leaves the exception out
# of the failure callback's context (their workers put it there: task_runner.main).
_NO_EXCEPTION_IN_DAGS_TEST = ("3.0", "3.1")


def _use_sqlite_warehouse(airflow: TargetAirflow, tmp_path) -> str:  # type: ignore[no-untyped-def]
    """A SQLite file standing in for Redshift as ``redshift_default``, as `make demo` does."""
    warehouse = tmp_path / "warehouse.db"
    connection = {"conn_type": "sqlite", "host": str(warehouse)}
    airflow.env["AIRFLOW_CONN_REDSHIFT_DEFAULT"] = json.dumps(connection)
    return str(warehouse)


def test_the_sqlite_demo_runs_and_a_failing_job_alerts(
    target_airflow, aws_for_airflow, slack_stub, tmp_path
):
    # GIVEN the SQLite demo and a job whose second task's SQL fails, compiled for the release,
    # with run history and an SNS topic on moto and a Slack webhook on a local stub
    release = target_airflow.release
    warehouse = _use_sqlite_warehouse(target_airflow, tmp_path)
    slack = {"conn_type": "http", "host": f"{slack_stub.url}/services", "password": "T0/B0/x"}
    target_airflow.env["AIRFLOW_CONN_SLACK_DATA_ALERTS"] = json.dumps(slack)
    target_airflow.deploy(compile_for(release, REPO_ROOT / "examples" / "sqlite_demo.json"))
    target_airflow.deploy(compile_for(release, FAILING_ROWS))

    # WHEN both jobs run for a day
    target_airflow.airflow("dags", "test", "job-sqlite_orders", DAY)
    target_airflow.airflow("dags", "test", "job-sqlite_failing", DAY, check=False)

    # THEN the demo's SQL ran for that day, and its run succeeded with that logical date
    with contextlib.closing(sqlite3.connect(warehouse)) as db:
        assert db.execute("SELECT day, orders FROM daily_orders").fetchall() == [(DAY, 40)]
    (run,) = target_airflow.dag_runs("job-sqlite_orders")
    assert run["state"] == "success" and run["logical_date"].startswith(f"{DAY} 00:00:00")
    # AND each of its task tries is in the run history on moto
    history = aws_for_airflow.history("job-sqlite_orders")
    assert sorted(history) == [
        f"{run['run_id']}#{task}#001"
        for task in ("check_daily_orders", "create_daily_orders", "load_daily_orders")
    ]
    assert {item["state"] for item in history.values()} == {"success"}
    # AND the failing job failed after two tries, each recorded with its own try number
    (failed,) = target_airflow.dag_runs("job-sqlite_failing")
    assert failed["state"] == "failed"
    tries = {
        key.removeprefix(f"{failed['run_id']}#"): item["state"]
        for key, item in aws_for_airflow.history("job-sqlite_failing").items()
    }
    assert tries == {
        "create_totals#001": "success",
        "load_totals#001": "up_for_retry",
        "load_totals#002": "failed",
    }
    # AND its final failure reached SNS with the SQL error, and Slack through the connection
    (alert,) = aws_for_airflow.alerts(expected=1)
    assert (alert["event"], alert["task_id"], alert["try_number"]) == ("failure", "load_totals", 2)
    assert alert["run_id"] == failed["run_id"]
    if release.target.version in _NO_EXCEPTION_IN_DAGS_TEST:
        assert alert["error"] is None
    else:
        assert alert["error"].startswith("OperationalError: no such table: no_such_table")
    assert alert["Subject"] == "[dynadag] job-sqlite_failing.load_totals failed (try 2)"
    assert "job-sqlite_failing" in alert["log_url"] and "load_totals" in alert["log_url"]
    (post,) = slack_stub.posts
    assert post["path"] == "/services/T0/B0/x"
    assert "job-sqlite_failing.load_totals failed (try 2)" in post["text"]
    assert "dynadag: alert not sent" not in target_airflow.output()


def _scheduler_rows(cron: str) -> dict[str, list[dict[str, object]]]:
    """One job and two schedulers on the same cron that both trigger it."""
    return {
        "mwaa_task": [
            {"task_id": "401", "task_name": "touch", "task_type": "REDSHIFT-SQL", "status": 1,
             "task_params": {"sql": "SELECT '{{ ds }}';"}},
        ],
        "mwaa_job": [
            {"job_type": "demo", "job_id": "401", "job_name": "shared", "status": 1,
             "task_list": "401", "job_task_dependencies": []},
        ],
        "mwaa_scheduler": [
            {"schedule_id": str(n), "schedule_name": name, "status": 1, "job_list": "401",
             "schedule_params": {"schedule_interval": cron}}
            for n, name in ((41, "first"), (42, "second"))
        ],
    }  # fmt: skip


TRIGGER_WAIT = 240.0


def test_scheduler_runs_trigger_their_job_at_their_logical_date(target_airflow, running, tmp_path):
    # GIVEN two schedulers on a daily cron that both trigger one job, compiled for the release
    release = target_airflow.release
    _use_sqlite_warehouse(target_airflow, tmp_path)
    result = compile_for(release, _scheduler_rows("0 12 * * *"))
    assert result.problems == []
    target_airflow.deploy(result)
    target_airflow.airflow("dags", "reserialize")  # the job must be known to be triggered
    logical_date = datetime.datetime(2024, 3, 5, 12, 0, tzinfo=datetime.UTC)

    # WHEN each scheduler's trigger task runs for the same past logical date
    for scheduler in ("schedule-first", "schedule-second"):
        process = target_airflow.start_airflow(
            "tasks", "test", scheduler, "job-shared", logical_date.isoformat()
        )
        running.append(process)
        deadline = time.monotonic() + TRIGGER_WAIT
        while not _job_run_of(target_airflow, scheduler):
            # on 3.x the task waits for the job run to finish: only its creation matters here
            assert process.poll() is None or _job_run_of(target_airflow, scheduler), (
                f"{scheduler} ended (code {process.returncode}) without triggering the job:\n"
                + target_airflow.output()[-4000:]
            )
            assert time.monotonic() < deadline, target_airflow.output()[-4000:]
            time.sleep(1)

    # THEN the job has one run per scheduler, each named after it and at its logical date
    runs = {run["run_id"].split("__")[0]: run for run in target_airflow.dag_runs("job-shared")}
    assert set(runs) == {"schedule-first", "schedule-second"}
    dates = {name: _parse(run["logical_date"]) for name, run in runs.items()}
    for name, date in dates.items():
        assert date.replace(microsecond=0) == logical_date, (name, date)
    # AND a different sub-second offset per scheduler keeps the two runs apart
    assert dates["schedule-first"] != dates["schedule-second"]


def _job_run_of(airflow: TargetAirflow, scheduler: str) -> bool:
    try:
        runs = airflow.dag_runs("job-shared")
    except sqlite3.OperationalError:  # the database is locked by the running command
        return False
    return any(run["run_id"].startswith(f"{scheduler}__") for run in runs)


def _parse(text: str) -> datetime.datetime:
    """A date as SQLite stores Airflow's UTC dates (``2024-03-05 12:00:00.294922``)."""
    value = datetime.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
