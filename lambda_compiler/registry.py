"""The registry table: each DAG's last outcome, plus the bookkeeping that planning reads.

One DynamoDB table (key `pk` + `sk`, both strings; not a source table, so writing it
never feeds the stream back). Item kinds:

- ``pk="dag#{dag_id}"``, ``sk="dag"``: one per DAG: outcome, S3 key, version id,
  sha256, source rows, problems, timestamps, and `claims` (the rows producing this
  DAG id, so duplicates across rows are found without scanning);
- ``pk="row#{row address}"``, ``sk="row"``: one per job/scheduler row: the DAG id it
  produced at its last build, whether it was valid, its reverse-index keys (so a
  renamed job's old file is deleted and stale index entries are removed) and
  `registered`, a fingerprint of the index entries that build had in place
  (`registration_fingerprint`; absent on items written before it was kept);
- ``pk="taskref#{task_id}"``, ``sk=`` a job's row address: the job lists the task;
  the entry also holds the job's `Listing` (its task ids and DAG id at its last
  registration), so the query that finds the job answers what its build reads next
  (entries written before they held one still work: the job's row is read first);
- ``pk="jobref#{job_id}"`` or ``"jobref#{job_type}:{job_id}"``, ``sk=`` a scheduler's
  row address: the scheduler lists the job (written as the scheduler writes it).

A build that finds a DAG as recorded writes nothing for it (`settle.py`): a DAG's
outcome is that of the last build that changed its file or its item.

Rows are named by their `RowRef.address`. Everything here is state, rebuilt in
full by `dynadag rebuild`; a stale index entry only costs an extra rebuild.

Whatever the rows hold, items stay within DynamoDB's limits (`limits.py`): a key
text too long for a key (a DAG id, row address or reverse-index key built from a
long id) is stored as a head plus its sha256, with the full text in a non-key
attribute (`dag_id`, `row_address`, `index_key`) that reads use; stored problems,
errors and source rows are capped, saying how many were left out.

**Read API for operators** (stable; `dynadag status` and rollback use it):
`Registry.list_dags()`, `Registry.get_dag(dag_id)` → `DagRecord`, and
`Registry.record_rollback(...)`, `Registry.release_pin(dag_id)`. Everything else is
for the compiler.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from lambda_compiler.batch_get import batch_get, until_processed
from lambda_compiler.dynamodb_json import deserialize
from lambda_compiler.limits import (
    PARTITION_KEY_BYTES,
    SORT_KEY_BYTES,
    TEXT_BYTES,
    bounded_key,
    bounded_problems,
    clip,
    clip_list,
)
from lambda_compiler.model import DagId
from lambda_compiler.outcome import Outcome
from lambda_compiler.rows import RowRef

DAG_PREFIX = "dag#"
ROW_PREFIX = "row#"
_DAG_SK = "dag"
_ADDRESS = "row_address"
_INDEX_KEY = "index_key"
_ROW_SK = "row"
_TASKS = "tasks"
_LISTED_DAG_ID = "listed_dag_id"
_LISTING_BYTES = 4_000
"""A listing longer than this is left out of index entries (`Listing.of`)."""
_PIN_FIELDS = ("pinned_version", "pinned_by", "pinned_at", "pending_sha256")
_BATCH_WRITE_LIMIT = 25


def _serialize(value: Any) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeSerializer  # imported on use: the CLI starts without boto3

    serialized: dict[str, Any] = TypeSerializer().serialize(value)
    return serialized


def utc_now() -> str:
    """The current time as ISO 8601 UTC, to the second."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class RowState:
    """What the registry remembers about a job or scheduler row from its last build."""

    dag_id: DagId | None = None
    valid: bool = False
    deps: frozenset[str] = frozenset()
    registered: str | None = None
    """`registration_fingerprint` of the index entries (keys and listing) that were in
    the registry when this state was written; None on items written before it was kept."""


def registration_fingerprint(deps: Iterable[str], listing: Listing | None) -> str:
    """A short digest of a row's reverse-index keys and the listing its entries hold."""
    parts = [
        *sorted(deps),
        "",
        *(listing.tasks if listing else ()),
        "",
        *([listing.dag_id or ""] if listing else []),
    ]
    digest = hashlib.sha256("\x00".join(parts).encode()).hexdigest()
    return digest[:32]


