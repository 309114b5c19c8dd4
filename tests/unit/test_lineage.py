"""Lineage: row references, DAG ids and their reasons, what disables a DAG, what uses a row."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from lambda_compiler.lineage import (
    RowReferenceError,
    Use,
    lineage,
    missing_reason,
    parse_row_reference,
    uses,
)
from lambda_compiler.rows import RowRef
from lambda_compiler.snapshot import TableNames, snapshot_from_json
from tests.rowkit import job, scheduler, task

TABLES = TableNames()
TASK = RowRef("mwaa_task", (("task_id", "4"),))
JOB = RowRef("mwaa_job", (("job_type", "etl"), ("job_id", "7")))
SCHEDULER = RowRef("mwaa_scheduler", (("schedule_id", "1"),))


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["mwaa_task[task_id='4']"], TASK),
        (["mwaa_task[task_id=4]"], TASK),
        (["mwaa_task", "4"], TASK),
        (["task", "4"], TASK),
        (["mwaa_job[job_type='etl', job_id='7']"], JOB),
        (["mwaa_job[job_id='7', job_type='etl']"], JOB),
        (["mwaa_job", "etl", "7"], JOB),
        ([str(SCHEDULER)], SCHEDULER),
    ],
)
def test_row_references_in_every_accepted_form(words: list[str], expected: RowRef) -> None:
    assert parse_row_reference(words, TABLES) == expected


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["mwaa_tsk", "4"], "unknown table 'mwaa_tsk'"),
        (["mwaa_job", "7"], "keyed by job_type, job_id: give 2 value(s), got 1"),
        (["mwaa_task[id='4']"], "keyed by task_id, not id"),
        (["mwaa_task[task_id=__import__('os')]"], "key values must be quoted text or numbers"),
        (["mwaa_task[task_id='4'"], "is not a row reference like mwaa_task[task_id='4']"),
        ([], "name a table and its key values"),
    ],
)
def test_bad_row_references_say_what_is_wrong(words: list[str], message: str) -> None:
    with pytest.raises(RowReferenceError) as raised:
        parse_row_reference(words, TABLES)
    assert message in str(raised.value)


ROWS = {
    "mwaa_task": [task("1"), task("2", status=0)],
    "mwaa_job": [
        job("1", "1", name="load"),
        job("2", "1,2", name="uses_off"),
        job("3", "1", name="off", status=0),
    ],
    "mwaa_scheduler": [scheduler("1", "1,etl:3", name="daily")],
}


def test_a_disabled_job_keeps_its_dag_id_and_names_its_status() -> None:
    found = lineage(snapshot_from_json(ROWS))

    (off,) = found.for_dag("job-off")
    assert not off.enabled
    assert off.disabled_by == "mwaa_job[job_type='etl', job_id='3'] status=0"
    assert off.triggered_by == (SCHEDULER,)
    (daily,) = found.for_dag("schedule-daily")
    assert daily.enabled and daily.blocked_by == (off.disabled_by,)
    (uses_off,) = found.for_dag("job-uses_off")
    assert uses_off.blocked_by == ("mwaa_task[task_id='2'] status=0",)
    assert uses_off.problems  # the compiler's own problem, alongside
    assert missing_reason("job-off", [], found) == f"disabled by {off.disabled_by}"


def test_a_renamed_or_deleted_row_explains_a_deleted_dag() -> None:
    found = lineage(snapshot_from_json(ROWS))
    load = RowRef("mwaa_job", (("job_type", "etl"), ("job_id", "1")))
    gone = RowRef("mwaa_job", (("job_type", "etl"), ("job_id", "9")))
    task_address = RowRef("mwaa_task", (("task_id", "1"),)).address

    renamed = missing_reason("job-loader", [load.address, task_address], found)
    deleted = missing_reason("job-x", [gone.address, task_address], found)

    assert renamed == f"renamed: {load} now produces job-load (from job_name 'load')"
    assert deleted == f"{gone} was deleted"


def _index(entries: dict[str, set[RowRef]]):  # type: ignore[no-untyped-def]
    def dependents(keys: Iterable[str]) -> set[RowRef]:
        return set().union(*(entries.get(key, set()) for key in keys))

    return dependents


def test_uses_walks_task_to_jobs_to_schedulers_once_each() -> None:
    other_job = RowRef("mwaa_job", (("job_type", "etl"), ("job_id", "8")))
    index = _index(
        {
            "taskref#4": {JOB, other_job},
            "jobref#7": {SCHEDULER},
            "jobref#etl:8": {SCHEDULER},
        }
    )

    assert uses(TASK, "task", index) == [
        Use(JOB, "job", TASK),
        Use(other_job, "job", TASK),
        Use(SCHEDULER, "scheduler", JOB),
    ]
    assert uses(JOB, "job", index) == [Use(JOB, "job", None), Use(SCHEDULER, "scheduler", JOB)]
    assert uses(TASK, "task", _index({})) == []
