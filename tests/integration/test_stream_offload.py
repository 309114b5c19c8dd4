"""A batch whose owners are too many is handed off (fan-out), not built in the handler."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from lambda_compiler.dynamodb_json import row_of
from lambda_compiler.plan import Change, change_from_record
from lambda_compiler.rows import RowRef
from lambda_compiler.sync import DagSync, build_sync
from tests.integration.aws_fixtures import Stack
from tests.rowkit import job, task

pytestmark = pytest.mark.moto

NEW_SQL = {"conn_id": "redshift_default", "sql": "SELECT 42;"}


@pytest.fixture
def stack(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Stack:
    return Stack(moto_endpoint, monkeypatch)


def changes(sync: DagSync, records: list[dict]) -> list[Change]:
    return [change_from_record(r, sync.tables, row_of) for r in records]


def test_a_change_owned_by_more_rows_than_the_limit_is_offloaded_and_built_by_the_receiver(
    stack: Stack,
):
    # GIVEN task 1 listed by jobs a and b, built
    stack.put("task", task("1"))
    stack.put("job", job("a", "1"), job("b", "1"))
    worker = build_sync(stack.settings)
    assert worker.apply(changes(worker, stack.records())).failed == set()
    handed: list[Sequence[RowRef]] = []
    sync = build_sync(stack.settings, offload=handed.append, offload_above=1)
    # WHEN task 1 changes (its two jobs: more than one owner)
    stack.put("task", task("1", task_params=NEW_SQL))
    report = sync.apply(changes(sync, stack.records()))
    # THEN the owners are handed over, the change completes, and nothing is built here
    jobs = [RowRef(stack.table("job"), (("job_type", "etl"), ("job_id", j))) for j in "ab"]
    assert handed == [jobs]
    assert (report.offloaded, report.failed, report.dropped, report.dags) == (2, set(), set(), {})
    assert "SELECT 42;" not in stack.files()["job-job_a"]
    # AND a receiver building those owners (as a fan-out worker does) brings the files up to date
    built = worker.apply([Change("job", ref, frozenset({ref})) for ref in handed[0]])
    assert set(built.dags) == {"job-job_a", "job-job_b"}
    assert stack.files() == stack.expected_files()


def test_a_failed_offload_fails_the_offloaded_change_so_it_is_retried(stack: Stack):
    stack.put("task", task("1"))
    stack.put("job", job("a", "1"), job("b", "1"))

    def unavailable(owners: Sequence[RowRef]) -> None:
        from botocore.exceptions import EndpointConnectionError

        raise EndpointConnectionError(endpoint_url="https://sqs.example")

    sync = build_sync(stack.settings, offload=unavailable, offload_above=1)
    records = stack.records()
    report = sync.apply(changes(sync, records))
    # THEN of the two job records (two owners: over the limit of one) the one handed over is
    # retried and the other is built here; the task's record, which owns no row, completes
    table = stack.table("job")
    job_records = {i for i, r in enumerate(records) if f"table/{table}/" in r["eventSourceARN"]}
    assert len(report.failed) == 1 and report.failed < job_records
    assert report.offloaded == 0
    assert len(stack.files()) == 1


def test_a_small_change_batched_with_a_big_one_is_built_first(stack: Stack):
    # GIVEN task 1 listed by jobs a, b and c, and job z with its own task 9, all built
    stack.put("task", task("1"), task("9"))
    stack.put("job", job("a", "1"), job("b", "1"), job("c", "1"), job("z", "9"))
    worker = build_sync(stack.settings)
    assert worker.apply(changes(worker, stack.records())).failed == set()
    handed: list[Sequence[RowRef]] = []
    z_built_when_handed: list[bool] = []

    def offload(owners: Sequence[RowRef]) -> None:
        handed.append(owners)
        z_built_when_handed.append("SELECT 42;" in stack.files()["job-job_z"])

    sync = build_sync(stack.settings, offload=offload, offload_above=2)
    # WHEN task 1 (three jobs) and task 9 (one job) change and arrive in one batch
    stack.put("task", task("1", task_params=NEW_SQL), task("9", task_params=NEW_SQL))
    report = sync.apply(changes(sync, stack.records()))
    # THEN task 1's jobs go to the fan-out and job z is built in this invocation
    table = stack.table("job")
    assert handed == [[RowRef(table, (("job_type", "etl"), ("job_id", j))) for j in "abc"]]
    assert set(report.dags) == {"job-job_z"} and report.failed == set()
    assert "SELECT 42;" in stack.files()["job-job_z"]
    assert "SELECT 42;" not in stack.files()["job-job_a"]
    # AND job z's file was written before the fan-out was handed its owners (enqueueing
    # thousands of owners takes a while; the small change does not wait for it)
    assert z_built_when_handed == [True]
