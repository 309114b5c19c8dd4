"""A failing task under `dag.test()`: alerts reach SNS (via SQS) and Slack; tries are recorded."""

from __future__ import annotations

import datetime
import json

import pytest

from lambda_compiler.compiler import compile_dags
from lambda_compiler.snapshot import snapshot_from_json
from tests.airflow.dagbag import load_dagbag, write_dags
from tests.rowkit import allow_any

pytestmark = [pytest.mark.airflow, pytest.mark.moto]

CONFIG = allow_any(python_module_prefixes=("tests.runtime.callables",), allow_bash=True)


def test_a_failing_task_alerts_on_each_try_and_every_try_is_recorded(
    airflow_dags_folder, aws_for_airflow, slack_stub, monkeypatch
):
    # GIVEN a Slack webhook held by an Airflow connection (host + token, like the provider's)
    slack = {"conn_type": "http", "host": f"{slack_stub.url}/services", "password": "T0/B0/secret"}
    monkeypatch.setenv("AIRFLOW_CONN_SLACK_ALERTS", json.dumps(slack))
    # AND a job whose second task always fails, with one retry and alerts on retry and failure
    rows = {
        "mwaa_task": [
            {"task_id": "1", "task_name": "prepare", "task_type": "BASH", "status": 1,
             "task_params": {"bash_command": "echo preparing"}},
            {"task_id": "2", "task_name": "load", "task_type": "PYTHON", "status": 1,
             "task_params": {"python_callable": "tests.runtime.callables.fail_with",
                             "op_kwargs": {"message": "orders feed is empty"}}},
        ],
        "mwaa_job": [
            {"job_type": "etl", "job_id": "7", "job_name": "alerting", "status": 1,
             "task_list": "1,2", "job_task_dependencies": [{"task_id": "2", "pid": "1"}],
             "job_params": {"alerts": {"on_retry": True, "slack_conn_id": "slack_alerts",
                                       "deadline": 3600}},
             "job_task_configs": {"2": {"retries": 1, "retry_delay": 0}}},
        ],
    }  # fmt: skip
    result = compile_dags(snapshot_from_json(rows), config=CONFIG)
    write_dags(result, airflow_dags_folder)
    dag = load_dagbag(airflow_dags_folder).dags["job-alerting"]

    # WHEN the DAG runs
    run = dag.test()

    # THEN the run failed after two tries of `load`
    assert run.state == "failed"
    # AND each try of `load` published one alert with the DAG, task, run, try, error and log URL
    alerts = sorted(aws_for_airflow.alerts(expected=2), key=lambda a: a["try_number"])
    assert [(a["event"], a["task_id"], a["try_number"]) for a in alerts] == [
        ("retry", "load", 1),
        ("failure", "load", 2),
    ]
    for alert in alerts:
        assert alert["dag_id"] == "job-alerting" and alert["run_id"] == run.run_id
        assert alert["error"] == "RuntimeError: orders feed is empty"
        assert "/dags/job-alerting/runs/" in alert["log_url"] and "/tasks/load" in alert["log_url"]
        assert alert["task_row"] == "mwaa_task[task_id='2']"
        assert alert["dag_row"] == "mwaa_job[job_type='etl', job_id='7']"
    assert alerts[1]["Subject"] == "[dynadag] job-alerting.load failed (try 2)"
    # AND Slack got the same two alerts through the connection's webhook URL
    assert [post["path"] for post in slack_stub.posts] == ["/services/T0/B0/secret"] * 2
    assert all("job-alerting.load" in post["text"] for post in slack_stub.posts)
    # AND the run history holds one item per try, the successful `prepare` included
    history = aws_for_airflow.history("job-alerting")
    tries = {key.removeprefix(f"{run.run_id}#"): item for key, item in history.items()}
    assert {key: item["state"] for key, item in tries.items()} == {
        "prepare#001": "success",
        "load#001": "up_for_retry",
        "load#002": "failed",
    }
    for item in tries.values():
        assert item["run_id"] == run.run_id and item["start"] <= item["end"]
        assert item["duration_seconds"] >= 0
        # kept 90 days by default, through DynamoDB TTL on expires_at
        ended = datetime.datetime.fromisoformat(item["end"]).timestamp()
        assert item["expires_at"] == int(ended) + 90 * 86400
    assert tries["load#002"]["error"] == "RuntimeError: orders feed is empty"
    assert tries["prepare#001"]["task_row"] == "mwaa_task[task_id='1']"
    # AND the run's alert counter, shared by all workers, counted both alerts
    counter = aws_for_airflow.history("job-alerting#alerts")
    assert counter[run.run_id]["sent"] == 2
