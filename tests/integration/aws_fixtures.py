"""Shared helpers for the stream integration tests: the stack, stream reading, clients.

Tables and the versioned bucket come from `template.yaml` through the local stack's
reader (`lambda_compiler.local.resources`), so there is one definition of them.
Records are read back with the DynamoDB Streams API and shaped as Lambda delivers
them (`lambda_compiler.local.streams.lambda_record`).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer
from botocore.awsrequest import AWSResponse
from botocore.config import Config

from lambda_compiler import render as render_module
from lambda_compiler.compiler import CompileResult, compile_dags
from lambda_compiler.fanout_worker import Worker, build_worker, handle_event
from lambda_compiler.local.provision import provision
from lambda_compiler.local.queues import Queues, QueueWorker, create_queues
from lambda_compiler.local.resources import read_resources
from lambda_compiler.local.streams import LambdaContext, lambda_record
from lambda_compiler.registry import Registry
from lambda_compiler.settings import Settings
from lambda_compiler.snapshot import TableNames
from lambda_compiler.source import RowSource

BUCKET = "dags-bucket"
CLIENT_CONFIG = Config(retries={"max_attempts": 0})
_serialize = TypeSerializer().serialize


def client(service: str, endpoint: str) -> Any:
    """A client for the moto server with retries off, so injected faults surface."""
    return boto3.client(service, endpoint_url=endpoint, config=CLIENT_CONFIG)


def create_stack(endpoint: str) -> Settings:
    """Create the template's tables and the versioned bucket; the matching settings."""
    resources = read_resources()
    provision(resources, client("dynamodb", endpoint), client("s3", endpoint), BUCKET)
    names = {logical: table.name for logical, table in resources.tables.items()}
    return Settings(
        bucket=BUCKET,
        tables=TableNames(
            task=names["TaskTable"], job=names["JobTable"], scheduler=names["SchedulerTable"]
        ),
        registry_table=names["RegistryTable"],
        run_history_table=names["RunHistoryTable"],
    )


class StreamReader:
    """Reads the new records of some tables' streams, in the shape Lambda delivers them."""

    def __init__(self, endpoint: str, tables: list[str]) -> None:
        dynamodb = client("dynamodb", endpoint)
        self.streams = client("dynamodbstreams", endpoint)
        self.arns = [
            dynamodb.describe_table(TableName=t)["Table"]["LatestStreamArn"] for t in tables
        ]
        self._iterators: dict[str, str] = {}

    def read(self) -> list[dict[str, Any]]:
        """Every record written since the previous call, table by table."""
        records = []
        for arn in self.arns:
            iterator = self._iterators.get(arn) or self._first_iterator(arn)
            while True:
                page = self.streams.get_records(ShardIterator=iterator, Limit=1000)
                records.extend(lambda_record(r, arn, "us-east-1") for r in page["Records"])
                iterator = page.get("NextShardIterator") or iterator
                if not page["Records"]:
                    break
            self._iterators[arn] = iterator
        return records

    def _first_iterator(self, arn: str) -> str:
        shard = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
        return self.streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]


def invoke(handler: Callable[[dict, Any], Any], records: list[dict[str, Any]]) -> list[str]:
    """Call the Lambda handler with one stream's `records`; the failed sequence numbers."""
    assert len({r["eventSourceARN"] for r in records}) == 1, "Lambda batches one stream"
    response = handler({"Records": records}, LambdaContext())
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def deliver(handler: Callable[[dict, Any], Any], records: list[dict[str, Any]]) -> list[str]:
    """Deliver records stream by stream (as Lambda's event source mappings do)."""
    failed: list[str] = []
    for arn in dict.fromkeys(r["eventSourceARN"] for r in records):
        failed += invoke(handler, [r for r in records if r["eventSourceARN"] == arn])
    return failed


@contextmanager
def _hooked(clients: tuple[Any, ...], event: str, hook: Callable[..., None]) -> Iterator[None]:
    """`hook` registered on `event` of every client while the block runs."""
    for each in clients:
        each.meta.events.register(event, hook)
    try:
        yield
    finally:
        for each in clients:
            each.meta.events.unregister(event, hook)


@contextmanager
def count_requests(*clients: Any) -> Iterator[Counter[str]]:
    """Count API calls (``"s3.PutObject"``, ``"dynamodb.BatchGetItem"``) made by `clients`."""
    counts: Counter[str] = Counter()

    def count(event_name: str, **_: Any) -> None:
        _, service, operation = event_name.split(".")[:3]
        counts[f"{service}.{operation}"] += 1

    with _hooked(clients, "before-send", count):
        yield counts


@contextmanager
def count_queries(*clients: Any) -> Iterator[Counter[str]]:
    """Count DynamoDB Query calls by what they query: ``"{table}"`` (a reverse-index
    lookup on the registry) or ``"{table}/{index}"`` (a GSI)."""
    counts: Counter[str] = Counter()

    def count(params: dict[str, Any], **_: Any) -> None:
        index = params.get("IndexName")
        counts[f"{params['TableName']}/{index}" if index else params["TableName"]] += 1

    with _hooked(clients, "before-parameter-build.dynamodb.Query", count):
        yield counts


