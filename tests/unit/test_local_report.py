"""The local stack's printed lines: which row changed, which DAGs it touched, and why."""

from __future__ import annotations

import datetime
from typing import Any

from lambda_compiler.local.report import ChangeReport
from lambda_compiler.local.streams import Invocation
from lambda_compiler.registry import DagRecord
from lambda_compiler.rows import JOB_KEY, TASK_KEY

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/{table}/stream/2026-01-01T00:00:00"
JOB_ROW = "mwaa_job/job_type=etl/job_id=1"


def _record(table: str, keys: dict[str, str], event: str, seq: str, **images: Any) -> dict:
    return {
        "eventName": event,
        "eventSourceARN": ARN.format(table=table),
        "dynamodb": {
            "Keys": {k: {"S": v} for k, v in keys.items()},
            "SequenceNumber": seq,
            **images,
        },
    }


def _dag(dag_id: str, outcome: str, sources: tuple[str, ...], **extra: Any) -> DagRecord:
    values: dict[str, Any] = dict.fromkeys(DagRecord.__dataclass_fields__)
    values.update(dag_id=dag_id, outcome=outcome, sources=sources, problems=(), claims=frozenset())
    values.update(extra)
    return DagRecord(**values)


def _report(*records: DagRecord) -> ChangeReport:
    by_id = {r.dag_id: r for r in records}
    return ChangeReport(
        {"mwaa_task": TASK_KEY, "mwaa_job": JOB_KEY},
        by_id.get,
        clock=lambda: datetime.datetime(2026, 1, 1, 12, 0, 5),
    )


def test_each_record_gets_the_dags_built_from_its_row() -> None:
    report = _report(
        _dag("job-a", "written", (JOB_ROW, "mwaa_task/task_id=1")),
        _dag("job-b", "unchanged", ("mwaa_job/job_type=etl/job_id=2", "mwaa_task/task_id=2")),
    )
    invocation = Invocation(
        "mwaa_task",
        (
            _record("mwaa_task", {"task_id": "1"}, "MODIFY", "10"),
            _record("mwaa_task", {"task_id": "2"}, "MODIFY", "11"),
            _record("mwaa_task", {"task_id": "3"}, "INSERT", "12"),
        ),
        failed=(),
        attempt=1,
        seconds=0.0824,
    )

    lines = report.lines(invocation, {"job-a": "written", "job-b": None})

    assert [line.text() for line in lines] == [
        "12:00:05 MODIFY mwaa_task[task_id='1'] → wrote job-a",
        "12:00:05 MODIFY mwaa_task[task_id='2'] → unchanged job-b",
        "12:00:05 INSERT mwaa_task[task_id='3'] → no DAG affected [handler 82 ms for 3 records]",
    ]
    assert not any(line.failed for line in lines)


PROBLEM = "mwaa_job[job_type='etl', job_id='1']: task_list: task '9' does not exist"


def test_a_rejected_dag_says_why_and_that_its_last_good_file_stays() -> None:
    report = _report(
        _dag("job-a", "invalid", (JOB_ROW,), problems=(PROBLEM,), version_id="v1", sha256="ab12")
    )
    invocation = Invocation(
        "mwaa_job",
        (_record("mwaa_job", {"job_type": "etl", "job_id": "1"}, "MODIFY", "5"),),
        failed=(),
        attempt=1,
    )

    (line,) = report.lines(invocation, {"job-a": "invalid"})

    assert line.text() == (
        "12:00:05 MODIFY mwaa_job[job_type='etl', job_id='1'] → rejected job-a: "
        f"{PROBLEM}, last good file kept [handler 0 ms]"
    )
    assert line.failed


def test_a_dag_rejected_before_it_ever_had_a_file_does_not_claim_one_is_kept() -> None:
    never_written = _dag("job-a", "invalid", (JOB_ROW,), problems=(PROBLEM,))
    # Deleted (disabled) once, then re-enabled with a bad row: only a delete marker is current.
    deleted = _dag("job-b", "invalid", (JOB_ROW,), problems=(PROBLEM,), version_id="marker")
    invocation = Invocation(
        "mwaa_job",
        (_record("mwaa_job", {"job_type": "etl", "job_id": "1"}, "INSERT", "5"),),
        failed=(),
        attempt=1,
    )

    (line,) = _report(never_written, deleted).lines(
        invocation, {"job-a": "invalid", "job-b": "invalid"}
    )

    assert "last good file kept" not in line.text()
    assert line.text() == (
        "12:00:05 INSERT mwaa_job[job_type='etl', job_id='1'] → "
        f"rejected job-a: {PROBLEM}, no DAG file in S3; "
        f"rejected job-b: {PROBLEM}, no DAG file in S3 [handler 0 ms]"
    )
    assert line.failed


def test_disabled_and_removed_rows_and_retried_records_are_noted() -> None:
    report = _report(_dag("job-a", "deleted", (JOB_ROW,)))
    keys = {"job_type": "etl", "job_id": "1"}
    disabled = _record("mwaa_job", keys, "MODIFY", "7", NewImage={"status": {"N": "0"}})
    removed = _record("mwaa_job", {"job_type": "etl", "job_id": "2"}, "REMOVE", "8")
    invocation = Invocation("mwaa_job", (disabled, removed), failed=("8",), attempt=1)

    first, second = report.lines(invocation, {"job-a": "deleted"})

    assert first.text() == (
        "12:00:05 MODIFY mwaa_job[job_type='etl', job_id='1'] (disabled) → deleted job-a"
    )
    assert second.text() == (
        "12:00:05 REMOVE mwaa_job[job_type='etl', job_id='2'] (will be retried) → no DAG affected"
        " [handler 0 ms for 2 records]"
    )
