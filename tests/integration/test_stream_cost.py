"""A one-task change costs requests in proportion to the DAGs it affects, not the tables."""

from __future__ import annotations

import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from lambda_compiler.dynamodb_json import row_of
from lambda_compiler.handler import lambda_handler, sync_for
from lambda_compiler.model import DagId
from lambda_compiler.plan import change_from_record
from lambda_compiler.rebuild import run_rebuild
from lambda_compiler.registry import Listing
from lambda_compiler.settings import Settings
from tests.integration.aws_fixtures import (
    Stack,
    count_requests,
    deliver,
    round_trips,
    timed_requests,
)
from tests.rowkit import job, scheduler, task

pytestmark = pytest.mark.moto


def one_task_change(endpoint: str, monkeypatch: pytest.MonkeyPatch, unrelated: int) -> Counter:
    """Requests the handler makes for one task change, with `unrelated` other jobs around."""
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))
    sync_for.cache_clear()
    stack = Stack(endpoint, monkeypatch)
    # GIVEN task 1 in job "load", triggered by scheduler "daily", and `unrelated` other
    # jobs with their own tasks and schedulers, all built and indexed by a rebuild
    stack.put("task", task("1"))
    stack.put("job", job("load", "1", name="load"))
    stack.put("scheduler", scheduler("daily", "load", name="daily"))
    stack.put_many("task", [task(f"u{i}") for i in range(unrelated)])
    stack.put_many("job", [job(f"u{i}", f"u{i}") for i in range(unrelated)])
    stack.put_many("scheduler", [scheduler(f"u{i}", f"u{i}") for i in range(0, unrelated, 10)])
    sync = sync_for(Settings.from_env())
    assert run_rebuild(stack.settings, sync=sync).ok
    stack.records()
    # WHEN task 1's SQL changes
    stack.put("task", task("1", task_params={"conn_id": "redshift_default", "sql": "SELECT 2;"}))
    with count_requests(sync.source._client, sync.publisher._client) as counts:
        assert deliver(lambda_handler, stack.records()) == []
    assert "SELECT 2;" in stack.files()["job-load"]
    return counts


def test_reads_and_writes_for_a_one_task_change_do_not_grow_with_the_tables(
    moto_server: str, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
):
    small = one_task_change(moto_endpoint, monkeypatch, unrelated=0)
    large = one_task_change(moto_endpoint, monkeypatch, unrelated=200)
    # THEN the same requests, and only the job's file is written (its scheduler DAG's
    # bytes do not depend on the task, so it is not even rebuilt)
    assert large == small
    assert small["s3.PutObject"] == 1
    assert small["dynamodb.Scan"] == 0
    assert sum(small.values()) < 25, small


def test_a_one_task_change_does_not_rewrite_index_entries_or_claims_the_registry_holds(
    moto_server: str, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
):
    counts = one_task_change(moto_endpoint, monkeypatch, unrelated=0)
    # THEN the registry gets the job DAG's outcome and nothing else: its index entries
    # and DAG-id claim were read with the rows, found in place, and not written again
    assert counts["dynamodb.BatchWriteItem"] == 0
    assert counts["dynamodb.UpdateItem"] == 1
    assert counts["dynamodb.PutItem"] == 0


def test_a_one_task_change_puts_the_recorded_file_without_looking_at_it_first(
    moto_server: str, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
):
    counts = one_task_change(moto_endpoint, monkeypatch, unrelated=0)
    # THEN the job's file is replaced by one put conditional on the ETag the registry
    # records (S3 refuses it if the object is another), with no HEAD before it
    assert counts["s3.HeadObject"] == 0
    assert counts["s3.PutObject"] == 1


def test_a_lost_index_entry_is_written_again_when_its_job_is_rebuilt(
    moto_server: str, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
):
    sync_for.cache_clear()
    stack = Stack(moto_endpoint, monkeypatch)
    # GIVEN job "load" listing task 1, built, whose "task 1 → load" index entry is lost
    stack.put("task", task("1"))
    stack.put("job", job("load", "1", name="load"))
    assert deliver(lambda_handler, stack.records()) == []
    table = stack.settings.registry_table
    entries = stack.dynamodb.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "taskref#1"}},
    )["Items"]
    assert len(entries) == 1
    stack.dynamodb.delete_item(TableName=table, Key={k: entries[0][k] for k in ("pk", "sk")})
    # WHEN the job is saved again (bytes unchanged) and then task 1's SQL changes
    stack.put("job", job("load", "1", name="load"))
    assert deliver(lambda_handler, stack.records()) == []
    stack.put("task", task("1", task_params={"conn_id": "redshift_default", "sql": "SELECT 2;"}))
    assert deliver(lambda_handler, stack.records()) == []
    # THEN the job's rebuild restored the entry, so the task change reached the job
    assert "SELECT 2;" in stack.files()["job-load"]


