"""The Lambda entry point: DynamoDB stream records → only the affected DAG files in S3.

`lambda_handler` receives a batch of `NEW_AND_OLD_IMAGES` records from one of the
three source tables. The whole batch is planned and built at once (each DAG once per
batch, see `sync.py`); Powertools' `BatchProcessor` then reports the records whose
DAGs could not be built because of a transient AWS error (throttling, 5xx, timeouts,
lost connections) as `batchItemFailures`, so Lambda retries only those; the response
also holds the batch's report (`REPORT`), which the local stack prints.
Row content never fails a record. Invalid rows are recorded in the registry, logged,
counted (`DagsInvalid`) and alerted. Any other failure of one DAG (an unexpected
exception while compiling it, or e.g. `AccessDenied` after an IAM mistake) is that
DAG's `error` outcome: recorded, logged with its traceback, counted (`DagsFailed`;
`DagsCrashed` for non-AWS exceptions) and alerted once, while the batch's other DAGs
are built. A record that cannot even be planned for such a reason is logged and
counted (`RecordsDropped`); `dynadag rebuild` settles it once the cause is fixed. A
record from a table dynadag does not read is logged and skipped.

Configuration comes from the environment (`lambda_compiler.settings`); the boto3
clients are built once per container and injected. Logs are structured JSON
(Logger), metrics are EMF in the `dynadag` namespace (Metrics), and tracing is on in
Lambda (set `POWERTOOLS_TRACE_DISABLED=true` to turn it off locally).
"""

from __future__ import annotations

import functools
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambda_compiler.dynamodb_json import row_of
from lambda_compiler.fanout import fanout_for
from lambda_compiler.outcome import Outcome
from lambda_compiler.plan import Change, UnknownTableError, change_from_record
from lambda_compiler.settings import Settings
from lambda_compiler.sync import DagSync, SyncReport, build_sync
from lambda_compiler.warm_container import freeze_after_warm_up

logger = Logger(service="dynadag")
metrics = Metrics(namespace="dynadag", service="dynadag")
tracer = Tracer(service="dynadag")

_METRICS = {
    "DagsWritten": Outcome.WRITTEN,
    "DagsUnchanged": Outcome.UNCHANGED,
    "DagsDeleted": Outcome.DELETED,
    "DagsInvalid": Outcome.INVALID,
    "DagsFailed": Outcome.ERROR,
}


REPORT = "dynadag"
"""The key of the response holding the batch's `SyncReport.summary()` (Lambda reads only
`batchItemFailures`; the local stack prints this)."""


class RecordNotProcessedError(RuntimeError):
    """A record whose DAGs could not be built this time; Lambda retries it."""


@functools.lru_cache(maxsize=1)
def sync_for(settings: Settings) -> DagSync:
    """The container's `DagSync` (boto3 clients built once, on the first invocation); a
    batch affecting more than `DYNADAG_OFFLOAD_ABOVE` rows goes to the work queue."""
    sync = build_sync(settings, logger)
    fanout = fanout_for(settings)
    if fanout is not None:
        sync.offload = fanout.offloader(sync.registry)
        sync.offload_above = settings.fanout.offload_above
    return sync


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Build the DAGs a batch of stream records affects; report records to retry.

    Returns the partial batch response (`batchItemFailures`) plus, under `REPORT`, what
    happened to each DAG and which records (by index) led to it.
    """
    sync = sync_for(Settings.from_env())
    records = event.get("Records", [])
    changes = [_change(record, sync) for record in records]
    report = sync.apply(changes)
    _emit_metrics(report)
    failed = {records[index].get("eventID") for index in report.failed}

    def check(record: DynamoDBRecord) -> None:
        if record.event_id in failed:
            raise RecordNotProcessedError(f"record {record.event_id} will be retried")

    processor = BatchProcessor(EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
    response = process_partial_response(event, check, processor, context)
    freeze_after_warm_up()
    return {**response, REPORT: report.summary()}


def _change(record: dict[str, Any], sync: DagSync) -> Change | None:
    try:
        return change_from_record(record, sync.tables, row_of)
    except UnknownTableError as exc:
        logger.error("record skipped", extra={"reason": str(exc)})
        return None


def _emit_metrics(report: SyncReport) -> None:
    for name, outcome in _METRICS.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=report.count(outcome))
    for seconds in report.compile_seconds:
        metrics.add_metric(
            name="CompileLatency", unit=MetricUnit.Milliseconds, value=seconds * 1000
        )
    metrics.add_metric(name="DagsCrashed", unit=MetricUnit.Count, value=report.crashes)
    metrics.add_metric(name="RecordsFailed", unit=MetricUnit.Count, value=len(report.failed))
    metrics.add_metric(name="RecordsDropped", unit=MetricUnit.Count, value=len(report.dropped))