@dataclass(frozen=True)
class DagRecord:
    """One DAG as the registry knows it.

    `version_id` and `sha256` describe the file now current in S3 (for `invalid` and
    `error` they still describe the last good file, which stays in place); after a
    delete, `version_id` is the delete marker's. `problems` are plain sentences
    naming table, key, attribute and reason. Timestamps are ISO 8601 UTC.

    A rollback may pin the DAG (`pinned_version`, the restored copy's version id, set
    `pinned_by` someone at `pinned_at`): builds then leave its file in place, record
    the outcome ``pinned`` with the problems of its rows and `pending_sha256`, the
    sha256 their compile would publish (None when invalid or no longer produced),
    until `release_pin`.

    `inputs_key` (`compiler.inputs_key`) says what the current file was compiled from,
    kept only while the outcome is ``written`` or ``unchanged``. `etag` is the ETag of
    the file dynadag last put or found (None after a delete or a rollback, and on items
    written before it was kept): the next put is conditional on it.
    """

    dag_id: DagId
    kind: str | None
    outcome: Outcome | None
    s3_key: str | None
    version_id: str | None
    sha256: str | None
    sources: tuple[str, ...]
    problems: tuple[str, ...]
    claims: frozenset[str]
    compiler_version: str | None
    updated_at: str | None
    written_at: str | None
    error: str | None = None
    rolled_back_from: str | None = None
    pinned_version: str | None = None
    pinned_by: str | None = None
    pinned_at: str | None = None
    pending_sha256: str | None = None
    inputs_key: str | None = None
    etag: str | None = None

    @property
    def pinned(self) -> bool:
        """True while a rollback holds the DAG's file in place."""
        return self.pinned_version is not None

    @property
    def reusable_key(self) -> str | None:
        """The `inputs_key` of the file in S3 when the last build wrote or confirmed that
        file (not invalid, failed, pinned, rolled back or deleted); else None."""
        good = self.outcome in (Outcome.WRITTEN, Outcome.UNCHANGED) and self.sha256
        return self.inputs_key if good and not self.pinned else None

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> DagRecord:
        """A record from a registry item (DynamoDB-typed)."""
        data = {name: deserialize(value) for name, value in item.items()}
        return cls(
            dag_id=DagId(data.get("dag_id") or data["pk"].removeprefix(DAG_PREFIX)),
            kind=data.get("kind"),
            outcome=Outcome(data["outcome"]) if data.get("outcome") else None,
            s3_key=data.get("s3_key"),
            version_id=data.get("version_id"),
            sha256=data.get("sha256"),
            sources=tuple(data.get("sources") or ()),
            problems=tuple(data.get("problems") or ()),
            claims=frozenset(data.get("claims") or ()),
            compiler_version=data.get("compiler_version"),
            updated_at=data.get("updated_at"),
            written_at=data.get("written_at"),
            error=data.get("error"),
            rolled_back_from=data.get("rolled_back_from"),
            pinned_version=data.get("pinned_version"),
            pinned_by=data.get("pinned_by"),
            pinned_at=data.get("pinned_at"),
            pending_sha256=data.get("pending_sha256"),
            inputs_key=data.get("inputs_key"),
            etag=data.get("etag"),
        )


@dataclass(frozen=True)
class OutcomeRecord:
    """What one build did to one DAG, as `record_outcome` stores it."""

    dag_id: DagId
    outcome: Outcome
    kind: str | None = None
    s3_key: str | None = None
    version_id: str | None = None
    sha256: str | None = None
    sources: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    compiler_version: str | None = None
    error: str | None = None
    pending_sha256: str | None = None
    """For ``pinned``: the sha256 the rows' compile would publish (None: nothing to)."""
    inputs_key: str | None = None
    """For ``written``/``unchanged``: what the file was compiled from (`compiler.inputs_key`)."""
    etag: str | None = None
    """For ``written``/``unchanged``: the file's ETag, when known."""


