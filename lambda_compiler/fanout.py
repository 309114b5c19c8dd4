"""Fan-out: the work of a rebuild or of a large stream change, sharded into SQS messages.

Why an SQS work queue and not Step Functions (Distributed Map): moto runs SQS and our
own worker for real, locally and in the tests, while a Distributed Map cannot be
executed on moto; SQS gives what the work needs and nothing more: bounded Lambda
concurrency (the event source mapping's ``ScalingConfig.MaximumConcurrency``),
per-message retries (the visibility timeout), and a redrive policy that moves a batch
failing ``maxReceiveCount`` times to a dead-letter queue, where the message still names
its rows and DAG ids, so `dynadag redrive` can replay it.

A **work item** is one message::

    {"run_id": "...", "batch_no": 3, "owners": ["mwaa_job/job_type=etl/job_id=7", ...],
     "dag_ids": ["job-load_sales", ...], "gone": ["job-old_name", ...],
     "planning": "full_rebuild"}

`owners` are job and scheduler rows (`RowRef.address`); a worker runs the incremental
engine on them (`DagSync.apply`, one `Change` per owner), which reads only those rows and
their dependencies: a worker's memory is bounded by its batch, not by the tables.
`dag_ids` are the DAG ids the registry last knew for them (what `redrive` prints);
`gone` are DAG ids that no row claims any more (settled: their files are deleted).
`planning` (`affected.Planning`) is ``full_rebuild`` for the batches of a run over every
row (`enumerate_work`: the deploy-time rebuild, `dynadag rebuild`, and `redrive` of their
batches), whose workers skip looking up the schedulers of each job (each scheduler is
in a batch of its own); ``incremental`` (also when absent) for the rows of a stream
change handed over by `DagSync` and for `dynadag rebuild --dag`: not every row, so a
job's schedulers must still be found through the reverse index.

A **run** (`RunRecord`, registry item ``pk="run#{run_id}"``) counts the batches: each
worker adds its batch to `done` or `failed` (one atomic ``UpdateItem ADD``); the worker
whose update completes the run answers CloudFormation when the run was started by the
deploy hook (`deploy_hook.py`), once (a conditional ``answered`` flag). A batch is
counted `failed` only on its last receive; before that it is retried by SQS. A
watchdog message (delayed ≤ 900 s, re-armed) answers FAILED if the run has not ended by
its deadline, so CloudFormation always gets an answer within its limits.

Enumeration is keys-only: the job and scheduler tables are scanned for their key
attributes (plus the name and status their DAG id is made of), the registry for its row
states (rows deleted since their last build) and DAG items (DAG ids nothing claims), the
bucket for its DAG files.
"""

from __future__ import annotations

import functools
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, get_args

from lambda_compiler.affected import Planning
from lambda_compiler.batch_get import batch_get
from lambda_compiler.dynamodb_json import row_of
from lambda_compiler.limits import clip
from lambda_compiler.model import DagId
from lambda_compiler.outcome import Outcome
from lambda_compiler.plan import KEY_NAMES, Change, TableKind, dag_id_of, ref_of
from lambda_compiler.registry import DAG_PREFIX, ROW_PREFIX, DagRecord, Registry, utc_now
from lambda_compiler.rows import RowRef, RowValueError, as_id_list
from lambda_compiler.settle import DagReport
from lambda_compiler.sync import DagSync

T = TypeVar("T")

RUN_PREFIX = "run#"
_RUN_SK = "run"
LATEST_RUN = "run#latest"
FAILED_IDS_PER_BATCH = 20
"""DAG ids a failed batch adds to its run's `failed_dags` (the item stays small)."""
MAX_DELAY_SECONDS = 900
"""SQS's longest message delay: the watchdog re-arms itself in steps of at most this."""
SEND_BATCH = 10
OUTCOMES = (*(o.value for o in Outcome if o is not Outcome.ROLLED_BACK), "crashed")
"""What a run counts: the build outcomes, and crashed DAGs (outcome `error`, crashed)."""
"""What a run counts its DAGs by (`DagReport.outcome`; `crashed` for a crashed `error`)."""


class WorkItemError(ValueError):
    """A queue message that is not a work item; the message says what is wrong."""