def test_a_one_task_change_takes_at_most_four_sequential_round_trips(
    moto_server: str, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
):
    sync_for.cache_clear()
    stack = Stack(moto_endpoint, monkeypatch)
    # GIVEN task 1 in job "load" (triggered by scheduler "daily"), built by a rebuild
    stack.put("task", task("1"), task("2"))
    stack.put("job", job("load", "1,2", name="load"))
    stack.put("scheduler", scheduler("daily", "load", name="daily"))
    sync = sync_for(Settings.from_env())
    assert run_rebuild(stack.settings, sync=sync).ok
    stack.records()
    stack.put("task", task("2", task_params={"conn_id": "redshift_default", "sql": "SELECT 3;"}))
    assert deliver(lambda_handler, stack.records()) == []  # a warm container
    # WHEN task 1's SQL changes
    stack.put("task", task("1", task_params={"conn_id": "redshift_default", "sql": "SELECT 2;"}))
    with timed_requests(sync.source._client, sync.publisher._client) as requests:
        assert deliver(lambda_handler, stack.records()) == []
    assert "SELECT 2;" in stack.files()["job-load"]
    # THEN the requests wait on one another at most four deep
    trips = round_trips(requests)
    assert len(trips) <= 4, trips
    assert len(requests) <= 7, trips


def test_index_entries_without_a_listing_still_lead_to_the_job_and_get_one(
    moto_server: str, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
):
    sync_for.cache_clear()
    stack = Stack(moto_endpoint, monkeypatch)
    # GIVEN job "load" built, whose index entries were written before entries held the
    # job's task ids and DAG id
    stack.put("task", task("1"), task("2"))
    stack.put("job", job("load", "1,2", name="load"))
    assert deliver(lambda_handler, stack.records()) == []
    table = stack.settings.registry_table
    for task_id in ("1", "2"):
        (item,) = stack.dynamodb.query(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"taskref#{task_id}"}},
        )["Items"]
        assert "tasks" in item
        stack.dynamodb.put_item(TableName=table, Item={k: item[k] for k in ("pk", "sk")})
    # WHEN task 1's SQL changes
    stack.put("task", task("1", task_params={"conn_id": "redshift_default", "sql": "SELECT 2;"}))
    assert deliver(lambda_handler, stack.records()) == []
    # THEN the job is rebuilt all the same, and its entries hold its listing again
    assert "SELECT 2;" in stack.files()["job-load"]
    listed = stack.registry.listed(["taskref#1", "taskref#2"])
    assert {str(ref): listing for ref, listing in listed.items()} == {
        "mwaa_job[job_type='etl', job_id='load']": Listing(("1", "2"), DagId("job-load"))
    }


@contextmanager
def _taskref_keys_read(client: Any) -> Iterator[Counter[str]]:
    """Count the ``taskref#`` registry keys `client`'s BatchGetItem calls ask for."""
    counts: Counter[str] = Counter()

    def count(params: dict[str, Any], **_: Any) -> None:
        for keys in params["RequestItems"].values():
            counts["taskref"] += sum(
                k.get("pk", {}).get("S", "").startswith("taskref#") for k in keys["Keys"]
            )

    event = "before-parameter-build.dynamodb.BatchGetItem"
    client.meta.events.register(event, count)
    try:
        yield counts
    finally:
        client.meta.events.unregister(event, count)


def _task_change(stack: Stack, sync: Any, task_id: str, sql: str) -> int:
    """Deliver a change of task `task_id`'s SQL; the ``taskref#`` keys the handler read."""
    stack.put("task", task(task_id, task_params={"conn_id": "redshift_default", "sql": sql}))
    with _taskref_keys_read(sync.source.client) as counts:
        assert deliver(lambda_handler, stack.records()) == []
    assert sql in stack.files()["job-load"]
    return counts["taskref"]


def _five_task_job(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Stack, Any]:
    """Job "load" listing tasks 0-4 in fresh tables (not built yet), and the handler's sync."""
    sync_for.cache_clear()
    stack = Stack(endpoint, monkeypatch)
    stack.put("task", *(task(str(i)) for i in range(5)))
    stack.put("job", job("load", "0,1,2,3,4", name="load"))
    return stack, sync_for(Settings.from_env())