@dataclass(frozen=True)
class Listing:
    """What a job's reverse-index entries say of it: its task ids and DAG id when it was
    registered. A hint for what to read with the job, never trusted as its content."""

    tasks: tuple[str, ...]
    dag_id: DagId | None

    @classmethod
    def of(cls, tasks: Iterable[str], dag_id: DagId | None) -> Listing | None:
        """A job's listing, or None when it is longer than `_LISTING_BYTES`: it is then
        left off the job's index entries, and a change of one of its tasks reads the job
        before the tasks (one more round trip) instead of writing the long list on every
        entry."""
        listed = tuple(tasks)
        size = sum(len(task.encode()) for task in listed) + len((dag_id or "").encode())
        return cls(listed, dag_id) if size <= _LISTING_BYTES else None


@dataclass
class RegistryItems:
    """Registry items read together: row states, DAG items, present index entries and
    the listings they hold."""

    states: dict[RowRef, RowState] = field(default_factory=dict)
    records: dict[DagId, DagRecord] = field(default_factory=dict)
    index: set[tuple[str, RowRef]] = field(default_factory=set)
    listings: dict[tuple[str, RowRef], Listing] = field(default_factory=dict)


class Registry:
    """The registry table through an injected DynamoDB client."""

    def __init__(self, client: Any, table: str, clock: Callable[[], str] = utc_now) -> None:
        self._client = client
        self.table = table
        self._clock = clock

    # --- read API for operators (stable) -------------------------------------------

    def list_dags(self) -> list[DagRecord]:
        """Every DAG item, sorted by DAG id (a paginated, consistent scan)."""
        items = self._scan_prefix(DAG_PREFIX)
        return sorted((DagRecord.from_item(i) for i in items), key=lambda r: r.dag_id)

    def get_dag(self, dag_id: str) -> DagRecord | None:
        """One DAG item (consistent read), or None when the registry never saw it."""
        item = self._client.get_item(
            TableName=self.table, Key=_dag_key(DagId(dag_id)), ConsistentRead=True
        ).get("Item")
        return DagRecord.from_item(item) if item else None

    def record_rollback(
        self,
        dag_id: str,
        *,
        version_id: str,
        sha256: str,
        restored_from: str,
        pin: bool = False,
        by: str | None = None,
    ) -> None:
        """Record that the DAG's file was restored from S3 version `restored_from`.

        `version_id` and `sha256` describe the object now current (the restored copy).
        With `pin`, builds leave that file in place until `release_pin` (`by` says who
        pinned it); without, the next change to the DAG's rows replaces the rollback.
        """
        now = self._clock()
        values: dict[str, Any] = {
            "dag_id": dag_id,
            "outcome": Outcome.ROLLED_BACK,
            "version_id": version_id,
            "sha256": sha256,
            "rolled_back_from": restored_from,
            "updated_at": now,
            "written_at": now,
        }
        if pin:
            values.update(pinned_version=version_id, pinned_by=by, pinned_at=now)
        remove = ("etag",) if pin else ("etag", *_PIN_FIELDS)
        self._update(_dag_key(DagId(dag_id)), values, remove=remove)

    def release_pin(self, dag_id: str) -> None:
        """Let builds publish the DAG's file again (the next build replaces the rollback)."""
        self._update(_dag_key(DagId(dag_id)), {"dag_id": dag_id}, remove=_PIN_FIELDS)

    # --- compiler API ---------------------------------------------------------------

    def dag_records(self, dag_ids: Iterable[DagId]) -> dict[DagId, DagRecord]:
        """DAG items by id (consistent); ids the registry never saw are absent."""
        return self._read(self.keys(records=dag_ids)).records

    def record_outcome(self, record: OutcomeRecord, previous: DagRecord | None = None) -> None:
        """Store a build's outcome; a failed or invalid build keeps the last good file's data.

        Problems, the error and the source rows are capped (`limits.py`), so the item
        stays under DynamoDB's 400 KB whatever the rows hold. Nothing is written when
        `previous` (the DAG's item as read) already says all of it.
        """
        if previous is not None and _says(previous, record):
            return
        now = self._clock()
        values: dict[str, Any] = {
            "dag_id": record.dag_id,
            "outcome": record.outcome,
            "problems": list(bounded_problems(record.problems)),
            "updated_at": now,
        }
        for name in ("kind", "s3_key", "compiler_version"):
            if getattr(record, name) is not None:
                values[name] = getattr(record, name)
        if record.error is not None:
            values["error"] = clip(record.error, TEXT_BYTES)
        if record.sources:
            values["sources"] = list(_stored_sources(record))
        remove = [] if record.error is not None else ["error"]
        if record.outcome == Outcome.PINNED:
            values["pending_sha256"] = record.pending_sha256
            if record.pending_sha256 is None:
                remove.append("pending_sha256")
        if record.outcome in (Outcome.WRITTEN, Outcome.UNCHANGED, Outcome.DELETED):
            remove.extend(_PIN_FIELDS)
        if record.outcome in (Outcome.WRITTEN, Outcome.UNCHANGED):
            values.update(version_id=record.version_id, sha256=record.sha256)
            values.update(inputs_key=record.inputs_key, etag=record.etag)
            remove.append("rolled_back_from")
        if values.get("inputs_key") is None:
            remove.append("inputs_key")
        written = record.outcome in (Outcome.WRITTEN, Outcome.UNCHANGED, Outcome.DELETED)
        if written and values.get("etag") is None:
            remove.append("etag")
        if record.outcome == Outcome.WRITTEN:
            values["written_at"] = now
        if record.outcome == Outcome.DELETED:
            values["written_at"] = now
            remove.append("sha256")
            if record.version_id is not None:
                values["version_id"] = record.version_id
        self._update(_dag_key(record.dag_id), values, remove=remove)

    def claim(self, dag_id: DagId, ref: RowRef) -> None:
        """Record that `ref` produces `dag_id` (added before its inputs are read)."""
        self._set_op("ADD", dag_id, ref)

    def release(self, dag_id: DagId, ref: RowRef) -> None:
        """Record that `ref` no longer produces `dag_id`."""
        self._set_op("DELETE", dag_id, ref)

    def dependents(self, keys: Iterable[str]) -> set[RowRef]:
        """The rows listed under reverse-index `keys` (consistent queries)."""
        return set(self.listed(keys))

    def listed(self, keys: Iterable[str]) -> dict[RowRef, Listing | None]:
        """The rows listed under reverse-index `keys`, each with the `Listing` its entry
        holds (None: an entry without one), by consistent queries."""
        found: dict[RowRef, Listing | None] = {}
        paginator = self._client.get_paginator("query")
        for key in sorted(set(keys)):
            pages = paginator.paginate(
                TableName=self.table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": bounded_key(key, PARTITION_KEY_BYTES)}},
                ProjectionExpression="sk, #a, #t, #d",
                ExpressionAttributeNames={"#a": _ADDRESS, "#t": _TASKS, "#d": _LISTED_DAG_ID},
                ConsistentRead=True,
            )
            for page in pages:
                for item in page["Items"]:
                    ref = _index_entry(item)[1]
                    found[ref] = found.get(ref) or _listing(item)
        return found

    def row_states(self, refs: Iterable[RowRef]) -> dict[RowRef, RowState]:
        """What the last build remembered per row; rows never built are absent."""
        return self._read(self.keys(states=refs)).states

    def keys(
        self,
        *,
        states: Iterable[RowRef] = (),
        records: Iterable[DagId] = (),
        index: Iterable[tuple[str, RowRef]] = (),
    ) -> list[dict[str, Any]]:
        """The keys of row states, DAG items and reverse-index entries, for `batch_get`."""
        return [
            *(_row_key(r) for r in sorted(set(states))),
            *(_dag_key(d) for d in sorted(set(records))),
            *(_index_key(k, r) for k, r in sorted(set(index))),
        ]

    @staticmethod
    def parse(items: Iterable[dict[str, Any]]) -> RegistryItems:
        """Row states, DAG items and index entries found by a `batch_get` of `keys`."""
        found = RegistryItems()
        for item in items:
            pk, sk = item["pk"]["S"], item["sk"]["S"]
            if sk == _DAG_SK and pk.startswith(DAG_PREFIX):
                record = DagRecord.from_item(item)
                found.records[record.dag_id] = record
            elif sk == _ROW_SK and pk.startswith(ROW_PREFIX):
                data = {name: deserialize(value) for name, value in item.items()}
                found.states[_state_ref(item)] = RowState(
                    DagId(data["dag_id"]) if data.get("dag_id") else None,
                    bool(data.get("valid")),
                    frozenset(data.get("deps") or ()),
                    data.get("registered"),
                )
            else:
                entry = _index_entry(item)
                found.index.add(entry)
                listing = _listing(item)
                if listing is not None:
                    found.listings[entry] = listing
        return found

    def put_row_state(self, ref: RowRef, state: RowState) -> None:
        """Remember a row's DAG id, validity and reverse-index keys."""
        item: dict[str, Any] = {
            _ADDRESS: ref.address,
            "valid": state.valid,
            "updated_at": self._clock(),
        }
        if state.dag_id is not None:
            item["dag_id"] = state.dag_id
        if state.deps:
            item["deps"] = set(state.deps)
        if state.registered is not None:
            item["registered"] = state.registered
        self._client.put_item(
            TableName=self.table,
            Item={**_row_key(ref), **{k: _serialize(v) for k, v in item.items()}},
        )

    def delete_row_state(self, ref: RowRef) -> None:
        """Forget a row that no longer exists."""
        self._client.delete_item(TableName=self.table, Key=_row_key(ref))

    def add_index(self, ref: RowRef, keys: Iterable[str], listing: Listing | None = None) -> None:
        """List `ref` under each reverse-index key (with the job's `listing`)."""
        self._batch_write(
            [{"PutRequest": {"Item": _index_item(k, ref, listing)}} for k in sorted(keys)]
        )

    def remove_index(self, ref: RowRef, keys: Iterable[str]) -> None:
        """Remove `ref` from each reverse-index key."""
        self._batch_write([{"DeleteRequest": {"Key": _index_key(k, ref)}} for k in sorted(keys)])

    def scan(self) -> RegistryItems:
        """Every item of the registry (for the rebuild): one paginated, consistent scan,
        which reads the whole table, as a scan filtered by kind would too."""
        pages = self._client.get_paginator("scan").paginate(
            TableName=self.table, ConsistentRead=True
        )
        return self.parse(item for page in pages for item in page["Items"])

    # --- plumbing -------------------------------------------------------------------

    def _set_op(self, op: str, dag_id: DagId, ref: RowRef) -> None:
        self._client.update_item(
            TableName=self.table,
            Key=_dag_key(dag_id),
            UpdateExpression=f"SET dag_id = :d {op} claims :c",
            ExpressionAttributeValues={":d": {"S": dag_id}, ":c": {"SS": [ref.address]}},
        )

    def _update(
        self, key: dict[str, Any], values: dict[str, Any], remove: Iterable[str] = ()
    ) -> None:
        values = {name: value for name, value in values.items() if value is not None}
        names = {f"#{i}": name for i, name in enumerate(values)}
        removed = {f"#r{i}": name for i, name in enumerate(remove) if name not in values}
        clauses = []
        if names:
            clauses.append("SET " + ", ".join(f"{n} = :{n[1:]}" for n in names))
        if removed:
            clauses.append("REMOVE " + ", ".join(removed))
        if not clauses:
            return
        args: dict[str, Any] = {
            "TableName": self.table,
            "Key": key,
            "UpdateExpression": " ".join(clauses),
            "ExpressionAttributeNames": {**names, **removed},
        }
        if names:
            args["ExpressionAttributeValues"] = {
                f":{n[1:]}": _serialize(values[name]) for n, name in names.items()
            }
        self._client.update_item(**args)

    def _read(self, keys: list[dict[str, Any]]) -> RegistryItems:
        return self.parse(batch_get(self._client, {self.table: keys})[self.table])

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        for start in range(0, len(requests), _BATCH_WRITE_LIMIT):
            chunk = {self.table: requests[start : start + _BATCH_WRITE_LIMIT]}
            until_processed(
                lambda request: self._client.batch_write_item(RequestItems=request),
                chunk,
                "UnprocessedItems",
            )

    def _scan_prefix(self, prefix: str) -> Iterator[dict[str, Any]]:
        pages = self._client.get_paginator("scan").paginate(
            TableName=self.table,
            FilterExpression="begins_with(pk, :p)",
            ExpressionAttributeValues={":p": {"S": prefix}},
            ConsistentRead=True,
        )
        for page in pages:
            yield from page["Items"]


