"""Which reads a fan-out batch plans, on a moto server: a batch of a full rebuild looks
up no job's schedulers (each scheduler is in a batch of its own) and writes what the
incremental planning writes; a stream change's offloaded rows still look them up."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from typer.testing import CliRunner

from lambda_compiler.cli import app
from lambda_compiler.fanout import Runs, WorkItem, build_batch, enumerate_work
from lambda_compiler.handler import lambda_handler, sync_for
from lambda_compiler.local.resources import read_resources
from lambda_compiler.rebuild import run_rebuild
from lambda_compiler.rows import RowRef
from lambda_compiler.settings import Settings
from lambda_compiler.sync import build_sync
from tests.integration.aws_fixtures import Stack, count_queries, deliver, fanout_queues
from tests.rowkit import job, scheduler, task

pytestmark = pytest.mark.moto
runner = CliRunner()
JOBS = 12
SCHEDULER = RowRef("mwaa_scheduler", (("schedule_id", "s"),))
VOLATILE = {"version_id", "updated_at", "written_at", "s3_key", "started_at"}
"""Registry attributes that differ between two builds of the same rows (time, S3 key)."""


@pytest.fixture
def stack(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Stack:
    sync_for.cache_clear()
    stack = Stack(moto_endpoint, monkeypatch)
    stack.put("task", task("1"), task("2"))
    stack.put_many("job", [job(f"{n}", "1") for n in range(JOBS)])
    # job "zz" takes job 0's DAG id: the two land in different batches
    stack.put("job", job("solo", "2"), job("zz", "2", name="job_0"))
    stack.put("scheduler", scheduler("s", "0,1,solo"), scheduler("t", "etl:zz,11"))
    return stack


def other_target(stack: Stack, name: str) -> Settings:
    """`stack`'s settings with a registry table and dags prefix of their own."""
    definition = read_resources().tables["RegistryTable"].create_table_kwargs()
    definition["TableName"] = f"registry-{name}"
    stack.dynamodb.create_table(**definition)
    return dataclasses.replace(
        stack.settings, registry_table=definition["TableName"], dags_prefix=f"{name}/"
    )


def registry_items(stack: Stack, table: str) -> set[str]:
    """Every registry item, without the attributes that differ between builds."""
    pages = stack.dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
    items = [item for page in pages for item in page["Items"]]
    return {
        json.dumps({k: v for k, v in item.items() if k not in VOLATILE}, sort_keys=True)
        for item in items
        if not item["pk"]["S"].startswith("run#")
    }


def files_under(stack: Stack, prefix: str) -> dict[str, bytes]:
    bucket = stack.settings.bucket
    pages = stack.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
    return {
        key[len(prefix) :]: stack.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        for key in keys
    }


def build_all(settings: Settings, items: list[WorkItem]) -> tuple[dict[str, int], set[str]]:
    """Build `items` one after another, as one worker; the Query calls by target and the
    DAG ids each batch reported."""
    sync = build_sync(settings)
    reported: set[str] = set()
    with count_queries(sync.source.client) as queries:
        for item in items:
            result = build_batch(sync, item)
            assert result.failed == []
            reported |= set(result.dags)
    return dict(queries), reported


def test_a_full_rebuild_looks_up_no_schedulers_and_writes_what_incremental_planning_writes(
    stack: Stack,
) -> None:
    # GIVEN a first deploy's rebuild, sharded into batches of 4 rows
    work = enumerate_work(build_sync(stack.settings))
    items = work.items("run", 4)
    assert {item.planning for item in items} == {"full_rebuild"}
    full, today = other_target(stack, "full"), other_target(stack, "today")

    # WHEN its batches are built as planned, and as they were before (incremental)
    queries, reported = build_all(full, items)
    incremental = [dataclasses.replace(item, planning="incremental") for item in items]
    queries_today, _ = build_all(today, incremental)

    # THEN the full rebuild looks up the schedulers only of the two jobs sharing a DAG id
    # (two reverse-index keys each), not of every job; the GSI still resolves the bare job
    # ids of the schedulers (0, 1, solo and 11: read, then verified)
    index = f"{stack.tables.job}/{stack.settings.job_id_index}"
    assert queries == {full.registry_table: 4, index: 8}
    assert queries_today[today.registry_table] >= 2 * (JOBS + 2)  # two keys per job
    # AND the files, registry items, index entries, claims and row states are the same
    assert files_under(stack, "full/") == files_under(stack, "today/")
    assert {f"{d}.py" for d in reported} >= set(files_under(stack, "full/"))
    assert registry_items(stack, full.registry_table) == registry_items(stack, today.registry_table)


