"""A stand-in for Lambda's DynamoDB event source mapping: poll streams, invoke the handler.

Records are read with the DynamoDB Streams API (`GetShardIterator`, `GetRecords`) and
passed to the handler as Lambda would: ``{"Records": [...]}`` with `eventSourceARN`,
`awsRegion` and the `dynamodb` part (`Keys`, `NewImage`, `OldImage`, `SequenceNumber`,
...) as DynamoDB-typed JSON. The handler is never called with an empty batch. With
`ReportBatchItemFailures`, Lambda retries a batch from the first failed record on;
this worker does the same, a bounded number of times, and then moves on (as Lambda
does once `MaximumRetryAttempts` is spent).
"""

from __future__ import annotations

import datetime
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

Event = dict[str, Any]
Handler = Callable[[Event, Any], Any]


@dataclass(frozen=True)
class LambdaContext:
    """The attributes of a Lambda context object that Powertools reads."""

    function_name: str = "dynadag-local"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:dynadag-local"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


@dataclass(frozen=True)
class Invocation:
    """One handler call: the table, the records sent, and the sequence numbers that failed."""

    table: str
    records: tuple[Event, ...]
    failed: tuple[str, ...]
    attempt: int
    gave_up: bool = False
    error: str | None = None
    seconds: float = 0.0
    response: Any = None
    """What the handler returned (None when it raised)."""


@dataclass
class _Shard:
    table: str
    stream_arn: str
    iterator: str | None


def lambda_record(record: Event, stream_arn: str, region: str) -> Event:
    """A `GetRecords` record in the shape Lambda delivers it to the function."""
    dynamodb = dict(record["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime.datetime):
        dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }


def failed_sequence_numbers(response: Any) -> tuple[str, ...]:
    """The `itemIdentifier`s of a partial batch response (none for any other result)."""
    if not isinstance(response, dict):
        return ()
    failures = response.get("batchItemFailures") or []
    return tuple(str(f["itemIdentifier"]) for f in failures if f.get("itemIdentifier"))


class StreamWorker:
    """Polls the streams of some tables and feeds their records to `handler`."""

    def __init__(
        self,
        dynamodb: Any,
        streams: Any,
        tables: Sequence[str],
        handler: Handler,
        *,
        region: str = "us-east-1",
        batch_size: int = 100,
        max_retries: int = 3,
        retry_delay: float = 0.2,
        on_invocation: Callable[[Invocation], None] = lambda invocation: None,
    ) -> None:
        self._streams = streams
        self._handler = handler
        self._region = region
        self._batch_size = batch_size
        self._max_retries = max_retries
        self._retry_delay = retry_delay
        self._on_invocation = on_invocation
        self._shards = [
            _Shard(name, dynamodb.describe_table(TableName=name)["Table"]["LatestStreamArn"], None)
            for name in tables
        ]

    def run(self, stop: threading.Event, poll_interval: float = 0.05) -> None:
        """Poll until `stop` is set; sleeps only when no stream had records."""
        while not stop.is_set():
            if not self.poll_once(stop):
                stop.wait(poll_interval)

    def poll_once(self, stop: threading.Event | None = None) -> int:
        """Read each stream once and deliver what it holds; returns the number of records."""
        delivered = 0
        for shard in self._shards:
            if stop is not None and stop.is_set():
                break
            if shard.iterator is None:
                shard.iterator = self._first_iterator(shard.stream_arn)
            page = self._streams.get_records(ShardIterator=shard.iterator, Limit=self._batch_size)
            shard.iterator = page.get("NextShardIterator")
            records = [lambda_record(r, shard.stream_arn, self._region) for r in page["Records"]]
            if records:
                self._deliver(shard.table, records, stop)
                delivered += len(records)
        return delivered

    def _first_iterator(self, stream_arn: str) -> str:
        shard_id = self._streams.describe_stream(StreamArn=stream_arn)["StreamDescription"][
            "Shards"
        ][0]["ShardId"]
        iterator: str = self._streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        return iterator

    def _deliver(self, table: str, records: list[Event], stop: threading.Event | None) -> None:
        attempt = 0
        while records:
            attempt += 1
            error = response = None
            started = time.perf_counter()
            try:
                response = self._handler({"Records": records}, LambdaContext())
                failed = failed_sequence_numbers(response)
            except Exception as exc:  # a crashed invocation fails the whole batch, as in Lambda
                error = f"{type(exc).__name__}: {exc}"
                failed = tuple(r["dynamodb"]["SequenceNumber"] for r in records)
            gave_up = bool(failed) and attempt > self._max_retries
            seconds = time.perf_counter() - started
            self._on_invocation(
                Invocation(
                    table, tuple(records), failed, attempt, gave_up, error, seconds, response
                )
            )
            if not failed or gave_up:
                return
            sequence = [r["dynamodb"]["SequenceNumber"] for r in records]
            indexes = [sequence.index(s) for s in failed if s in sequence]
            records = records[min(indexes, default=0) :]
            if (stop or threading.Event()).wait(self._retry_delay * attempt):
                return