def _stored_sources(record: OutcomeRecord) -> tuple[str, ...]:
    return clip_list(record.sources, "rows", max_items=len(record.sources), item_bytes=TEXT_BYTES)


def _says(previous: DagRecord, record: OutcomeRecord) -> bool:
    """True when the stored item already records `record` (as `record_outcome` stores it)."""
    stored = (
        previous.outcome,
        previous.kind,
        previous.s3_key,
        previous.compiler_version,
        previous.error,
        previous.problems,
        previous.sources,
        previous.pending_sha256,
    )
    error = clip(record.error, TEXT_BYTES) if record.error is not None else None
    wanted = (
        record.outcome,
        record.kind,
        record.s3_key,
        record.compiler_version,
        error,
        bounded_problems(record.problems),
        _stored_sources(record),
        record.pending_sha256,
    )
    if stored != wanted or record.outcome in (Outcome.WRITTEN, Outcome.DELETED):
        return False
    if record.outcome == Outcome.UNCHANGED:
        file = (previous.version_id, previous.sha256, previous.inputs_key)
        return not previous.pinned and file == (
            record.version_id,
            record.sha256,
            record.inputs_key,
        )
    return True


def _key(pk: str, sk: str) -> dict[str, Any]:
    """A registry key, each part within DynamoDB's key size (hashed when longer)."""
    return {
        "pk": {"S": bounded_key(pk, PARTITION_KEY_BYTES)},
        "sk": {"S": bounded_key(sk, SORT_KEY_BYTES)},
    }


