"""The runtime's edges: the per-run alert limit across workers, deadline alerts, Slack URLs,
and `.airflowignore` keeping `dags_runtime` out of DAG parsing."""

from __future__ import annotations

import asyncio
import datetime
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from dags_runtime.alerts import slack_webhook_url, subject
from dags_runtime.deadlines import deadline_missed
from dags_runtime.events import TaskEvent
from dags_runtime.history import LocalAlertBudget, take_alert_slot

REPO = Path(__file__).resolve().parents[2]


def _event(**changes: object) -> TaskEvent:
    fields = {
        "kind": "failure",
        "state": "failed",
        "dag_id": "job-sales",
        "run_id": "manual__2024-05-01",
        "task_id": "load",
        "try_number": 2,
        "start": datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.UTC),
        "end": datetime.datetime(2024, 5, 1, 12, 0, 7, 500000, tzinfo=datetime.UTC),
        "error": "RuntimeError: boom",
        "log_url": None,
        "dag_row": "mwaa_job[job_type='etl', job_id='1']",
        "task_row": "mwaa_task[task_id='3']",
    }
    return TaskEvent(**{**fields, **changes})  # type: ignore[arg-type]


def test_a_try_has_one_history_key_and_a_measured_duration():
    event = _event()
    assert event.run_key == "manual__2024-05-01#load#002"
    assert event.duration_seconds == 7.5
    assert subject(event) == "[dynadag] job-sales.load failed (try 2)"
    assert len(subject(_event(task_id="t" * 300))) == 100


@pytest.mark.moto
def test_the_alert_limit_holds_across_workers_with_their_own_clients(aws_for_airflow):
    # GIVEN two workers, each with its own DynamoDB client, sharing the run-history table
    workers = [aws_for_airflow.client("dynamodb") for _ in range(2)]
    table = aws_for_airflow.history_table

    # WHEN they take alert slots for the same run, alternately, beyond the limit of 3
    taken = [take_alert_slot(workers[i % 2], table, "job-a", "run-1", 3) for i in range(5)]

    # THEN exactly three alerts are allowed, and another run has its own budget
    assert taken == [1, 2, 3, None, None]
    assert take_alert_slot(workers[0], table, "job-a", "run-2", 3) == 1


def test_without_a_table_the_limit_is_per_process():
    budget = LocalAlertBudget()
    assert [budget.take("d", "r", 2) for _ in range(3)] == [1, 2, None]


@pytest.mark.moto
def test_a_missed_deadline_publishes_an_alert(aws_for_airflow):
    # GIVEN the context Airflow's scheduler hands to a deadline callback
    context = {
        "dag_run": {"dag_id": "job-sales", "dag_run_id": "scheduled__1", "state": "running"},
        "deadline": {"id": "d1", "deadline_time": "2024-05-01T13:00:00+00:00"},
    }
    alerts = {"sns_topic_arn": aws_for_airflow.topic_arn}

    # WHEN the triggerer awaits the callback
    asyncio.run(deadline_missed(alerts=alerts, dag_row="mwaa_job[job_id='1']", context=context))

    # THEN one alert names the DAG, the run and the deadline
    (alert,) = aws_for_airflow.alerts(expected=1)
    assert (alert["event"], alert["dag_id"], alert["run_id"]) == (
        "deadline_missed",
        "job-sales",
        "scheduled__1",
    )
    assert "2024-05-01T13:00:00+00:00" in alert["error"]
    assert alert["Subject"] == "[dynadag] job-sales run missed its deadline"


@pytest.mark.moto
def test_a_run_that_times_out_alerts_once_and_task_failures_are_not_repeated(aws_for_airflow):
    from types import SimpleNamespace

    from dags_runtime.callbacks import DagCallbacks

    # GIVEN the callbacks of a job
    callbacks = DagCallbacks(alerts={}, dag_row="mwaa_job[job_id='1']", task_rows={})
    run = SimpleNamespace(dag_id="job-sales", run_id="scheduled__9", state="failed")

    # WHEN a run fails because a task failed (already alerted), then one times out, with
    # the minimal context the DAG processor passes when it knows no task of the run
    callbacks.on_dag_failure({"dag_run": run, "run_id": run.run_id, "reason": "task_failure"})
    dag = SimpleNamespace(dag_id="job-sales")
    callbacks.on_dag_failure({"dag": dag, "run_id": "scheduled__9", "reason": "timed_out"})

    # THEN only the timeout alerts, with its reason
    (alert,) = aws_for_airflow.alerts(expected=1)
    assert (alert["event"], alert["run_id"], alert["error"]) == (
        "dag_failure",
        "scheduled__9",
        "timed_out",
    )
    assert alert["Subject"] == "[dynadag] job-sales run failed"


@pytest.mark.parametrize(("map_index", "mapped"), [(-1, ""), (0, "/mapped/0")])
def test_a_release_without_task_log_urls_gets_one_like_airflow_3_1_builds(
    map_index, mapped, monkeypatch
):
    from types import SimpleNamespace

    from dags_runtime.events import task_event

    # GIVEN a task instance as Airflow 3.0 passes it to callbacks: no log URL
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.example.com/")
    ti = SimpleNamespace(
        dag_id="job-sales", run_id="manual__2024-05-01T00:00:00+00:00", task_id="load",
        try_number=2, map_index=map_index, log_url=None,
    )  # fmt: skip

    event = task_event("failure", "failed", {"ti": ti}, "r", {})

    assert event.log_url == (
        "https://airflow.example.com/dags/job-sales/runs/manual__2024-05-01T00%3A00%3A00%2B00%3A00"
        f"/tasks/load{mapped}?try_number=2"
    )