def test_a_task_change_reads_no_index_entries_its_jobs_row_state_vouches_for(
    moto_server: str, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
):
    # GIVEN job "load" listing five tasks, built by a rebuild
    stack, sync = _five_task_job(moto_endpoint, monkeypatch)
    assert run_rebuild(stack.settings, sync=sync).ok
    stack.records()
    # WHEN task 1's SQL changes, THEN none of the job's five index entries is read
    assert _task_change(stack, sync, "1", "SELECT 2;") == 0


def test_a_row_state_written_before_fingerprints_has_its_entries_read_once(
    moto_server: str, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
):
    # GIVEN job "load" listing five tasks, built, whose row state was written by a
    # version that kept no fingerprint of its index entries, one of which is lost
    stack, sync = _five_task_job(moto_endpoint, monkeypatch)
    assert deliver(lambda_handler, stack.records()) == []
    table = stack.settings.registry_table
    (state,) = stack.dynamodb.scan(
        TableName=table,
        FilterExpression="begins_with(pk, :p)",
        ExpressionAttributeValues={":p": {"S": "row#"}},
    )["Items"]
    assert "registered" in state
    del state["registered"]
    stack.dynamodb.put_item(TableName=table, Item=state)
    lost = {"pk": {"S": "taskref#3"}, "sk": {"S": state["pk"]["S"].removeprefix("row#")}}
    stack.dynamodb.delete_item(TableName=table, Key=lost)
    # WHEN task 1's SQL changes, THEN the job's entries are read as before, the lost
    # one is written again, and the row state gets its fingerprint
    assert _task_change(stack, sync, "1", "SELECT 2;") == 5
    assert stack.registry.dependents(["taskref#3"]) != set()
    # and a later change reads none of them
    assert _task_change(stack, sync, "2", "SELECT 3;") == 0
    assert _task_change(stack, sync, "3", "SELECT 4;") == 0


def test_a_job_changed_in_the_same_batch_as_its_task_has_its_entries_read(
    moto_server: str, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
):
    # GIVEN job "load" listing five tasks, built by a rebuild, one of whose index
    # entries is lost (deleted by hand)
    stack, sync = _five_task_job(moto_endpoint, monkeypatch)
    assert run_rebuild(stack.settings, sync=sync).ok
    stack.records()
    address = next(iter(stack.registry.dependents(["taskref#3"]))).address
    lost = {"pk": {"S": "taskref#3"}, "sk": {"S": address}}
    stack.dynamodb.delete_item(TableName=stack.settings.registry_table, Key=lost)
    # WHEN the job is saved (new parameters, same tasks and DAG id) and task 1 changes,
    # both in one `DagSync.apply` (the engine's own guarantee: Lambda delivers each
    # table's stream on its own)
    stack.put("job", job("load", "0,1,2,3,4", name="load", job_params='{"retries": 2}'))
    stack.put("task", task("1", task_params={"conn_id": "redshift_default", "sql": "SELECT 2;"}))
    changes = [change_from_record(r, sync.tables, row_of) for r in stack.records()]
    assert sorted(c.kind for c in changes) == ["job", "task"]
    with _taskref_keys_read(sync.source.client) as counts:
        report = sync.apply(changes)
    assert not (report.failed or report.dropped)
    # THEN the changed job's entries are read and the lost one is written again
    assert counts["taskref"] == 5
    assert stack.registry.dependents(["taskref#3"]) != set()
    assert "SELECT 2;" in stack.files()["job-load"]


def test_a_job_too_long_to_list_on_its_entries_does_not_rewrite_them_on_every_change(
    moto_server: str, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
):
    sync_for.cache_clear()
    stack = Stack(moto_endpoint, monkeypatch)
    # GIVEN a job of 50 tasks with 90-character ids (its task list, 4,500 bytes, is too
    # long to be copied onto each of its index entries), built by a rebuild
    ids = [f"{i:02d}-" + "t" * 87 for i in range(50)]
    stack.put("task", *(task(i) for i in ids))
    stack.put("job", job("load", ",".join(ids), name="load"))
    sync = sync_for(Settings.from_env())
    assert run_rebuild(stack.settings, sync=sync).ok
    stack.records()
    # WHEN one of its tasks changes twice
    for sql in ("SELECT 2;", "SELECT 3;"):
        stack.put("task", task(ids[7], task_params={"conn_id": "redshift_default", "sql": sql}))
        with count_requests(sync.source._client) as counts:
            assert deliver(lambda_handler, stack.records()) == []
        # THEN the file follows and the job's 50 entries are not written again
        assert sql in stack.files()["job-load"]
        assert counts["dynamodb.BatchWriteItem"] == 0, counts
