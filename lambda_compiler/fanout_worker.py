"""The fan-out worker: SQS work items in (batch size 1), DAG files out (`fanout.py`).

Each message is a work item (a batch of job/scheduler rows) or a run's watchdog.
A work item is built with the incremental engine (`fanout.process`); a transient AWS
error reports the message as a `batchItemFailure` (Powertools `BatchProcessor`), so
SQS delivers it again after its visibility timeout; on its last receive
(`ApproximateReceiveCount` ≥ `DYNADAG_MAX_RECEIVES`, the queue's ``maxReceiveCount``)
it is counted failed in its run and still reported, so SQS moves it to the dead-letter
queue, from where `dynadag redrive` replays it. The worker whose batch completes a
run started by the deploy hook answers CloudFormation.

A watchdog message answers FAILED if its run is not finished at its deadline, else
re-arms itself (SQS delays are at most 15 minutes).

`Worker` is also what `dynadag local`'s queue threads and `dynadag rebuild --workers N`
run, so there is one code path.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from lambda_compiler.fanout import (
    BatchResult,
    RetryBatchError,
    Runs,
    WorkItem,
    WorkItemError,
    WorkQueue,
    cap_s3_writes,
    process,
)
from lambda_compiler.settings import Settings
from lambda_compiler.sync import DagSync, build_sync
from lambda_compiler.warm_container import freeze_after_warm_up

logger = Logger(service="dynadag")


@dataclass
class Worker:
    """Builds work items and keeps watch over runs for one deployment."""

    sync: DagSync
    runs: Runs
    queue: WorkQueue | None
    max_receives: int
    clock: Any = time.time

    def handle(self, body: str, receive_count: int = 1) -> BatchResult | None:
        """One message: a work item (built) or a watchdog (checked)."""
        data = _json(body)
        if isinstance(data, dict) and "watchdog" in data:
            self.watch(str(data["watchdog"]), float(data.get("deadline", 0)))
            return None
        item = WorkItem.from_body(body)
        final = receive_count >= self.max_receives
        result = process(self.sync, self.runs, item, final=final, answer=_answer)
        logger.info(
            "batch built",
            extra={
                "run_id": item.run_id,
                "batch_no": item.batch_no,
                "dags": result.counts(),
                "failed": result.failed,
            },
        )
        return result

    def watch(self, run_id: str, deadline: float) -> None:
        """Answer FAILED for a run still pending at `deadline`; else check again later."""
        run = self.runs.get(run_id)
        if run is None or run.finished or run.answered:
            return
        now = self.clock()
        if now < deadline and self.queue is not None:
            self.queue.arm_watchdog(run_id, deadline, now)
            return
        if self.runs.claim_answer(run_id):
            logger.error("rebuild timed out", extra={"run_id": run_id, "pending": run.pending})
            _answer(run, timed_out=True)


def _answer(run: Any, *, timed_out: bool = False) -> None:
    from lambda_compiler.deploy_hook import answer_run

    answer_run(run, timed_out=timed_out)


def _json(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def build_worker(settings: Settings, session: Any | None = None) -> Worker:
    """A worker with boto3 clients for `settings` (S3 writes capped per process)."""
    import boto3

    session = session or boto3.Session()
    cap_s3_writes(session.events, settings.fanout.s3_writes_per_second)
    sync = build_sync(settings, logger, session)
    queue = None
    if settings.fanout.queue_url:
        queue = WorkQueue(session.client("sqs"), settings.fanout.queue_url)
    runs = Runs(sync.source.client, settings.registry_table)
    return Worker(sync, runs, queue, settings.fanout.max_receives)


@functools.lru_cache(maxsize=1)
def worker_for(settings: Settings) -> Worker:
    """The container's worker (clients built once)."""
    return build_worker(settings)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """SQS batch (size 1) of work items; the messages to deliver again."""
    response = handle_event(worker_for(Settings.from_env()), event, context)
    freeze_after_warm_up()
    return response


def handle_event(worker: Worker, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """An SQS event for `worker`: ``batchItemFailures`` names the messages to retry."""

    def build(record: SQSRecord) -> None:
        count = int(record.attributes.approximate_receive_count or 1)
        try:
            worker.handle(record.body, count)
        except WorkItemError as exc:
            logger.error("message dropped", extra={"reason": str(exc)})

    processor = BatchProcessor(EventType.SQS, raise_on_entire_batch_failure=False)
    return dict(process_partial_response(event, build, processor, context))


# --- `dynadag rebuild --workers N`: the same worker on processes of this machine ---------

_PROCESS_WORKER: list[Worker] = []


def _start_process() -> None:
    _PROCESS_WORKER.append(build_worker(Settings.from_env()))


def build_item_here(body: str, worker: Worker | None = None) -> BatchResult:
    """Build one work item as SQS would deliver it: up to `max_receives` times; the
    result of the last try (its `failed` DAGs empty when it was built)."""
    worker = worker or _PROCESS_WORKER[0]
    for receive in range(1, worker.max_receives + 1):
        try:
            result = worker.handle(body, receive)
            assert result is not None
            return result
        except RetryBatchError as exc:
            if receive == worker.max_receives:
                return exc.result
    raise AssertionError("unreachable")


def build_here(
    settings: Settings,
    bodies: list[str],
    processes: int,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> list[BatchResult]:
    """Build work items on `processes` worker processes (1: in this process).

    Each process builds its own clients from the environment (`DYNADAG_*`, `AWS_*`), as a
    Lambda container does; memory per process is bounded by its batch.
    """
    results: list[BatchResult] = []
    if processes <= 1:
        worker = build_worker(settings)
        for body in bodies:
            results.append(build_item_here(body, worker))
            progress(len(results), len(bodies))
        return results
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    context = multiprocessing.get_context("spawn")  # no fork of a process with threads
    with ProcessPoolExecutor(processes, mp_context=context, initializer=_start_process) as pool:
        futures = [pool.submit(build_item_here, body) for body in bodies]
        for future in as_completed(futures):
            results.append(future.result())
            progress(len(results), len(bodies))
    return results
