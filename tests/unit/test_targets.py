"""One rows set, compiled for each Airflow release: what changes, and what becomes a problem."""

from __future__ import annotations

import ast

import pytest

from lambda_compiler.config import CompilerConfig
from lambda_compiler.context import job_logical_date
from lambda_compiler.problems import ProblemCode
from lambda_compiler.targets import TARGETS, TargetError, target_for
from tests.rowkit import compile_rows, job, scheduler, task


def _config(version: str) -> CompilerConfig:
    return CompilerConfig(airflow=target_for(version), allow_bash=True)


def _imports(source: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.ImportFrom):
            found.setdefault(node.module or "", set()).update(a.name for a in node.names)
    return found


ROWS = {
    "tasks": [
        task("1"),
        task("2", task_type="BASH", task_params={"bash_command": "echo hi"}),
    ],
    "jobs": [
        job(
            "1",
            "1,2",
            job_task_configs={"2": {"task_group": "shell", "outlets": ["s3://lake/x"]}},
        )
    ],
    "schedulers": [
        scheduler("1", "1"),
        scheduler("2", "1", schedule_params={"schedule_assets": ["s3://lake/x"]}),
    ],
}


@pytest.mark.parametrize(
    ("given", "version"),
    [("2.10", "2.10"), ("2.11.0", "2.11"), (" 3.0 ", "3.0"), ("v3.1.8", "3.1"), ("3.7", "3.7")],
)
def test_versions_are_read_as_major_minor(given: str, version: str) -> None:
    assert target_for(given).version == version


@pytest.mark.parametrize("given", ["2.9", "1.10", "4.0", "3", "latest", ""])
def test_unsupported_versions_are_refused_with_the_supported_list(given: str) -> None:
    with pytest.raises(TargetError, match=r"use one of 2\.10, 2\.11, 3\.0, 3\.1, 3\.2, 3\.3"):
        target_for(given)


def test_airflow_2_files_import_only_what_airflow_2_has() -> None:
    result = compile_rows(**ROWS, config=_config("2.10"))
    assert not result.problems
    job_source = result.dags["job-job_1"].source
    scheduler_source = result.dags["schedule-sched_1"].source
    assets_source = result.dags["schedule-sched_2"].source
    assert _imports(job_source)["airflow.operators.bash"] == {"BashOperator"}
    assert _imports(job_source)["airflow.utils.task_group"] == {"TaskGroup"}
    assert _imports(job_source)["airflow.datasets"] == {"Dataset"}
    assert 'outlets=[Dataset("s3://lake/x")]' in job_source
    assert _imports(scheduler_source)["airflow.operators.trigger_dagrun"] == {
        "TriggerDagRunOperator"
    }
    # `logical_date` (2.10+); `execution_date` would warn at every parse
    assert 'logical_date="{{ logical_date + macros.timedelta(' in scheduler_source
    assert "execution_date" not in scheduler_source
    assert 'schedule=[Dataset("s3://lake/x")]' in assets_source
    for source in (job_source, scheduler_source, assets_source):
        assert "airflow.sdk" not in source and "airflow.providers.standard" not in source
        assert "for Airflow 2.10." in source.splitlines()[0]


def test_airflow_3_files_use_the_task_sdk_and_the_standard_provider() -> None:
    result = compile_rows(**ROWS, config=_config("3.0"))
    job_source = result.dags["job-job_1"].source
    assert _imports(job_source)["airflow.sdk"] == {"Asset", "DAG", "TaskGroup"}
    assert _imports(job_source)["airflow.providers.standard.operators.bash"] == {"BashOperator"}
    scheduler_source = result.dags["schedule-sched_1"].source
    # a 3.x run may have no logical date (API trigger): its run_after stands in
    assert 'logical_date="{{ (logical_date or dag_run.run_after) + macros' in scheduler_source


def test_one_rows_set_differs_between_releases_only_where_the_releases_differ() -> None:
    def body(source: str) -> list[str]:
        # the header names the release, and the inputs hash covers it
        return [line for line in source.splitlines() if not line.startswith("# ")]

    sources = {v: compile_rows(**ROWS, config=_config(v)).dags for v in ("3.0", "3.1")}
    for dag_id, dag in sources["3.0"].items():
        newer = sources["3.1"][dag_id].source
        assert newer != dag.source and body(newer) == body(dag.source)


