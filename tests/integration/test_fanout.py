"""The fan-out on a moto server: large stream changes handed to queue workers, retries,
dead letters replayed by DAG id, and `dynadag rebuild --workers N`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError
from typer.testing import CliRunner

from lambda_compiler.cli import app
from lambda_compiler.fanout import Runs, WorkItem, build_batch, enumerate_work
from lambda_compiler.handler import lambda_handler, sync_for
from lambda_compiler.model import DagId
from lambda_compiler.rebuild import run_rebuild
from lambda_compiler.rows import RowRef
from lambda_compiler.sync import build_sync
from tests.integration.aws_fixtures import (
    FanoutQueues,
    Stack,
    count_requests,
    deliver,
    failing,
    fanout_queues,
)
from tests.rowkit import job, scheduler, task

pytestmark = pytest.mark.moto
runner = CliRunner()
SHARED_BY = 30


@pytest.fixture
def stack(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Stack:
    sync_for.cache_clear()
    stack = Stack(moto_endpoint, monkeypatch)
    stack.put("task", task("1"), task("2"))
    stack.put_many("job", [job(f"{n}", "1") for n in range(SHARED_BY)])
    stack.put("job", job("solo", "2"))
    stack.put("scheduler", scheduler("s", "0,1,solo"))
    return stack


@pytest.fixture
def queues(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> FanoutQueues:
    monkeypatch.setenv("DYNADAG_OFFLOAD_ABOVE", "10")
    monkeypatch.setenv("DYNADAG_BATCH_ROWS", "8")
    return fanout_queues(stack, monkeypatch)


def runs(stack: Stack) -> Runs:
    return Runs(stack.dynamodb, stack.settings.registry_table)


def test_a_change_above_the_bound_is_offloaded_while_an_unrelated_change_lands(
    stack: Stack, queues: FanoutQueues
) -> None:
    # GIVEN every DAG built, and a task shared by 30 jobs (the bound is 10)
    assert run_rebuild(stack.settings).ok
    stack.records()

    # WHEN the shared task changes
    stack.put("task", task("1", name="shared_renamed"))
    assert deliver(lambda_handler, stack.records()) == []

    # THEN the record completed at once: its rows were queued, not built
    files = stack.files()
    assert not any("shared_renamed" in files[f"job-job_{n}"] for n in range(SHARED_BY))
    run = runs(stack).latest()
    assert run is not None and run.origin == "stream" and run.total == 4  # 30 rows / 8
    assert run.pending == 4

    # AND an unrelated one-row change right after it is built by the stream handler itself
    stack.put("task", task("2", name="solo_renamed"))
    assert deliver(lambda_handler, stack.records()) == []
    assert "solo_renamed" in stack.files()["job-job_solo"]

    # WHEN the workers drain the queue, every DAG matches the tables, schedulers included
    queues.drain()
    assert stack.files() == stack.expected_files()
    done = runs(stack).get(run.run_id)
    assert done is not None and (done.done, done.failed, done.pending) == (4, 0, 0)


def test_a_worker_dying_mid_batch_is_retried_and_the_run_counts_it_once(
    stack: Stack, queues: FanoutQueues
) -> None:
    assert run_rebuild(stack.settings).ok
    stack.records()
    stack.put("task", task("1", name="after_timeout"))
    deliver(lambda_handler, stack.records())
    run = runs(stack).latest()
    assert run is not None

    # GIVEN the first worker times out after publishing its batch, before counting it
    timeouts = iter([True])

    def counting_the_run(request: Any) -> bool:
        return b"run#" in (request.body or b"") and next(timeouts, False)

    def time_out(request: Any, **_: Any) -> None:
        if counting_the_run(request):
            raise ReadTimeoutError(endpoint_url=request.url)

    queues.session.events.register("before-send.dynamodb.UpdateItem", time_out)
    queues.drain(queues.worker())

    # THEN SQS delivered that batch again; the run ends with each batch counted once
    done = runs(stack).get(run.run_id)
    assert done is not None and (done.done, done.failed) == (run.total, 0)
    assert stack.files() == stack.expected_files()


def test_a_dead_lettered_batch_is_replayed_by_dag_id(stack: Stack, queues: FanoutQueues) -> None:
    assert run_rebuild(stack.settings).ok
    stack.records()
    stack.put("task", task("1", name="replayed"))
    deliver(lambda_handler, stack.records())

    # GIVEN S3 refuses job 3's file on every receive: its batch ends in the dead-letter queue
    broken = lambda request: "job-job_3.py" in request.url  # noqa: E731
    with failing(queues.session, "before-send.s3.PutObject", broken, code="AccessDenied"):
        queues.drain(queues.worker())
    queues.drain()  # the next receive moves it, as SQS does
    run = runs(stack).latest()
    assert run is not None and run.failed == 1 and "job-job_3" in run.failed_dags
    [dead] = queues.dead_letters()
    assert "job-job_3" in dead["dag_ids"]

    # WHEN `dynadag redrive` moves it back (the cause fixed) and the workers run
    moved = runner.invoke(app, ["redrive", "--format", "json"])
    assert moved.exit_code == 0, moved.output
    [entry] = json.loads(moved.stdout)
    assert "job-job_3" in entry["dag_ids"] and entry["failed"] == []
    queues.drain()

    # THEN the DAG is built, the dead-letter queue is empty, and the replay is its own run
    assert "replayed" in stack.files()["job-job_3"]
    assert stack.files() == stack.expected_files()
    assert queues.dead_letters() == []
    replay = runs(stack).get(entry["replayed_as"])
    assert replay is not None and (replay.origin, replay.done, replay.failed) == ("redrive", 1, 0)
    shown = runner.invoke(app, ["status"])
    assert f"redrive run {replay.run_id}" in shown.stderr and "1 done, 0 failed" in shown.stderr


def test_redrive_here_builds_the_batch_in_this_process(stack: Stack, queues: FanoutQueues) -> None:
    assert run_rebuild(stack.settings).ok
    stack.records()
    stack.put("task", task("1", name="built_here"))
    deliver(lambda_handler, stack.records())
    broken = lambda request: "job-job_5.py" in request.url  # noqa: E731
    with failing(queues.session, "before-send.s3.PutObject", broken, code="AccessDenied"):
        queues.drain(queues.worker())
    queues.drain()

    here = runner.invoke(app, ["redrive", "--here"])

    assert here.exit_code == 0, here.output
    assert "rebuilt: batch" in here.stdout and "job-job_5" in here.stdout
    assert "built_here" in stack.files()["job-job_5"]
    assert queues.dead_letters() == []


def test_rebuild_dag_rebuilds_only_the_named_dags(stack: Stack) -> None:
    assert run_rebuild(stack.settings).ok
    # rows changed behind dynadag's back (no stream record delivered)
    stack.put("task", task("1", name="named_only"))

    rebuilt = runner.invoke(app, ["rebuild", "--dag", "job-job_4", "--format", "json"])

    assert rebuilt.exit_code == 0, rebuilt.output
    assert json.loads(rebuilt.stdout)["written"] == ["job-job_4"]
    files = stack.files()
    assert "named_only" in files["job-job_4"] and "named_only" not in files["job-job_5"]


def test_rebuild_of_an_unknown_dag_names_it(stack: Stack) -> None:
    result = runner.invoke(app, ["rebuild", "--dag", "job-nope"])

    assert result.exit_code == 1
    assert "DAG 'job-nope' is not in registry table" in result.stderr


@pytest.mark.parametrize("workers", [1, 2])
def test_rebuild_with_worker_processes_writes_what_a_full_compile_gives(
    stack: Stack, workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DYNADAG_BATCH_ROWS", "5")

    result = runner.invoke(app, ["rebuild", "--workers", str(workers), "--format", "json"])

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert len(report["written"]) == SHARED_BY + 2
    assert stack.files() == stack.expected_files()
    run = runs(stack).latest()
    assert run is not None and (run.total, run.done, run.failed) == (7, 7, 0)  # 32 rows / 5


def unclaim(stack: Stack, numbers: range) -> list[str]:
    """Delete jobs `numbers` and release their DAGs' claims, no stream record delivered:
    DAG ids no row claims any more (a rebuild's `gone`)."""
    for n in numbers:
        stack.delete("job", job_type="etl", job_id=str(n))
        ref = RowRef("mwaa_job", (("job_type", "etl"), ("job_id", str(n))))
        stack.registry.release(DagId(f"job-job_{n}"), ref)
    return [f"job-job_{n}" for n in numbers]


def test_a_batch_of_gone_dags_reads_their_records_together_and_deletes_their_files(
    stack: Stack,
) -> None:
    # GIVEN every DAG built, then 12 job rows deleted and their DAGs' claims released
    # behind dynadag's back: DAG items no row claims
    assert run_rebuild(stack.settings).ok
    strays = unclaim(stack, range(10, 22))
    sync = build_sync(stack.settings)
    work = enumerate_work(sync)
    assert work.gone == sorted(strays)

    # WHEN a worker builds the batch of gone DAG ids
    with count_requests(sync.source.client) as counts:
        result = build_batch(sync, WorkItem("run", 0, gone=tuple(work.gone)))

    # THEN their files are deleted, reading their registry items in one request, not 12
    assert result.failed == []
    assert {d: r.outcome.value for d, r in result.dags.items()} == dict.fromkeys(strays, "deleted")
    assert stack.files() == stack.expected_files()
    assert counts["dynamodb.GetItem"] == 0 and counts["dynamodb.BatchGetItem"] == 1


def test_a_rebuild_weighs_each_scheduler_by_the_jobs_it_lists(stack: Stack) -> None:
    # GIVEN a scheduler listing three jobs, and one whose job_list is not a list of ids
    stack.put("scheduler", scheduler("odd", "0", job_list={"not": "ids"}))

    work = enumerate_work(build_sync(stack.settings))

    listed = RowRef("mwaa_scheduler", (("schedule_id", "s"),))
    odd = RowRef("mwaa_scheduler", (("schedule_id", "odd"),))
    assert work.weights == {listed: 4, odd: 1}  # the odd one's worker reports its job_list
    # THEN in batches of 3 the scheduler that reads three jobs has a batch of its own
    batches = [list(i.owners) for i in work.items("run", 3)]
    assert [listed] in batches
    assert sorted(r for b in batches for r in b) == sorted(work.owners)


def test_a_batch_of_gone_dags_whose_registry_read_fails_is_retried_naming_them(
    stack: Stack,
) -> None:
    assert run_rebuild(stack.settings).ok
    strays = unclaim(stack, range(10, 13))
    sync = build_sync(stack.settings)
    item = WorkItem("run", 0, gone=tuple(DagId(d) for d in strays))

    with failing(sync.source.client, "before-send.dynamodb.BatchGetItem", lambda _: True):
        result = build_batch(sync, item)

    assert result.failed == strays
    assert set(strays) <= stack.files().keys()  # nothing deleted; the retry will
    assert build_batch(sync, item).failed == []
    assert not set(strays) & stack.files().keys()