@pytest.fixture
def runtime_errors() -> Iterator[list[str]]:
    """ERROR lines the callbacks log (Airflow's logging setup may bypass `caplog`)."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    handler = Collect(logging.ERROR)
    logger = logging.getLogger("dags_runtime.callbacks")
    logger.addHandler(handler)
    try:
        yield lines
    finally:
        logger.removeHandler(handler)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("T0/B0/secret-token", "SlackError: connection 'slack_down': URLError"),
        # http.client echoes a malformed path in its error; the token must not reach the log
        ("T0/B0/secret token", "SlackError: connection 'slack_down': InvalidURL"),
    ],
)
def test_an_alert_that_cannot_be_sent_is_an_error_line_without_the_token(
    password, reason, monkeypatch, runtime_errors
):
    import json
    import socket

    from dags_runtime.callbacks import ALERT_NOT_SENT, DagCallbacks

    # GIVEN a Slack connection whose webhook host refuses connections, and no SNS topic
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    slack = {"conn_type": "http", "host": f"http://127.0.0.1:{port}/services", "password": password}
    monkeypatch.setenv("AIRFLOW_CONN_SLACK_DOWN", json.dumps(slack))
    callbacks = DagCallbacks(alerts={"slack_conn_id": "slack_down"}, dag_row="r", task_rows={})

    # WHEN a failure alerts
    callbacks.alert(_event())

    # THEN one ERROR line says the alert was not sent, where to and why, without the token
    (line,) = runtime_errors
    assert line.startswith(
        f"{ALERT_NOT_SENT}: could not post the failure of job-sales manual__2024-05-01 to Slack: "
        f"{reason}"
    )
    assert "secret" not in line


def test_an_alert_without_any_destination_is_an_error_line(runtime_errors):
    from dags_runtime.callbacks import ALERT_NOT_SENT, DagCallbacks

    DagCallbacks(alerts={}, dag_row="r", task_rows={}).alert(_event())

    assert runtime_errors == [
        f"{ALERT_NOT_SENT}: the failure of job-sales manual__2024-05-01: "
        "no destination: set [dynadag] alert_topic_arn"
    ]


@pytest.mark.parametrize(
    ("host", "password", "url"),
    [
        (None, "T0/B0/x", "https://hooks.slack.com/services/T0/B0/x"),
        ("hooks.example.com/services/", "/T0/B0/x", "https://hooks.example.com/services/T0/B0/x"),
        ("ignored", "https://hooks.slack.com/services/T1", "https://hooks.slack.com/services/T1"),
    ],
)
def test_slack_webhook_urls_follow_the_slack_connection_layout(host, password, url):
    assert slack_webhook_url(host, password) == url


@pytest.mark.parametrize(
    ("host", "password", "words"),
    [(None, None, "has no password"), ("file:///etc", "x", "must use https")],
)
def test_unusable_slack_connections_are_refused(host, password, words):
    with pytest.raises(ValueError, match=words):
        slack_webhook_url(host, password)


@pytest.mark.airflow
@pytest.mark.parametrize("syntax", ["regexp", "glob"])  # 2.x's default, 3.x's default
def test_airflowignore_keeps_the_runtime_out_of_dag_parsing(tmp_path, monkeypatch, syntax, caplog):
    from airflow.utils.file import list_py_file_paths

    from lambda_compiler.airflowignore import merge_airflowignore

    # GIVEN the dags folder as a deploy lays it out: the runtime's modules beside the DAG
    # files, and dynadag's block in the user's .airflowignore
    dags = tmp_path / "dags"
    (dags / "dags_runtime").mkdir(parents=True)
    for module in (REPO / "dags_runtime").glob("*.py"):
        shutil.copyfile(module, dags / "dags_runtime" / module.name)
    (dags / ".airflowignore").write_bytes(merge_airflowignore(b"# the user's own rules\n"))
    (dags / "job-a.py").write_text("# airflow dag\n")
    monkeypatch.setenv("AIRFLOW__CORE__DAG_IGNORE_FILE_SYNTAX", syntax)

    with caplog.at_level(logging.WARNING):
        listed = list_py_file_paths(str(dags))

    assert [Path(p).name for p in listed] == ["job-a.py"]
    assert not [r for r in caplog.records if "invalid" in r.getMessage().lower()]


def test_importing_callbacks_stays_light():
    import subprocess
    import sys

    code = (
        "import sys, dags_runtime.callbacks, dags_runtime.deadlines; "
        "print(sorted(m for m in ('boto3', 'botocore', 'airflow') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_runtime_reads_every_alert_setting_the_compiler_writes():
    import dataclasses

    from dags_runtime.alerts import AlertConfig
    from lambda_compiler.params import AlertSettings

    written = AlertSettings().model_dump(exclude={"deadline"})
    read = {field.name: field.default for field in dataclasses.fields(AlertConfig)}
    assert read == written