def test_a_full_rebuild_on_worker_processes_builds_schedulers_and_finds_duplicates(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DYNADAG_BATCH_ROWS", "3")

    result = runner.invoke(app, ["rebuild", "--workers", "2", "--format", "json"])

    report = json.loads(result.stdout)
    assert result.exit_code == 1  # the duplicate DAG id is invalid, and so its schedulers
    assert set(report["invalid"]) == {"job-job_0", "schedule-sched_s", "schedule-sched_t"}
    problems = report["invalid"]["job-job_0"]
    assert {p["code"] for p in problems} == {"duplicate-dag-id"}
    for dag_id in ("schedule-sched_s", "schedule-sched_t"):
        assert {p["code"] for p in report["invalid"][dag_id]} == {"invalid-reference"}
    record = stack.registry.get_dag("job-job_0")
    assert record is not None and len(record.claims) == 2 and record.outcome == "invalid"
    # schedulers s and t as a full compile gives them; job-job_0 has a file when a batch
    # built job 0 before job zz's claim landed (an invalid DAG keeps its last file)
    files = stack.files()
    files.pop("job-job_0", None)
    assert files == stack.expected_files()


def test_the_rows_a_stream_change_offloads_still_rebuild_the_schedulers_of_their_jobs(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN every DAG built, and the fan-out bound below the jobs sharing task 1
    assert run_rebuild(stack.settings).ok
    stack.records()
    monkeypatch.setenv("DYNADAG_OFFLOAD_ABOVE", "5")
    monkeypatch.setenv("DYNADAG_BATCH_ROWS", "4")
    queues = fanout_queues(stack, monkeypatch)

    # WHEN task 1 becomes invalid: its 12 jobs are offloaded (scheduler s is not among them)
    stack.put("task", task("1", task_type="NOPE"))
    assert deliver(lambda_handler, stack.records()) == []
    worker = queues.worker()
    with count_queries(worker.sync.source.client) as queries:
        queues.drain(worker)

    # THEN the workers looked up the jobs' schedulers, and s knows its jobs are invalid
    assert queries[stack.settings.registry_table] > 0
    state = stack.registry.row_states([SCHEDULER])[SCHEDULER]
    assert state.valid is False
    record: Any = stack.registry.get_dag("schedule-sched_s")
    assert record.outcome.value == "invalid"


def test_a_full_rebuild_run_counts_a_scheduler_once_when_its_job_changed(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN every DAG built (no duplicate DAG id), then task 2 made invalid behind dynadag's
    # back: job solo, and scheduler s listing it, become invalid
    stack.delete("job", job_type="etl", job_id="zz")
    stack.delete("scheduler", schedule_id="t")
    run_rebuild(stack.settings)
    stack.put("task", task("2", task_type="NOPE"))

    # WHEN a rebuild puts the 13 jobs in one batch and scheduler s in the next
    monkeypatch.setenv("DYNADAG_BATCH_ROWS", "13")
    result = runner.invoke(app, ["rebuild", "--workers", "1", "--format", "json"])

    # THEN s is built by its own batch only, so the run counts each of the 14 DAGs once
    # (planned incrementally, the jobs' batch would also look s up, build and count it)
    assert set(json.loads(result.stdout)["invalid"]) == {"job-job_solo", "schedule-sched_s"}
    run = Runs(stack.dynamodb, stack.settings.registry_table).latest()
    assert run is not None and run.total == 2
    assert run.counts == {"unchanged": JOBS, "invalid": 2}
