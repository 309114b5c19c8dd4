"""The migration report: what moving from the original solution changes, per DAG (pure)."""

from __future__ import annotations

from lambda_compiler.config import CompilerConfig
from lambda_compiler.migration import migration_report
from lambda_compiler.snapshot import snapshot_from_json
from lambda_compiler.targets import target_for
from tests.rowkit import job, scheduler, task

# Rows as the original solution's README shows them: REDSHIFT-SQL, JSON strings, "1,2" lists.
ORIGINAL_ROWS = {
    "mwaa_task": [
        task("1", "load_orders", task_type="REDSHIFT-SQL", task_params='{"sql": "SELECT 1;"}'),
        task("2", "refresh", task_type="REDSHIFT-SQL", task_params='{"sql": "SELECT 2;"}'),
    ],
    "mwaa_job": [
        job("1", "1,2", name="daily_sales", job_task_dependencies='[{"task_id":"2","pid":"1"}]'),
        job("2", "1", name="每日", job_params='{"original_task_ids": true}'),
    ],
    "mwaa_scheduler": [
        scheduler("1", "1", name="daily", schedule_params='{"schedule_interval": "0 12 * * *"}'),
        scheduler(
            "2",
            "1",
            name="hourly",
            schedule_params='{"schedule_interval": "@hourly", "timetable": "trigger"}',
        ),
        scheduler("3", "9", name="broken"),
    ],
}


def _report(version: str = "2.11") -> dict:
    config = CompilerConfig(airflow=target_for(version))
    return {
        entry.dag_id: entry for entry in migration_report(snapshot_from_json(ORIGINAL_ROWS), config)
    }


def test_each_dag_says_whether_it_compiles_and_keeps_its_dag_id() -> None:
    report = _report()
    assert report["job-daily_sales"].compiles and report["job-daily_sales"].dag_id_kept
    assert report["schedule-daily"].dag_id_kept
    broken = report["schedule-broken"]
    assert not broken.compiles and "job '9'" in broken.problems[0].message
    fallback = report["job-etl-2"]
    assert fallback.original_dag_id == "job-每日" and not fallback.dag_id_kept
    assert any("does not make a valid Airflow DAG id" in note for note in fallback.notes)


def test_task_id_changes_are_listed_unless_the_original_ids_are_kept() -> None:
    report = _report()
    assert report["job-daily_sales"].changed_task_ids == {
        "load_orders.execute_redshift_job": "load_orders",
        "refresh.execute_redshift_job": "refresh",
    }
    assert any("original_task_ids" in note for note in report["job-daily_sales"].notes)
    assert report["job-etl-2"].changed_task_ids == {}
    assert report["job-etl-2"].task_ids == {
        "load_orders.execute_redshift_job": "load_orders.execute_redshift_job"
    }


def test_the_redshift_connection_replaces_the_credentials_file() -> None:
    entry = _report()["job-daily_sales"]
    assert entry.connections == ("redshift_default",)
    assert any("config/conf.py" in note for note in entry.notes)


def test_the_schedule_says_what_ds_means_against_the_original() -> None:
    report = _report()
    assert "interval start, as on the original's Airflow 2" in report["schedule-daily"].schedule
    assert "shifts by one interval" in report["schedule-hourly"].schedule
    assert report["schedule-daily"].changed_task_ids["daily_sales.trigger_daily_sales"] == (
        "job-daily_sales"
    )


def test_the_report_is_json_ready_and_names_the_target() -> None:
    entry = _report("3.0")["schedule-daily"]
    data = entry.to_dict()
    assert data["compiles"] is True and data["dag_id_kept"] is True
    assert "Airflow 3.0" in data["schedule"]


def test_original_task_ids_cannot_be_combined_with_a_task_group() -> None:
    from tests.rowkit import compile_rows

    result = compile_rows(
        [task("1", "a")],
        [
            job(
                "1",
                "1",
                job_params={"original_task_ids": True},
                job_task_configs={"1": {"task_group": "g"}},
            )
        ],
    )
    (problem,) = result.dags["job-job_1"].problems
    assert problem.field == "job_task_configs.1.task_group"
    assert "cannot be combined with job_params.original_task_ids" in problem.message
