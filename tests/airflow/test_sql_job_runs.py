"""A generated job DAG runs end to end under `dag.test()` against a local SQLite database."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.airflow.dagbag import load_dagbag, write_dags
from tests.rowkit import compile_rows, job, task

pytestmark = pytest.mark.airflow


def test_sql_and_redshift_sql_tasks_run_in_order_and_commit(
    airflow_dags_folder, tmp_path, monkeypatch
):
    # GIVEN a SQLite database standing in for Redshift, as the default connection
    database = tmp_path / "warehouse.db"
    connection = json.dumps({"conn_type": "sqlite", "host": str(database)})
    monkeypatch.setenv("AIRFLOW_CONN_REDSHIFT_DEFAULT", connection)
    # AND a job whose rows use the original's REDSHIFT-SQL shape and the SQL type
    tasks = [
        task(
            "1",
            "create_tables",
            task_type="REDSHIFT-SQL",
            task_params='{"sql": "CREATE TABLE runs (day TEXT);\\nCREATE TABLE audit (n INT);"}',
        ),
        task(
            "2",
            "record_day",
            task_type="SQL",
            task_params={
                "conn_id": "redshift_default",
                "sql": "INSERT INTO runs VALUES ('{{ ds }}');",
            },
        ),
        task(
            "3",
            "count_runs",
            task_type="REDSHIFT-SQL",
            task_params={
                "sql": [
                    "INSERT INTO audit SELECT COUNT(*) FROM runs;",
                    "INSERT INTO audit VALUES (-1);",
                ]
            },
        ),
    ]
    deps = '[{"task_id": "2", "pid": "1"}, {"task_id": "3", "pid": "2"}]'
    result = compile_rows(tasks, [job("1", "1,2,3", name="sqlite_job", job_task_dependencies=deps)])
    write_dags(result, airflow_dags_folder)
    dag = load_dagbag(airflow_dags_folder).dags["job-sqlite_job"]

    # WHEN the DAG runs
    run = dag.test()

    # THEN every task succeeded once and the SQL's effects are committed
    assert run.state == "success"
    with sqlite3.connect(database) as check:
        days = check.execute("SELECT day FROM runs").fetchall()
        audit = check.execute("SELECT n FROM audit ORDER BY rowid").fetchall()
    assert len(days) == 1 and days[0][0] == run.logical_date.strftime("%Y-%m-%d")
    assert audit == [(1,), (-1,)]
