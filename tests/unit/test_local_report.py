"""The local stack's printed lines: which row changed, which DAGs it touched, and why."""

from __future__ import annotations

import datetime
from typing import Any

from lambda_compiler.handler import REPORT
from lambda_compiler.local.report import ChangeReport
from lambda_compiler.local.streams import Invocation
from lambda_compiler.model import DagId
from lambda_compiler.outcome import Outcome
from lambda_compiler.rows import JOB_KEY, TASK_KEY
from lambda_compiler.settle import DagReport
from lambda_compiler.sync import SyncReport

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/{table}/stream/2026-01-01T00:00:00"


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


def _response(*dags: tuple[DagReport, set[int]]) -> dict[str, Any]:
    """The handler's response for a batch whose DAGs are `dags` (each with its changes)."""
    report = SyncReport(
        dags={dag.dag_id: dag for dag, _ in dags}, causes={dag.dag_id: c for dag, c in dags}
    )
    return {"batchItemFailures": [], REPORT: report.summary()}


def _report() -> ChangeReport:
    return ChangeReport(
        {"mwaa_task": TASK_KEY, "mwaa_job": JOB_KEY},
        clock=lambda: datetime.datetime(2026, 1, 1, 12, 0, 5),
    )


def _dag(dag_id: str, outcome: Outcome, **extra: Any) -> DagReport:
    return DagReport(DagId(dag_id), outcome, **extra)


def test_each_record_gets_the_dags_built_from_its_row() -> None:
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
        response=_response(
            (_dag("job-a", Outcome.WRITTEN), {0}), (_dag("job-b", Outcome.UNCHANGED), {1})
        ),
    )

    lines = _report().lines(invocation)

    assert [line.text() for line in lines] == [
        "12:00:05 MODIFY mwaa_task[task_id='1'] → wrote job-a",
        "12:00:05 MODIFY mwaa_task[task_id='2'] → unchanged job-b",
        "12:00:05 INSERT mwaa_task[task_id='3'] → no DAG affected [handler 82 ms for 3 records]",
    ]
    assert not any(line.failed for line in lines)


PROBLEM = "mwaa_job[job_type='etl', job_id='1']: task_list: task '9' does not exist"


def test_a_rejected_dag_says_why_and_that_its_last_good_file_stays() -> None:
    rejected = _dag("job-a", Outcome.INVALID, problems=(PROBLEM,), kept_file=True)
    invocation = Invocation(
        "mwaa_job",
        (_record("mwaa_job", {"job_type": "etl", "job_id": "1"}, "MODIFY", "5"),),
        failed=(),
        attempt=1,
        response=_response((rejected, {0})),
    )

    (line,) = _report().lines(invocation)

    assert line.text() == (
        "12:00:05 MODIFY mwaa_job[job_type='etl', job_id='1'] → rejected job-a: "
        f"{PROBLEM}, last good file kept [handler 0 ms]"
    )
    assert line.failed


def test_a_dag_rejected_before_it_ever_had_a_file_does_not_claim_one_is_kept() -> None:
    never_written = _dag("job-a", Outcome.INVALID, problems=(PROBLEM,))
    invocation = Invocation(
        "mwaa_job",
        (_record("mwaa_job", {"job_type": "etl", "job_id": "1"}, "INSERT", "5"),),
        failed=(),
        attempt=1,
        response=_response(
            (never_written, {0}), (_dag("job-b", Outcome.INVALID, problems=(PROBLEM,)), {0})
        ),
    )

    (line,) = _report().lines(invocation)

    assert "last good file kept" not in line.text()
    assert line.text() == (
        "12:00:05 INSERT mwaa_job[job_type='etl', job_id='1'] → "
        f"rejected job-a: {PROBLEM}, no DAG file in S3; "
        f"rejected job-b: {PROBLEM}, no DAG file in S3 [handler 0 ms]"
    )
    assert line.failed


def test_disabled_and_removed_rows_and_retried_records_are_noted() -> None:
    keys = {"job_type": "etl", "job_id": "1"}
    disabled = _record("mwaa_job", keys, "MODIFY", "7", NewImage={"status": {"N": "0"}})
    removed = _record("mwaa_job", {"job_type": "etl", "job_id": "2"}, "REMOVE", "8")
    response = _response((_dag("job-a", Outcome.DELETED), {0}))
    invocation = Invocation(
        "mwaa_job", (disabled, removed), failed=("8",), attempt=1, response=response
    )

    first, second = _report().lines(invocation)

    assert first.text() == (
        "12:00:05 MODIFY mwaa_job[job_type='etl', job_id='1'] (disabled) → deleted job-a"
    )
    assert second.text() == (
        "12:00:05 REMOVE mwaa_job[job_type='etl', job_id='2'] (will be retried) → no DAG affected"
        " [handler 0 ms for 2 records]"
    )


def test_a_dag_no_record_led_to_and_a_failed_dag_go_on_the_last_line() -> None:
    crashed = _dag("job-b", Outcome.ERROR, error="KeyError: 'x'", crashed=True)
    invocation = Invocation(
        "mwaa_task",
        (_record("mwaa_task", {"task_id": "1"}, "MODIFY", "3"),),
        failed=(),
        attempt=1,
        response=_response((crashed, set())),
    )

    (line,) = _report().lines(invocation)

    assert line.text() == (
        "12:00:05 MODIFY mwaa_task[task_id='1'] → failed job-b: KeyError: 'x' [handler 0 ms]"
    )
    assert line.failed


def test_a_crashed_invocation_reports_no_dag() -> None:
    invocation = Invocation(
        "mwaa_task",
        (_record("mwaa_task", {"task_id": "1"}, "MODIFY", "3"),),
        failed=("3",),
        attempt=1,
        error="RuntimeError: boom",
    )

    (line,) = _report().lines(invocation)

    assert line.text() == (
        "12:00:05 MODIFY mwaa_task[task_id='1'] (will be retried) → no DAG affected [handler 0 ms]"
    )
