"""Every validation problem names its table, key and attribute, and stays in its own DAG."""

from __future__ import annotations

import pytest

from lambda_compiler.problems import ProblemCode
from tests.rowkit import compile_rows, job, scheduler, task

T1, T2, T3 = task("1"), task("2"), task("3")
GOOD_JOB = job("9", "1", name="good")

# (case id, tasks, jobs, schedulers, table, key text, field, code, words in the message)
CASES = [
    (
        "malformed-json",
        [T1],
        [job("1", "1", job_task_dependencies='[{"task_id": "1",')],
        [],
        "mwaa_job",
        "job_id='1'",
        "job_task_dependencies",
        ProblemCode.MALFORMED_JSON,
        "not valid JSON",
    ),
    (
        "missing-task-name",
        [task("1", task_name=None) | {"task_name": ""}],
        [job("1", "1")],
        [],
        "mwaa_task",
        "task_id='1'",
        "task_name",
        ProblemCode.MISSING_ATTRIBUTE,
        "missing",
    ),
    (
        "missing-job-name",
        [T1],
        [job("1", "1") | {"job_name": None}],
        [],
        "mwaa_job",
        "job_id='1'",
        "job_name",
        ProblemCode.MISSING_ATTRIBUTE,
        "missing",
    ),
    (
        "wrong-type-status",
        [T1],
        [job("1", "1", status="yes")],
        [],
        "mwaa_job",
        "job_id='1'",
        "status",
        ProblemCode.WRONG_TYPE,
        "1 (enabled) or 0",
    ),
    (
        "wrong-type-params",
        [T1],
        [job("1", "1", job_params='["retries"]')],
        [],
        "mwaa_job",
        "job_id='1'",
        "job_params",
        ProblemCode.WRONG_TYPE,
        "must be an object",
    ),
    (
        "unknown-task",
        [T1],
        [job("1", "1,7")],
        [],
        "mwaa_job",
        "job_id='1'",
        "task_list",
        ProblemCode.UNKNOWN_REFERENCE,
        "'7' does not exist",
    ),
    (
        "disabled-task",
        [T1, task("2", status=0)],
        [job("1", "1,2")],
        [],
        "mwaa_job",
        "job_id='1'",
        "task_list",
        ProblemCode.DISABLED_REFERENCE,
        "'2' is disabled",
    ),
    (
        "unknown-job",
        [T1],
        [job("1", "1")],
        [scheduler("1", "1,5")],
        "mwaa_scheduler",
        "schedule_id='1'",
        "job_list",
        ProblemCode.UNKNOWN_REFERENCE,
        "'5' does not exist",
    ),
    (
        "disabled-job",
        [T1],
        [job("1", "1"), job("2", "1", status=0)],
        [scheduler("1", "1,2")],
        "mwaa_scheduler",
        "schedule_id='1'",
        "job_list",
        ProblemCode.DISABLED_REFERENCE,
        "is disabled",
    ),
    (
        "ambiguous-job",
        [T1],
        [job("1", "1"), job("1", "1", name="other") | {"job_type": "ml"}],
        [scheduler("1", "1")],
        "mwaa_scheduler",
        "schedule_id='1'",
        "job_list",
        ProblemCode.AMBIGUOUS_REFERENCE,
        "etl:1, ml:1",
    ),
    (
        "self-dependency",
        [T1, T2],
        [job("1", "1,2", job_task_dependencies='[{"task_id":"1","pid":"1"}]')],
        [],
        "mwaa_job",
        "job_id='1'",
        "job_task_dependencies",
        ProblemCode.SELF_DEPENDENCY,
        "'1' depends on itself",
    ),
    (
        "dependency-not-listed",
        [T1, T2],
        [job("1", "1", job_task_dependencies='[{"task_id":"1","pid":"2"}]')],
        [],
        "mwaa_job",
        "job_id='1'",
        "job_task_dependencies",
        ProblemCode.DEPENDENCY_NOT_LISTED,
        "'2' is in a dependency but not in the list",
    ),
    (
        "cycle",
        [T1, T2, T3],
        [
            job(
                "1",
                "1,2,3",
                job_task_dependencies=[
                    {"task_id": "2", "pid": "1"},
                    {"task_id": "3", "pid": "2"},
                    {"task_id": "1", "pid": "3"},
                ],
            )
        ],
        [],
        "mwaa_job",
        "job_id='1'",
        "job_task_dependencies",
        ProblemCode.CYCLE,
        "1 -> 2 -> 3 -> 1",
    ),
    (
        "scheduler-cycle",
        [T1],
        [job("1", "1"), job("2", "1")],
        [
            scheduler(
                "1",
                "1,2",
                schedule_job_dependencies=[
                    {"job_id": "1", "pid": "2"},
                    {"job_id": "2", "pid": "1"},
                ],
            )
        ],
        "mwaa_scheduler",
        "schedule_id='1'",
        "schedule_job_dependencies",
        ProblemCode.CYCLE,
        "job-job_1 -> job-job_2 -> job-job_1",
    ),
    (
        "duplicate-dag-id",
        [T1],
        [job("1", "1", name="same"), job("2", "1", name="same")],
        [],
        "mwaa_job",
        "job_id='1'",
        "job_name",
        ProblemCode.DUPLICATE_DAG_ID,
        "also produced by mwaa_job[job_type='etl', job_id='2']",
    ),
    (
        "scheduler-of-a-duplicate-dag-id",
        [T1],
        [job("1", "1", name="same"), job("2", "1", name="same")],
        [scheduler("1", "1")],
        "mwaa_scheduler",
        "schedule_id='1'",
        "job_list",
        ProblemCode.INVALID_REFERENCE,
        "has problems of its own",
    ),
    (
        "duplicate-task-id",
        [task("1", "load"), task("2", "load")],
        [job("1", "1,2")],
        [],
        "mwaa_job",
        "job_id='1'",
        "task_list",
        ProblemCode.DUPLICATE_TASK_ID,
        "Airflow task id 'load'",
    ),
    (
        "invalid-identifier",
        [T1],
        [job("1", "1", name="日次") | {"job_type": "bad type!"}],
        [],
        "mwaa_job",
        "job_id='1'",
        "job_name",
        ProblemCode.INVALID_IDENTIFIER,
        "cannot make a valid DAG id",
    ),
    (
        "invalid-cron",
        [T1],
        [job("1", "1")],
        [scheduler("1", "1", schedule_params={"schedule_interval": "0 25 * * *"})],
        "mwaa_scheduler",
        "schedule_id='1'",
        "schedule_params.schedule_interval",
        ProblemCode.INVALID_SCHEDULE,
        "'0 25 * * *' is not a cron expression Airflow accepts: [0 25 * * *] is not acceptable",
    ),
    (
        "invalid-preset",
        [T1],
        [job("1", "1")],
        [scheduler("1", "1", schedule_params={"schedule": "@sometimes"})],
        "mwaa_scheduler",
        "schedule_id='1'",
        "schedule_params.schedule",
        ProblemCode.INVALID_SCHEDULE,
        "'@sometimes' is not a cron expression Airflow accepts",
    ),
    (
        "cron-field-count",
        [T1],
        [job("1", "1")],
        [scheduler("1", "1", schedule_params={"schedule_interval": "0 0 12"})],
        "mwaa_scheduler",
        "schedule_id='1'",
        "schedule_params.schedule_interval",
        ProblemCode.INVALID_SCHEDULE,
        "Exactly 5, 6 or 7 columns has to be specified",
    ),
    (
        "unknown-task-type",
        [task("1", task_type="SPARK-MAGIC")],
        [job("1", "1")],
        [],
        "mwaa_task",
        "task_id='1'",
        "task_type",
        ProblemCode.UNKNOWN_TASK_TYPE,
        "'SPARK-MAGIC' is not a known task type",
    ),
    (
        "task-params-schema",
        [task("1", task_params={"conn_id": "redshift_default"})],
        [job("1", "1")],
        [],
        "mwaa_task",
        "task_id='1'",
        "task_params.sql",
        ProblemCode.INVALID_TASK_PARAMS,
        "required",
    ),
    (
        "task-params-unknown-key",
        [task("1", task_params={"conn_id": "redshift_default", "sql": "x", "pasword": "p"})],
        [job("1", "1")],
        [],
        "mwaa_task",
        "task_id='1'",
        "task_params.pasword",
        ProblemCode.INVALID_TASK_PARAMS,
        "not a known parameter",
    ),
    (
        "redshift-data-api-needs-database",
        [task("1", task_type="REDSHIFT-SQL", task_params={"sql": "x", "workgroup_name": "wg"})],
        [job("1", "1")],
        [],
        "mwaa_task",
        "task_id='1'",
        "task_params",
        ProblemCode.INVALID_TASK_PARAMS,
        "database is required",
    ),
    (
        "job-params-typo",
        [T1],
        [job("1", "1", job_params={"retires": 3})],
        [],
        "mwaa_job",
        "job_id='1'",
        "job_params.retires",
        ProblemCode.INVALID_PARAMS,
        "not a known parameter; known:",
    ),
    (
        "bad-timezone",
        [T1],
        [job("1", "1")],
        [scheduler("1", "1", schedule_params={"schedule": "@daily", "timezone": "Mars/Base"})],
        "mwaa_scheduler",
        "schedule_id='1'",
        "schedule_params.timezone",
        ProblemCode.INVALID_PARAMS,
        "not an IANA time zone",
    ),
    (
        "task-config-for-unlisted-task",
        [T1],
        [job("1", "1", job_task_configs={"2": {"retries": 1}})],
        [],
        "mwaa_job",
        "job_id='1'",
        "job_task_configs.2",
        ProblemCode.UNKNOWN_REFERENCE,
        "'2' is not listed",
    ),
    (
        "job-config-for-unlisted-job",
        [T1],
        [job("1", "1")],
        [scheduler("1", "1", schedule_job_configs={"4": {"conf": {}}})],
        "mwaa_scheduler",
        "schedule_id='1'",
        "schedule_job_configs.4",
        ProblemCode.UNKNOWN_REFERENCE,
        "not in job_list",
    ),
    (
        "invalid-job-makes-scheduler-invalid",
        [T1],
        [job("1", "1,8")],
        [scheduler("1", "1")],
        "mwaa_scheduler",
        "schedule_id='1'",
        "job_list",
        ProblemCode.INVALID_REFERENCE,
        "has problems of its own",
    ),
]