@dataclass(frozen=True)
class Request:
    """One API call as `timed_requests` saw it: its name, when it was sent/answered and
    the CPU time its thread spent on it in between (`time.thread_time`)."""

    name: str
    sent: float
    answered: float
    cpu: float = 0.0


def round_trips(requests: list[Request]) -> list[list[str]]:
    """The calls grouped by sequential round trip: a call is in trip n+1 when one of the
    calls it waited for (answered before it was sent) is in trip n."""
    level: dict[int, int] = {}
    ordered = sorted(requests, key=lambda r: r.sent)
    for i, request in enumerate(ordered):
        before = [level[j] for j in range(i) if ordered[j].answered <= request.sent]
        level[i] = 1 + max(before, default=0)
    trips: list[list[str]] = [[] for _ in range(max(level.values(), default=0))]
    for i, request in enumerate(ordered):
        trips[level[i] - 1].append(request.name)
    return [sorted(trip) for trip in trips]


@contextmanager
def timed_requests(*clients: Any) -> Iterator[list[Request]]:
    """Every API call `clients` make, with the time the code made it (``before-parameter-
    build``) and got its answer (``after-call``); calls on one thread are sequential, so
    each thread's last call is the one answered."""
    requests: list[Request] = []
    local = threading.local()

    def sent(event_name: str, **_: Any) -> None:
        local.sent, local.cpu = time.perf_counter(), time.thread_time()

    def answered(event_name: str, **_: Any) -> None:
        _, service, operation = event_name.split(".")[:3]
        cpu = time.thread_time() - local.cpu
        requests.append(Request(f"{service}.{operation}", local.sent, time.perf_counter(), cpu))

    for each in clients:
        each.meta.events.register("before-parameter-build", sent)
        each.meta.events.register("after-call", answered)
    try:
        yield requests
    finally:
        for each in clients:
            each.meta.events.unregister("before-parameter-build", sent)
            each.meta.events.unregister("after-call", answered)


class Stack:
    """The tables, bucket and streams of one test, with helpers to write rows and look."""

    def __init__(self, endpoint: str, monkeypatch: Any) -> None:
        self.settings = create_stack(endpoint)
        for name, value in {
            "DYNADAG_BUCKET": self.settings.bucket,
            "DYNADAG_REGISTRY_TABLE": self.settings.registry_table,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_NAMESPACE": "dynadag",
            "AWS_MAX_ATTEMPTS": "1",
        }.items():
            monkeypatch.setenv(name, value)
        self.endpoint = endpoint
        self.tables = self.settings.tables
        self.dynamodb = client("dynamodb", endpoint)
        self.s3 = client("s3", endpoint)
        self.stream = StreamReader(
            endpoint, [self.tables.task, self.tables.job, self.tables.scheduler]
        )
        self.registry = Registry(self.dynamodb, self.settings.registry_table)

    def table(self, kind: str) -> str:
        return getattr(self.tables, kind)

    def put(self, kind: str, *rows: dict[str, Any]) -> None:
        for row in rows:
            item = {name: _serialize(value) for name, value in row.items()}
            self.dynamodb.put_item(TableName=self.table(kind), Item=item)

    def put_many(self, kind: str, rows: list[dict[str, Any]]) -> None:
        """Write many rows with `BatchWriteItem` (25 per call)."""
        for start in range(0, len(rows), 25):
            requests = [
                {"PutRequest": {"Item": {k: _serialize(v) for k, v in row.items()}}}
                for row in rows[start : start + 25]
            ]
            pending = {self.table(kind): requests}
            while pending:
                pending = self.dynamodb.batch_write_item(RequestItems=pending)["UnprocessedItems"]

    def delete(self, kind: str, **key: str) -> None:
        self.dynamodb.delete_item(
            TableName=self.table(kind), Key={k: {"S": v} for k, v in key.items()}
        )

    def records(self) -> list[dict[str, Any]]:
        """The stream records written since the last call (all three tables)."""
        return self.stream.read()

    def files(self) -> dict[str, str]:
        """The current DAG files: ``{dag_id: source}``."""
        prefix = self.settings.dags_prefix
        found = {}
        for page in self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.settings.bucket, Prefix=prefix
        ):
            for item in page.get("Contents", []):
                name = item["Key"][len(prefix) :]
                if name.endswith(".py") and "/" not in name:
                    body = self.s3.get_object(Bucket=self.settings.bucket, Key=item["Key"])
                    found[name[: -len(".py")]] = body["Body"].read().decode()
        return found

    def versions(self, dag_id: str) -> list[str]:
        """The versions of a DAG file, current first: a version id, or "delete-marker"."""
        key = f"{self.settings.dags_prefix}{dag_id}.py"
        response = self.s3.list_object_versions(Bucket=self.settings.bucket, Prefix=key)
        entries = [
            (v["IsLatest"], v["LastModified"], v["VersionId"])
            for v in response.get("Versions", [])
            if v["Key"] == key
        ] + [
            (m["IsLatest"], m["LastModified"], "delete-marker")
            for m in response.get("DeleteMarkers", [])
            if m["Key"] == key
        ]
        return [version for *_, version in sorted(entries, reverse=True)]

    def compile_tables(self) -> CompileResult:
        """`compile_dags` of the full current tables (the state every path must reach)."""
        return compile_dags(RowSource(self.dynamodb, self.tables, None).scan_all())

    def expected_files(self) -> dict[str, str]:
        return {d: r.source for d, r in self.compile_tables().dags.items() if r.source}


