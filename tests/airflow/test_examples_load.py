"""Every example DAG loads into a real Airflow DagBag, shaped exactly as the rows say."""

from __future__ import annotations

import json

import pytest

from lambda_compiler.compiler import compile_dags
from lambda_compiler.rows_file import load_snapshot
from tests.airflow.dagbag import load_dagbag, write_dags
from tests.conftest import EXAMPLE_ROWS

pytestmark = pytest.mark.airflow

ROWS = json.loads(EXAMPLE_ROWS.read_text())
TASK_NAMES = {row["task_id"]: row["task_name"] for row in ROWS["mwaa_task"]}
JOB_DAGS = {row["job_id"]: f"job-{row['job_name']}" for row in ROWS["mwaa_job"]}


@pytest.fixture(scope="module")
def bag(tmp_path_factory):
    folder = tmp_path_factory.mktemp("example-dags")
    write_dags(compile_dags(load_snapshot(EXAMPLE_ROWS)), folder)
    return load_dagbag(folder)


def _edges(dag):
    return {(up, task.task_id) for task in dag.tasks for up in task.upstream_task_ids}


def test_every_enabled_job_and_scheduler_is_a_dag(bag):
    enabled_jobs = {f"job-{r['job_name']}" for r in ROWS["mwaa_job"] if r["status"] == 1}
    schedulers = {f"schedule-{r['schedule_name']}" for r in ROWS["mwaa_scheduler"]}
    assert set(bag.dag_ids) == enabled_jobs | schedulers


@pytest.mark.parametrize(
    "row", [r for r in ROWS["mwaa_job"] if r["status"] == 1], ids=lambda r: r["job_name"]
)
def test_job_dag_matches_its_row(bag, row):
    dag = bag.dags[f"job-{row['job_name']}"]
    listed = row["task_list"].split(",")
    assert sorted(task.task_id for task in dag.tasks) == sorted(TASK_NAMES[t] for t in listed)
    expected = {
        (TASK_NAMES[d["pid"]], TASK_NAMES[d["task_id"]])
        for d in json.loads(row["job_task_dependencies"])
    }
    assert _edges(dag) == expected
    assert dag.schedule is None
    assert dag.is_paused_upon_creation is False
    assert dag.max_active_runs == 1
    assert dag.start_date is None  # triggered only: no start date applies


@pytest.mark.parametrize("row", ROWS["mwaa_scheduler"], ids=lambda r: r["schedule_name"])
def test_scheduler_dag_matches_its_row(bag, row):
    dag = bag.dags[f"schedule-{row['schedule_name']}"]
    params = json.loads(row["schedule_params"])
    # a data-interval timetable by default: `{{ ds }}` means what it meant on the original
    assert type(dag.timetable).__name__ == "CronDataIntervalTimetable"
    assert dag.timetable.summary == params["schedule_interval"]
    job_ids = [ref.split(":")[-1] for ref in row["job_list"].split(",")]
    assert sorted(t.trigger_dag_id for t in dag.tasks) == sorted(JOB_DAGS[j] for j in job_ids)
    expected = {
        (JOB_DAGS[d["pid"].split(":")[-1]], JOB_DAGS[d["job_id"].split(":")[-1]])
        for d in json.loads(row["schedule_job_dependencies"])
    }
    assert _edges(dag) == expected
    for trigger in dag.tasks:
        assert trigger.wait_for_completion and trigger.deferrable
        assert trigger.failed_states == ["failed"]
        assert trigger.trigger_rule == "all_success"  # a job starts only if upstream jobs succeeded


def test_trigger_order_runs_upstream_jobs_first(bag):
    dag = bag.dags["schedule-daily"]
    # the file defines triggers in run order, and the edge enforces it
    assert [t.task_id for t in dag.tasks] == ["job-customer_sync", "job-daily_sales"]
    assert dag.task_dict["job-daily_sales"].upstream_task_ids == {"job-customer_sync"}


def test_timezone_and_description_come_from_the_row(bag):
    dag = bag.dags["schedule-weekly_finance"]
    assert str(dag.timezone.name) == "Europe/Paris"
    assert dag.description.startswith("Mondays at 06:00 Paris time")