@pytest.mark.parametrize(
    ("tasks", "jobs", "schedulers", "table", "key", "field", "code", "words"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_problem_names_table_key_and_attribute(
    tasks, jobs, schedulers, table, key, field, code, words
):
    # GIVEN rows with one defect, next to an unrelated valid job
    result = compile_rows(
        [*tasks, task("99", "other")], [*jobs, job("99", "99", name="bystander")], schedulers
    )

    # THEN the problem names table, key and attribute in its message
    matching = [
        p
        for p in result.problems
        if p.ref.table == table
        and key in p.ref.key_text
        and p.field == field
        and (code is None or p.code == code)
    ]
    assert matching, f"no {code} problem on {table} {key} {field}: {result.problems}"
    text = str(matching[0])
    assert table in text and key in text and field in text
    if words:
        assert words in text
    # AND the unrelated job still compiles
    assert result.dags["job-bystander"].ok


def test_all_problems_of_a_row_are_reported_at_once():
    result = compile_rows(
        [task("1", task_type="NOPE"), task("2", task_params="{bad json")],
        [job("1", "1,2,3", job_params={"retries": -1}, status=1)],
    )
    fields = {(p.ref.table, p.field) for p in result.problems}
    assert ("mwaa_task", "task_type") in fields
    assert ("mwaa_task", "task_params") in fields
    assert ("mwaa_job", "task_list") in fields  # task 3 does not exist
    assert ("mwaa_job", "job_params.retries") in fields


def test_a_broken_job_affects_only_itself_and_the_schedulers_that_trigger_it():
    result = compile_rows(
        [task("1"), task("2", task_params="not json")],
        [job("1", "1", name="fine"), job("2", "2", name="broken")],
        [scheduler("1", "1", name="uses_fine"), scheduler("2", "1,2", name="uses_broken")],
    )
    assert result.dags["job-fine"].ok
    assert result.dags["schedule-uses_fine"].ok
    assert not result.dags["job-broken"].ok
    assert not result.dags["schedule-uses_broken"].ok


def test_duplicate_task_rows_in_a_file_are_reported():
    result = compile_rows([task("1"), task("1", "again")], [job("1", "1")])
    assert any(
        p.code == ProblemCode.DUPLICATE_TASK_ID and p.ref.table == "mwaa_task"
        for p in result.problems
    )


def test_a_row_without_its_key_is_reported_not_dropped():
    result = compile_rows([task("1")], [job("1", "1") | {"job_id": None}])
    assert [(p.ref.table, p.field, p.code) for p in result.unparsable] == [
        ("mwaa_job", "job_id", ProblemCode.MISSING_ATTRIBUTE)
    ]


def test_a_binary_value_read_from_a_table_is_named_as_binary() -> None:
    # DynamoDB can hold a binary attribute; decoded from the table it is `bytes`
    result = compile_rows([task("1", task_params=b"\x00")], [job("1", "1")])
    messages = [str(problem) for problem in result.problems]
    assert (
        "mwaa_task[task_id='1']: task_params: is binary (a DynamoDB B or BS value); a DAG file "
        "holds only text, numbers, booleans, null, maps and lists [wrong-type]" in messages
    )
