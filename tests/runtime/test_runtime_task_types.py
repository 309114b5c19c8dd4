"""The task types that can run locally run under `dag.test()`: SQL and REDSHIFT-SQL on SQLite,
PYTHON and BASH, in one run whose alert topic does not exist."""

from __future__ import annotations

import json
import sqlite3

import pytest

from lambda_compiler.compiler import compile_dags
from lambda_compiler.snapshot import snapshot_from_json
from tests.airflow.dagbag import load_dagbag, write_dags
from tests.rowkit import allow_any

pytestmark = [pytest.mark.airflow, pytest.mark.moto]

CONFIG = allow_any(python_module_prefixes=("tests.runtime.callables",), allow_bash=True)
MISSING_TOPIC = "arn:aws:sns:us-east-1:123456789012:no-such-topic"
CREATE_AND_INSERT = "CREATE TABLE runs (day TEXT);\nINSERT INTO runs VALUES ('x');"
INSERT_DAY = "INSERT INTO runs VALUES ('{{ ds }}')"


def test_local_task_types_run_and_a_failing_alert_fails_nothing(
    airflow_dags_folder, aws_for_airflow, tmp_path, monkeypatch
):
    # GIVEN SQLite standing in for Redshift and for a SQL database, as Airflow connections
    database = tmp_path / "warehouse.db"
    connection = json.dumps({"conn_type": "sqlite", "host": str(database)})
    monkeypatch.setenv("AIRFLOW_CONN_REDSHIFT_DEFAULT", connection)
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", connection)
    marker, greeting = tmp_path / "python.txt", tmp_path / "bash.txt"
    rows = {
        "mwaa_task": [
            {"task_id": "1", "task_name": "create", "task_type": "REDSHIFT-SQL", "status": 1,
             "task_params": {"sql": CREATE_AND_INSERT}},
            {"task_id": "2", "task_name": "record", "task_type": "SQL", "status": 1,
             "task_params": {"conn_id": "warehouse", "sql": INSERT_DAY}},
            {"task_id": "3", "task_name": "python_step", "task_type": "PYTHON", "status": 1,
             "task_params": {"python_callable": "tests.runtime.callables.write_marker",
                             "op_kwargs": {"path": str(marker), "text": "day {{ ds }}"}}},
            {"task_id": "4", "task_name": "bash_step", "task_type": "BASH", "status": 1,
             "task_params": {"bash_command": f'echo "$GREETING" > {greeting}',
                             "env": {"GREETING": "hello from bash"}}},
        ],
        "mwaa_job": [
            {"job_type": "etl", "job_id": "8", "job_name": "every_type", "status": 1,
             "task_list": "1,2,3,4",
             "job_task_dependencies": [{"task_id": "2", "pid": "1"}],
             "job_params": {"alerts": {"on_success": True, "sns_topic_arn": MISSING_TOPIC}}},
        ],
    }  # fmt: skip
    result = compile_dags(snapshot_from_json(rows), config=CONFIG)
    write_dags(result, airflow_dags_folder)
    dag = load_dagbag(airflow_dags_folder).dags["job-every_type"]

    # WHEN the DAG runs, each success trying to alert a topic that does not exist
    run = dag.test()

    # THEN every task succeeded anyway
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states == dict.fromkeys(["create", "record", "python_step", "bash_step"], "success")
    # AND each type did its work: committed SQL, the callable's and the command's files
    with sqlite3.connect(database) as check:
        days = [day for (day,) in check.execute("SELECT day FROM runs ORDER BY rowid")]
    assert days == ["x", run.logical_date.strftime("%Y-%m-%d")]
    assert marker.read_text() == f"day {run.logical_date:%Y-%m-%d}"
    assert greeting.read_text() == "hello from bash\n"
    # AND the run history was still written for every task, despite the failed alerts
    history = aws_for_airflow.history("job-every_type")
    assert sorted(item["task_id"] for item in history.values()) == sorted(states)
    assert {item["state"] for item in history.values()} == {"success"}
    # AND no alert reached the configured default topic (the job named its own, missing one)
    assert aws_for_airflow.alerts(expected=0) == []