DEADLINE_JOB = job("2", "1", name="late", job_params={"alerts": {"deadline": 3600}})


@pytest.mark.parametrize("version", ["2.10", "2.11", "3.0"])
def test_deadline_alerts_below_3_1_are_a_problem_and_other_dags_still_compile(
    version: str,
) -> None:
    result = compile_rows([task("1")], [job("1", "1"), DEADLINE_JOB], config=_config(version))
    (problem,) = result.dags["job-late"].problems
    assert problem.code is ProblemCode.UNSUPPORTED_ON_TARGET
    assert (problem.ref.table, problem.field) == ("mwaa_job", "job_params.alerts.deadline")
    assert (
        "need Airflow 3.1 or newer" in problem.message and f"Airflow {version}" in problem.message
    )
    assert result.dags["job-job_1"].ok


@pytest.mark.parametrize(
    ("version", "module"),
    [
        ("3.1", "airflow.sdk.definitions.deadline"),
        ("3.2", "airflow.sdk.definitions.deadline"),  # valid on 3.1.8 and 3.3.2 alike
        ("3.3", "airflow.sdk"),
    ],
)
def test_deadline_classes_come_from_where_each_release_has_them(version: str, module: str) -> None:
    source = (
        compile_rows([task("1")], [DEADLINE_JOB], config=_config(version)).dags["job-late"].source
    )
    assert _imports(source)[module] >= {"AsyncCallback", "DeadlineAlert", "DeadlineReference"}


def test_a_scheduler_of_deadline_job_on_an_old_release_names_the_job_problem() -> None:
    result = compile_rows(
        [task("1")], [DEADLINE_JOB], [scheduler("1", "2")], config=_config("2.11")
    )
    (problem,) = result.dags["schedule-sched_1"].problems
    assert problem.code is ProblemCode.INVALID_REFERENCE


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {"schedule_interval": "0 12 * * *"},
            'CronDataIntervalTimetable("0 12 * * *", timezone="UTC")',
        ),
        (
            {"schedule": "@daily", "timetable": "trigger", "timezone": "Europe/Paris"},
            'CronTriggerTimetable("@daily", timezone="Europe/Paris")',
        ),
        ({"schedule": "@once"}, '"@once"'),
        ({"schedule": None}, "None"),
    ],
)
def test_the_timetable_class_says_what_ds_means(params: dict, expected: str) -> None:
    for version in ("2.11", "3.3"):
        result = compile_rows(
            [task("1")],
            [job("1", "1")],
            [scheduler("1", "1", schedule_params=params)],
            config=_config(version),
        )
        assert f"    schedule={expected},\n" in result.dags["schedule-sched_1"].source


@pytest.mark.parametrize("schedule", [None, "@once", "@continuous"])
def test_a_timetable_without_a_cron_schedule_is_a_problem(schedule: str | None) -> None:
    params = {"schedule": schedule, "timetable": "trigger"}
    result = compile_rows(
        [task("1")], [job("1", "1")], [scheduler("1", "1", schedule_params=params)]
    )
    (problem,) = result.dags["schedule-sched_1"].problems
    assert problem.field == "schedule_params.timetable"
    assert "applies only to a cron schedule" in problem.message


def test_job_logical_dates_differ_per_scheduler_and_never_change() -> None:
    target = TARGETS["2.11"]
    dates = {job_logical_date(f"schedule-{n}", target) for n in range(200)}
    assert len(dates) == 200
    assert job_logical_date("schedule-a", target) == job_logical_date("schedule-a", target)
    assert job_logical_date("schedule-a", target).startswith("{{ logical_date + macros.timedelta(")


@pytest.mark.parametrize(("version", "accepted"), [("3.1", False), ("3.3", True), ("3.9", True)])
def test_nearest_weekday_is_accepted_only_where_airflows_croniter_takes_it(
    version: str, accepted: bool
) -> None:
    params = {"schedule_interval": "0 0 15W * *"}
    result = compile_rows(
        [task("1")],
        [job("1", "1")],
        [scheduler("1", "1", schedule_params=params)],
        config=_config(version),
    )
    dag = result.dags["schedule-sched_1"]
    assert dag.ok is accepted
    if not accepted:
        assert "needs Airflow 3.3 or newer" in dag.problems[0].message