def _dag_key(dag_id: DagId) -> dict[str, Any]:
    return _key(f"{DAG_PREFIX}{dag_id}", _DAG_SK)


def _row_key(ref: RowRef) -> dict[str, Any]:
    return _key(f"{ROW_PREFIX}{ref.address}", _ROW_SK)


def _index_key(key: str, ref: RowRef) -> dict[str, Any]:
    return _key(key, ref.address)


def _index_item(key: str, ref: RowRef, listing: Listing | None = None) -> dict[str, Any]:
    """A reverse-index item: its (bounded) key, plus the full texts when they were hashed,
    and the job's listing (`Listing.of`: None when too long)."""
    item = _index_key(key, ref)
    if item["pk"]["S"] != key:
        item[_INDEX_KEY] = {"S": key}
    if item["sk"]["S"] != ref.address:
        item[_ADDRESS] = {"S": ref.address}
    if listing is not None:
        item[_TASKS] = {"L": [{"S": task} for task in listing.tasks]}
        if listing.dag_id is not None:
            item[_LISTED_DAG_ID] = {"S": listing.dag_id}
    return item


def _listing(item: dict[str, Any]) -> Listing | None:
    """The listing an index item (or a query's projection of it) holds, if any."""
    if _TASKS not in item:
        return None
    dag_id = item.get(_LISTED_DAG_ID, {}).get("S")
    tasks = tuple(value["S"] for value in item[_TASKS]["L"])
    return Listing(tasks, DagId(dag_id) if dag_id else None)


def _index_entry(item: dict[str, Any]) -> tuple[str, RowRef]:
    """``(reverse-index key, row)`` of an index item (or of a query's projection of it)."""
    key = (item.get(_INDEX_KEY) or item.get("pk") or {}).get("S", "")
    return key, RowRef.from_address((item.get(_ADDRESS) or item["sk"])["S"])


def _state_ref(item: dict[str, Any]) -> RowRef:
    """The row a row-state item describes."""
    if _ADDRESS in item:
        return RowRef.from_address(item[_ADDRESS]["S"])
    return RowRef.from_address(item["pk"]["S"].removeprefix(ROW_PREFIX))