@dataclass(frozen=True)
class WorkItem:
    """One batch of rows (and gone DAG ids) for one worker."""

    run_id: str
    batch_no: int
    owners: tuple[RowRef, ...] = ()
    dag_ids: tuple[str, ...] = ()
    gone: tuple[DagId, ...] = ()
    planning: Planning = "incremental"

    def body(self) -> str:
        """The message body (JSON)."""
        return json.dumps(
            {
                "run_id": self.run_id,
                "batch_no": self.batch_no,
                "owners": [ref.address for ref in self.owners],
                "dag_ids": list(self.dag_ids),
                "gone": list(self.gone),
                "planning": self.planning,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_body(cls, text: str) -> WorkItem:
        """The work item in a message body; WorkItemError when it is not one."""
        try:
            data = json.loads(text)
            planning = data.get("planning", "incremental")
            if planning not in get_args(Planning):
                raise ValueError(f"planning {planning!r} is not one of {get_args(Planning)}")
            return cls(
                run_id=str(data["run_id"]),
                batch_no=int(data["batch_no"]),
                owners=tuple(RowRef.from_address(str(a)) for a in data.get("owners", ())),
                dag_ids=tuple(str(d) for d in data.get("dag_ids", ())),
                gone=tuple(DagId(str(d)) for d in data.get("gone", ())),
                planning=planning,
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise WorkItemError(f"not a dynadag work item ({exc}): {clip(text, 200)}") from None

    def names(self) -> list[str]:
        """What this batch is about, for people: its DAG ids, else its rows."""
        return [*self.dag_ids, *self.gone] or [str(ref) for ref in self.owners]


@dataclass(frozen=True)
class RunRecord:
    """One fan-out run as the registry holds it."""

    run_id: str
    total: int
    done: int = 0
    failed: int = 0
    failed_dags: tuple[str, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)
    started_at: str | None = None
    deadline: float | None = None
    origin: str = "rebuild"
    cloudformation: dict[str, Any] | None = None
    answered: bool = False

    @property
    def pending(self) -> int:
        return max(self.total - self.done - self.failed, 0)

    @property
    def finished(self) -> bool:
        return self.pending == 0

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> RunRecord:
        def number(name: str) -> int:
            return int(item.get(name, {}).get("N", "0"))

        cfn = item.get("cloudformation", {}).get("S")
        deadline = item.get("deadline", {}).get("N")
        return cls(
            run_id=item["run_id"]["S"],
            total=number("total"),
            done=number("done"),
            failed=number("failed"),
            failed_dags=tuple(sorted(item.get("failed_dags", {}).get("SS", ()))),
            counts={o: number(f"n_{o}") for o in OUTCOMES if f"n_{o}" in item},
            started_at=item.get("started_at", {}).get("S"),
            deadline=float(deadline) if deadline else None,
            origin=item.get("origin", {}).get("S", "rebuild"),
            cloudformation=json.loads(cfn) if cfn else None,
            answered="answered" in item,
        )

    def to_dict(self) -> dict[str, Any]:
        """The run for `--format json` (without the CloudFormation request)."""
        return {
            "run_id": self.run_id,
            "origin": self.origin,
            "started_at": self.started_at,
            "batches": self.total,
            "done": self.done,
            "failed": self.failed,
            "pending": self.pending,
            "failed_dags": list(self.failed_dags),
            "dags": self.counts,
        }


class Runs:
    """Run records in the registry table (an injected DynamoDB client)."""

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self.table = table

    def start(self, run: RunRecord) -> None:
        """Write a new run and make it the latest one."""
        item: dict[str, Any] = {
            **_run_key(run.run_id),
            "run_id": {"S": run.run_id},
            "total": {"N": str(run.total)},
            "done": {"N": "0"},
            "failed": {"N": "0"},
            "origin": {"S": run.origin},
            "started_at": {"S": run.started_at or utc_now()},
        }
        if run.deadline is not None:
            item["deadline"] = {"N": f"{run.deadline:.0f}"}
        if run.cloudformation is not None:
            item["cloudformation"] = {"S": json.dumps(run.cloudformation)}
        self._client.put_item(TableName=self.table, Item=item)
        self._client.put_item(
            TableName=self.table,
            Item={"pk": {"S": LATEST_RUN}, "sk": {"S": _RUN_SK}, "run_id": {"S": run.run_id}},
        )

    def settle(
        self, run_id: str, *, ok: bool, counts: dict[str, int], failed_dags: Sequence[str]
    ) -> RunRecord:
        """Count one batch as done (`ok`) or failed, atomically; the run afterwards."""
        adds = {"done" if ok else "failed": 1, **{f"n_{o}": n for o, n in counts.items() if n}}
        names = {f"#a{i}": name for i, name in enumerate(adds)}
        values: dict[str, Any] = {f":a{i}": {"N": str(n)} for i, n in enumerate(adds.values())}
        clause = ", ".join(f"#a{i} :a{i}" for i in range(len(adds)))
        if failed_dags:
            names["#f"] = "failed_dags"
            values[":f"] = {"SS": sorted(set(failed_dags))[:FAILED_IDS_PER_BATCH]}
            clause += ", #f :f"
        response = self._client.update_item(
            TableName=self.table,
            Key=_run_key(run_id),
            UpdateExpression=f"ADD {clause}",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
        return RunRecord.from_item(response["Attributes"])

    def claim_answer(self, run_id: str) -> bool:
        """True for exactly one caller: the one that answers CloudFormation for the run."""
        try:
            self._client.update_item(
                TableName=self.table,
                Key=_run_key(run_id),
                UpdateExpression="SET answered = :t",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(answered)",
                ExpressionAttributeValues={":t": {"S": utc_now()}},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def get(self, run_id: str) -> RunRecord | None:
        item = self._client.get_item(
            TableName=self.table, Key=_run_key(run_id), ConsistentRead=True
        ).get("Item")
        return RunRecord.from_item(item) if item else None

    def latest(self) -> RunRecord | None:
        """The run started last, or None when there never was one."""
        item = self._client.get_item(
            TableName=self.table,
            Key={"pk": {"S": LATEST_RUN}, "sk": {"S": _RUN_SK}},
            ConsistentRead=True,
        ).get("Item")
        return self.get(item["run_id"]["S"]) if item else None


def _run_key(run_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"{RUN_PREFIX}{run_id}"}, "sk": {"S": _RUN_SK}}


def new_run_id(origin: str) -> str:
    """A unique, time-ordered run id such as ``rebuild-20261202T154501-1a2b3c``."""
    return f"{origin}-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:6]}"


# --- the queue ------------------------------------------------------------------------


class WorkQueue:
    """The work queue (an injected SQS client)."""

    def __init__(self, client: Any, url: str) -> None:
        self.client = client
        self.url = url

    def send(self, items: Iterable[WorkItem]) -> int:
        """Enqueue work items (10 per request); how many were sent."""
        return self._send([item.body() for item in items])

    def arm_watchdog(self, run_id: str, deadline: float, now: float) -> None:
        """A delayed message that checks the run at its deadline (or re-arms before)."""
        delay = int(min(MAX_DELAY_SECONDS, max(deadline - now, 0)))
        body = json.dumps({"watchdog": run_id, "deadline": deadline})
        self.client.send_message(QueueUrl=self.url, MessageBody=body, DelaySeconds=delay)

    def _send(self, bodies: list[str]) -> int:
        for start in range(0, len(bodies), SEND_BATCH):
            entries = [
                {"Id": str(i), "MessageBody": body}
                for i, body in enumerate(bodies[start : start + SEND_BATCH])
            ]
            while entries:
                response = self.client.send_message_batch(QueueUrl=self.url, Entries=entries)
                failed = {f["Id"] for f in response.get("Failed", [])}
                sender = [f for f in response.get("Failed", []) if f.get("SenderFault")]
                if sender:
                    raise RuntimeError(f"the work queue refused a message: {sender[0]}")
                entries = [e for e in entries if e["Id"] in failed]
        return len(bodies)


# --- enumeration (keys only) ------------------------------------------------------------


@dataclass
class Work:
    """Everything a rebuild has to look at, as keys."""

    owners: list[RowRef] = field(default_factory=list)
    dag_ids: dict[RowRef, str] = field(default_factory=dict)
    gone: list[DagId] = field(default_factory=list)
    planning: Planning = "incremental"
    """``full_rebuild`` when `owners` are every row (`enumerate_work`)."""
    weights: dict[RowRef, int] = field(default_factory=dict)
    """A scheduler's weight: 1 + the jobs it lists (it reads them all); other rows weigh 1."""

    def items(self, run_id: str, size: int) -> list[WorkItem]:
        """The work in batches of rows weighing at most `size` together (a row heavier
        than that in a batch of its own), then the gone DAG ids, `size` per batch."""
        items: list[WorkItem] = []
        for chunk in _batches(self.owners, self.weights, size):
            names = tuple(d for d in (self.dag_ids.get(ref) for ref in chunk) if d)
            items.append(WorkItem(run_id, len(items), tuple(chunk), names, planning=self.planning))
        for gone in _batches(self.gone, {}, size):
            items.append(WorkItem(run_id, len(items), gone=tuple(gone)))
        return items


def _batches(values: Sequence[T], weights: Mapping[T, int], size: int) -> Iterator[list[T]]:
    """`values` in order, in batches weighing at most `size` (a value weighs 1 unless
    `weights` says otherwise; one heavier than `size` makes a batch of its own)."""
    batch: list[T] = []
    load = 0
    for value in values:
        weight = weights.get(value, 1)
        if batch and load + weight > size:
            yield batch
            batch, load = [], 0
        batch.append(value)
        load += weight
    if batch:
        yield batch


def enumerate_work(sync: DagSync) -> Work:
    """Every job and scheduler row (table keys), every row the registry remembers, the
    rows claiming a DAG id, and the DAG ids no row claims any more (with a file or a
    record that is not ``deleted``): keys only, paginated."""
    tables = sync.tables
    work = Work(planning="full_rebuild")
    owners: set[RowRef] = set()
    kinds: tuple[TableKind, ...] = ("job", "scheduler")
    for kind in kinds:
        for row in _scan_keys(sync, kind):
            ref = ref_of(kind, tables, row)
            owners.add(ref)
            dag_id = dag_id_of(kind, row, tables)
            if dag_id is not None:
                work.dag_ids[ref] = dag_id
            if kind == "scheduler":
                work.weights[ref] = 1 + _listed_jobs(row)
    records: dict[DagId, DagRecord] = {}
    for page in _scan_registry(sync.source.client, sync.registry.table):
        found = Registry.parse(page)
        owners |= found.states.keys()
        for ref, state in found.states.items():
            if state.dag_id and ref not in work.dag_ids:
                work.dag_ids[ref] = state.dag_id
        records.update(found.records)
    for record in records.values():
        owners |= {RowRef.from_address(address) for address in record.claims}
    files = sync.publisher.dag_ids()
    unclaimed = {d for d, r in records.items() if not r.claims and r.outcome != "deleted"}
    work.gone = sorted(unclaimed | (files - records.keys()))
    work.owners = sorted(owners)
    return work


SCANNED_ATTRIBUTES: dict[TableKind, tuple[str, ...]] = {
    "job": ("job_name", "status"),
    "scheduler": ("schedule_name", "status", "job_list"),
}
"""Besides its key, what a row's DAG id is made of (`plan.dag_id_of`), and a scheduler's
``job_list`` (its weight in a batch): read by the scan."""


def _listed_jobs(row: dict[str, Any]) -> int:
    """How many jobs a scheduler row lists (0 when it cannot say: the worker reports why)."""
    try:
        return len(as_id_list(row.get("job_list") or []))
    except RowValueError:
        return 0


def _scan_keys(sync: DagSync, kind: TableKind) -> Iterator[dict[str, Any]]:
    """The key, name and status of every row of a table (a projected, paginated scan)."""
    attributes = (*KEY_NAMES[kind], *SCANNED_ATTRIBUTES[kind])
    names = {f"#k{i}": name for i, name in enumerate(attributes)}
    pages = sync.source.client.get_paginator("scan").paginate(
        TableName=getattr(sync.tables, kind),
        ProjectionExpression=", ".join(names),
        ExpressionAttributeNames=names,
    )
    for page in pages:
        yield from (row_of(item) for item in page["Items"])


def _scan_registry(client: Any, table: str) -> Iterator[list[dict[str, Any]]]:
    """Row states (key and DAG id) and DAG items (key, outcome, claims), page by page."""
    pages = client.get_paginator("scan").paginate(
        TableName=table,
        FilterExpression="begins_with(pk, :r) OR begins_with(pk, :d)",
        ProjectionExpression="pk, sk, row_address, dag_id, outcome, claims",
        ExpressionAttributeValues={":r": {"S": ROW_PREFIX}, ":d": {"S": DAG_PREFIX}},
    )
    for page in pages:
        yield page["Items"]


# --- the worker ---------------------------------------------------------------------------


class RetryBatchError(RuntimeError):
    """The batch left DAGs unbuilt; SQS delivers it again (or, after its last receive,
    moves it to the dead-letter queue). `result` says what was built."""

    def __init__(self, message: str, result: BatchResult) -> None:
        super().__init__(message)
        self.result = result


@dataclass
class BatchResult:
    """What one worker did with one batch."""

    dags: dict[DagId, DagReport] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    """DAG ids (or rows) not built because of an AWS error; empty when the batch is done.
    (A DAG whose compile crashed is recorded and alerted as `error`, not retried.)"""

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(OUTCOMES, 0)
        for report in self.dags.values():
            counts["crashed" if report.crashed else report.outcome] += 1
        return counts


def build_batch(sync: DagSync, item: WorkItem) -> BatchResult:
    """Run the incremental engine on a batch's rows and settle its gone DAG ids."""
    changes = [Change(sync.source.kind(ref), ref, frozenset({ref})) for ref in item.owners]
    report = sync.apply(changes, item.planning)
    result = BatchResult(dict(report.dags))
    unbuilt = [str(item.owners[i]) for i in sorted(report.failed | report.dropped)]
    result.dags.update(settle_gone(sync, item.gone))
    errors = [d for d, r in result.dags.items() if r.outcome is Outcome.ERROR and not r.crashed]
    result.failed = sorted({*errors, *unbuilt})
    return result


def settle_gone(sync: DagSync, gone: Sequence[DagId]) -> dict[DagId, DagReport]:
    """Settle DAG ids no row claimed at enumeration: their registry items read in shared
    consistent `BatchGetItem` calls, then settled on the engine's I/O pool (a DAG claimed
    again since is left alone). An AWS error is that DAG's `error` report (retried)."""
    if not gone:
        return {}
    registry = sync.registry
    try:
        keys = {registry.table: registry.keys(records=gone)}
        items = batch_get(sync.source.client, keys, sync._pool)
        records = Registry.parse(items.get(registry.table, [])).records
    except Exception as exc:
        return {dag_id: _error_report(dag_id, exc) for dag_id in gone}

    def settle(dag_id: DagId) -> DagReport | None:
        record = records.get(dag_id)
        if record is not None and record.claims:
            return None
        try:
            return sync.settler.settle(dag_id, None, record)
        except Exception as exc:  # one DAG's failure, as in Settler.settle
            return _error_report(dag_id, exc)

    reports = sync._parallel(*(functools.partial(settle, dag_id) for dag_id in gone))
    return {d: r for d, r in zip(gone, reports, strict=True) if r is not None}


def _error_report(dag_id: DagId, exc: Exception) -> DagReport:
    return DagReport(
        dag_id, Outcome.ERROR, error=clip(f"{type(exc).__name__}: {exc}", 500), retry=True
    )


Answer = Callable[[RunRecord], None]


def process(
    sync: DagSync,
    runs: Runs,
    item: WorkItem,
    *,
    final: bool,
    answer: Answer | None = None,
) -> BatchResult:
    """Build one batch and count it in its run.

    A batch that left DAGs unbuilt raises RetryBatchError: SQS delivers it again. On its
    `final` receive it is first counted failed (naming those DAGs), so the run can end;
    the error still sends the message to the dead-letter queue. `answer(run)` is called
    once, by the worker that ends a run.
    """
    result = build_batch(sync, item)
    if result.failed and not final:
        raise RetryBatchError(
            f"batch {item.batch_no} of run {item.run_id}: {result.failed}", result
        )
    ok = not result.failed
    run = runs.settle(
        item.run_id, ok=ok, counts=result.counts(), failed_dags=() if ok else result.failed
    )
    if run.finished and answer is not None and runs.claim_answer(run.run_id):
        answer(run)
    if not ok:
        raise RetryBatchError(
            f"batch {item.batch_no} of run {item.run_id} failed for good: {result.failed}", result
        )
    return result


# --- S3 write-rate cap --------------------------------------------------------------------


class TokenBucket:
    """At most `rate` takes per second on average (bursts up to `rate`), thread-safe."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._tokens = rate
        self._last = clock()
        self._lock = threading.Lock()

    def take(self) -> None:
        """Wait for a token."""
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.rate, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens >= 1 - 1e-9:  # float sums of elapsed time fall just short
                    self._tokens = max(self._tokens - 1, 0.0)
                    return
                wait = (1 - self._tokens) / self.rate
            time.sleep(wait)


def cap_s3_writes(events: Any, per_second: float) -> None:
    """Hold every S3 put and delete made through a botocore `events` emitter (a session's:
    all its clients) to `per_second` per process; 0 means no cap."""
    if per_second <= 0:
        return
    bucket = TokenBucket(per_second)
    for operation in ("PutObject", "DeleteObject", "CopyObject"):
        events.register(f"before-call.s3.{operation}", lambda **_: bucket.take())


# --- starting runs ------------------------------------------------------------------------


@dataclass
class Fanout:
    """Starts runs: writes their record, then enqueues their work items."""

    queue: WorkQueue | None
    runs: Runs
    batch_rows: int

    def plan(
        self,
        work: Work,
        origin: str,
        *,
        deadline: float | None = None,
        cloudformation: dict[str, Any] | None = None,
    ) -> tuple[RunRecord, list[WorkItem]]:
        """A new run of `work` and its items (nothing written yet)."""
        run_id = new_run_id(origin)
        items = work.items(run_id, self.batch_rows)
        run = RunRecord(
            run_id,
            len(items),
            origin=origin,
            started_at=utc_now(),
            deadline=deadline,
            cloudformation=cloudformation,
        )
        return run, items

    def start(
        self,
        work: Work,
        origin: str,
        *,
        deadline: float | None = None,
        cloudformation: dict[str, Any] | None = None,
    ) -> RunRecord:
        """Record a run of `work` and enqueue its batches (the record first: a fast worker
        must find it)."""
        if self.queue is None:
            raise RuntimeError("DYNADAG_WORK_QUEUE_URL is not set: no work queue to fan out to")
        run, items = self.plan(work, origin, deadline=deadline, cloudformation=cloudformation)
        self.runs.start(run)
        self.queue.send(items)
        return run

    def offloader(self, registry: Registry) -> Callable[[Sequence[RowRef]], None]:
        """The stream engine's `offload`: hand `refs` to the workers as one run."""

        def offload(refs: Sequence[RowRef]) -> None:
            states = registry.row_states(refs)
            work = Work(list(refs), {r: s.dag_id for r, s in states.items() if s.dag_id})
            self.start(work, "stream")

        return offload


def fanout_for(settings: Any, session: Any | None = None) -> Fanout | None:
    """The deployment's `Fanout` (boto3 clients), or None without a work queue."""
    if not settings.fanout.queue_url:
        return None
    import boto3

    make = (session or boto3).client
    return Fanout(
        WorkQueue(make("sqs"), settings.fanout.queue_url),
        Runs(make("dynamodb"), settings.registry_table),
        settings.fanout.batch_rows,
    )


def prepare_rebuild(sync: DagSync, runtime_dir: Path | None = None) -> tuple[Work, list[str]]:
    """The coordinator's first steps: upload the runtime files (every DAG imports them, so
    they go before any DAG file), then enumerate the work; the runtime files written."""
    from lambda_compiler.rebuild import RebuildReport, _upload_runtime, default_runtime_dir

    report = RebuildReport()
    _upload_runtime(sync, runtime_dir or default_runtime_dir(), report)
    return enumerate_work(sync), report.runtime_files_written