def alert_queue(stack: Stack, monkeypatch: Any) -> str:
    """An SQS queue subscribed to a new alert topic, which the handler is told to use."""
    sns, sqs = client("sns", stack.endpoint), client("sqs", stack.endpoint)
    topic = sns.create_topic(Name="dynadag-alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="alerts")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    monkeypatch.setenv("DYNADAG_ALERT_TOPIC_ARN", topic)
    return queue


def received(stack: Stack, queue: str) -> list[dict]:
    """The SNS notifications the alert queue holds now (each removed once read)."""
    sqs = client("sqs", stack.endpoint)
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    return [json.loads(m["Body"]) for m in messages]


class _RawBody:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


@contextmanager
def failing(
    each: Any,
    event: str,
    should_fail: Callable[[Any], bool],
    code: str = "SlowDown",
    status: int = 503,
) -> Iterator[list[str]]:
    """Answer some calls of `event` (e.g. ``before-send.s3.PutObject``) with `status` `code`.

    `each` is a client, or a `boto3.Session` (every client it makes).

    `should_fail(request)` picks the calls; the URLs of the failed calls are yielded.
    """
    failed: list[str] = []
    body = f"<Error><Code>{code}</Code><Message>injected</Message></Error>".encode()
    events = each.events if isinstance(each, boto3.Session) else each.meta.events

    def respond(request: Any, **_: Any) -> AWSResponse | None:
        if not should_fail(request):
            return None
        failed.append(request.url)
        return AWSResponse(request.url, status, {}, _RawBody(body))

    events.register(event, respond)
    try:
        yield failed
    finally:
        events.unregister(event, respond)


def crash_rendering(monkeypatch: pytest.MonkeyPatch, crashing: set[str]) -> None:
    """Make rendering raise for the DAG ids in `crashing` (a fault hook, in this process)."""
    render = render_module.render_dag

    def faulty(template: str, context: dict[str, Any], *args: Any) -> str:
        dag_id = context["dag"]["dag_id"]
        if dag_id in crashing:
            raise RuntimeError(f"injected crash while rendering {dag_id}")
        return render(template, context, *args)

    monkeypatch.setattr(render_module, "render_dag", faulty)


@dataclass
class FanoutQueues:
    """The fan-out's work queue and dead-letter queue of a test, and a worker to drain them."""

    stack: Stack
    queues: Queues
    session: boto3.Session
    sqs: Any

    def worker(self) -> Worker:
        """A fan-out worker with its own clients (a Lambda container), on `session`."""
        return build_worker(Settings.from_env(), self.session)

    def drain(self, worker: Worker | None = None, limit: int = 200) -> int:
        """Deliver work messages to a worker until none is visible; how many were handled.

        Failed messages come back after 1 s (the local stand-in's visibility timeout);
        delayed ones (a watchdog) are left.
        """
        worker = worker or self.worker()
        poller = QueueWorker(
            self.sqs, self.queues.work_url, lambda event, ctx: handle_event(worker, event, ctx)
        )
        handled = 0
        while handled < limit:
            if poller.poll_once():
                handled += 1
            elif not self.depth(delayed=False):
                return handled
            else:
                time.sleep(0.2)
        return handled

    def depth(self, *, delayed: bool = True) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queues.work_url, AttributeNames=["All"]
        )["Attributes"]
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        names += ["ApproximateNumberOfMessagesDelayed"] if delayed else []
        return sum(int(attributes.get(name, 0)) for name in names)

    def dead_letters(self) -> list[dict[str, Any]]:
        """The work items in the dead-letter queue (left there)."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queues.dead_letter_url, MaxNumberOfMessages=10, VisibilityTimeout=0
        ).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]


def fanout_queues(stack: Stack, monkeypatch: Any) -> FanoutQueues:
    """Create the template's work queues and point `DYNADAG_WORK_QUEUE_URL` at them."""
    sqs = client("sqs", stack.endpoint)
    queues = create_queues(sqs, "dynadag-test")
    monkeypatch.setenv("DYNADAG_WORK_QUEUE_URL", queues.work_url)
    return FanoutQueues(stack, queues, boto3.Session(), sqs)
