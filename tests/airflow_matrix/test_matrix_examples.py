"""Every example rows file, compiled for a release, loads into its Airflow as the rows say."""

from __future__ import annotations

import pytest

from lambda_compiler.config import CompilerConfig
from lambda_compiler.context import job_logical_date
from lambda_compiler.problems import ProblemCode
from tests.airflow_matrix.conftest import TargetAirflow, compile_for
from tests.conftest import EXAMPLE_OPT_INS, REPO_ROOT

pytestmark = pytest.mark.airflow_matrix

EXAMPLES = REPO_ROOT / "examples"
# Per DAG: Airflow task id -> upstream task ids, as the rows' task lists and dependencies say.
STRUCTURE = {
    "job-daily_sales": {
        "extract_orders": [],
        "extract_payments": [],
        "load_sales": ["extract_orders", "extract_payments"],
        "refresh_dashboard": ["load_sales"],
        "archive_orders": ["extract_orders"],
    },
    "job-customer_sync": {"sync_customers": [], "dedupe_customers": ["sync_customers"]},
    "job-weekly_revenue": {"weekly_revenue": []},
    "schedule-daily": {"job-customer_sync": [], "job-daily_sales": ["job-customer_sync"]},
    "schedule-weekly_finance": {"job-daily_sales": [], "job-weekly_revenue": ["job-daily_sales"]},
    "job-clickstream_daily": {
        "ingest.ingest_clickstream": [],
        "ingest.sync_reference_files": [],
        "sessionize": ["ingest.ingest_clickstream", "ingest.sync_reference_files"],
        "publish.load_sessions": ["sessionize"],
        "publish.check_sessions": ["publish.load_sessions"],
    },
    "job-session_report": {"refresh_session_report": []},
    "schedule-clickstream_nightly": {"job-clickstream_daily": []},
    "schedule-session_report_on_update": {"job-session_report": []},
    "job-sqlite_orders": {
        "create_daily_orders": [],
        "load_daily_orders": ["create_daily_orders"],
        "check_daily_orders": ["load_daily_orders"],
    },
}
# Scheduler DAG -> (timetable class, cron, timezone); an asset schedule has no cron.
TIMETABLES = {
    "schedule-daily": ("CronDataIntervalTimetable", "0 12 * * *", "UTC"),
    "schedule-weekly_finance": ("CronDataIntervalTimetable", "0 6 * * 1", "Europe/Paris"),
    "schedule-clickstream_nightly": ("CronDataIntervalTimetable", "0 2 * * *", "UTC"),
}
# Deadline alerts exist from Airflow 3.1; below, this job (and the scheduler of it) are
# problems at compile time, never files that fail to import.
DEADLINE_DAGS = {"job-clickstream_daily", "schedule-clickstream_nightly"}


def _deploy_examples(airflow: TargetAirflow, tmp_path) -> set[str]:  # type: ignore[no-untyped-def]
    """Compile the three example files for the release into its dags folder; the DAG ids."""
    release = airflow.release
    # The PYTHON example's callable, importable as the deployment's own code would be.
    package = tmp_path / "code" / "analytics"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "quality.py").write_text(
        "def check_row_count(table, day, minimum):\n    return table, day, minimum\n"
    )
    airflow.python_path.append(package.parent)
    written: set[str] = set()
    for name, environ in [
        ("rows.json", {}),
        ("rows-all-types.json", EXAMPLE_OPT_INS),
        ("sqlite_demo.json", {}),
    ]:
        result = compile_for(release, EXAMPLES / name, CompilerConfig.from_env(environ))
        if name == "rows-all-types.json" and not release.target.has_deadlines:
            assert {(p.ref.key_text, p.field, p.code) for p in result.problems} == {
                (
                    "job_type='lakehouse', job_id='10'",
                    "job_params.alerts.deadline",
                    ProblemCode.UNSUPPORTED_ON_TARGET,
                ),
                ("schedule_id='10'", "job_list", ProblemCode.INVALID_REFERENCE),
            }
        else:
            assert result.problems == [], (name, result.problems)
        airflow.deploy(result)
        written |= {dag_id for dag_id, dag in result.dags.items() if dag.source is not None}
    return written


def test_every_example_loads_with_the_rows_structure(target_airflow, tmp_path):
    release = target_airflow.release
    target = release.target
    deployed = _deploy_examples(target_airflow, tmp_path)

    loaded = target_airflow.load_dags()

    # THEN the release is the one asked for and every generated file imports, without warnings
    assert loaded["airflow"] == release.version
    assert loaded["import_errors"] == {}
    assert loaded["warnings"] == []
    # AND the DAGs are the examples' DAGs, minus those the release cannot run
    expected = set(STRUCTURE) - (set() if target.has_deadlines else DEADLINE_DAGS)
    assert deployed == expected
    dags = loaded["dags"]
    assert set(dags) == expected
    # AND each DAG has the rows' tasks and edges, from the file named after it
    for dag_id, dag in dags.items():
        assert dag["file"] == f"{dag_id}.py"
        assert {t: task["upstream"] for t, task in dag["tasks"].items()} == {
            t: sorted(up) for t, up in STRUCTURE[dag_id].items()
        }, dag_id
    if target.has_deadlines:
        clickstream = dags["job-clickstream_daily"]
        assert clickstream["task_groups"] == ["ingest", "publish"]
        assert clickstream["deadlines"] == 1
    # AND schedulers run on their cron in their time zone; jobs only when triggered
    for dag_id, (kind, cron, timezone) in TIMETABLES.items():
        if dag_id in dags:
            timetable = dags[dag_id]["timetable"]
            assert (timetable["class"], timetable["cron"], timetable["timezone"]) == (
                kind,
                cron,
                timezone,
            )
    asset_timetable = (
        "DatasetTriggeredTimetable" if release.major == 2 else "AssetTriggeredTimetable"
    )
    assert dags["schedule-session_report_on_update"]["timetable"]["class"] == asset_timetable
    for dag_id, dag in dags.items():
        if dag_id.startswith("job-"):
            assert dag["timetable"]["class"] == "NullTimetable", dag_id
    # AND each trigger task starts its job with a run id and logical date of the scheduler's run
    for dag_id, dag in dags.items():
        if not dag_id.startswith("schedule-"):
            continue
        for task_id, task in dag["tasks"].items():
            assert task["operator"] == "TriggerDagRunOperator"
            assert task["trigger_dag_id"] == task_id
            assert task["trigger_run_id"] == f"{dag_id}__{{{{ run_id }}}}"
            assert task["logical_date"] == job_logical_date(dag_id, target)
            assert task["reset_dag_run"] is True
