"""What did a stream record change? Stream records → changed rows, lookups and hints.

Pure: no boto3, no clock, no environment. A stream record is only a hint: it names
the row that changed (its table and key) and, through its old and new images, the
DAG ids the row produced before and after. Which rows a DAG *currently* depends on
is decided later from consistent reads (`source.py`) and the registry's reverse
index, whose keys this module defines:

- a job row depends on ``taskref#{task_id}`` for each task it lists;
- a scheduler row depends on ``jobref#{job_ref}`` for each job it lists, written as
  the scheduler writes it (a bare ``job_id`` or ``job_type:job_id``).

So a task change looks up ``taskref#{task_id}`` (the jobs listing the task), a job
change looks up ``jobref#{job_id}`` and ``jobref#{job_type}:{job_id}`` (the
schedulers listing the job) and rebuilds the job itself, and a scheduler change
rebuilds the scheduler. Which DAGs that affects in the end is `affected.py`'s answer.

Rows are addressed in the registry by `RowRef.address`, e.g.
``mwaa_job/job_type=etl/job_id=7``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from lambda_compiler.model import DagId, Job, Scheduler
from lambda_compiler.naming import dag_id_for
from lambda_compiler.parse import parse_job, parse_scheduler
from lambda_compiler.rows import (
    JOB_KEY,
    SCHEDULER_KEY,
    TASK_KEY,
    Row,
    RowRef,
    row_ref,
)
from lambda_compiler.snapshot import TableNames

TableKind = Literal["task", "job", "scheduler"]
KEY_NAMES: dict[TableKind, tuple[str, ...]] = {
    "task": TASK_KEY,
    "job": JOB_KEY,
    "scheduler": SCHEDULER_KEY,
}
TASK_REF = "taskref#"
JOB_REF = "jobref#"


class UnknownTableError(ValueError):
    """A stream record from a table dynadag does not read; the message names it."""


def table_kind(tables: TableNames, table: str) -> TableKind:
    """Which of the three source tables `table` is."""
    kinds: dict[str, TableKind] = {
        tables.task: "task",
        tables.job: "job",
        tables.scheduler: "scheduler",
    }
    if table not in kinds:
        raise UnknownTableError(
            f"records from table {table!r}; expected {tables.task}, {tables.job} "
            f"or {tables.scheduler}"
        )
    return kinds[table]


def table_from_arn(arn: str) -> str:
    """The table name in a stream ARN (``arn:aws:dynamodb:…:table/NAME/stream/…``)."""
    _, _, rest = arn.partition(":table/")
    return rest.split("/", 1)[0]


def ref_of(kind: TableKind, tables: TableNames, row: Row) -> RowRef:
    """The `RowRef` of a decoded row of the `kind` table."""
    return row_ref(getattr(tables, kind), KEY_NAMES[kind], row)


def dag_id_of(kind: TableKind, row: Row | None, tables: TableNames) -> DagId | None:
    """The DAG id a job or scheduler row produces now; None when disabled, gone or keyless.

    The same rule as `validate` (``job-{job_name}`` / ``schedule-{schedule_name}``
    with a key-based fallback), so a partial read agrees with a full compile.
    """
    return dag_id_of_parsed(_parsed(kind, row, tables))


def index_keys(kind: TableKind, row: Row | None, tables: TableNames) -> frozenset[str]:
    """The reverse-index keys an enabled job or scheduler row depends on."""
    return index_keys_of_parsed(_parsed(kind, row, tables))


def dag_id_of_parsed(parsed: Job | Scheduler | None) -> DagId | None:
    """`dag_id_of` for a row already parsed (`parse_job` / `parse_scheduler`)."""
    if parsed is None or not parsed.enabled:
        return None
    if isinstance(parsed, Job):
        return dag_id_for("job", parsed.name, parsed.job_type, parsed.job_id)[0]
    return dag_id_for("schedule", parsed.name, parsed.schedule_id)[0]


def index_keys_of_parsed(parsed: Job | Scheduler | None) -> frozenset[str]:
    """`index_keys` for a row already parsed (`parse_job` / `parse_scheduler`)."""
    if parsed is None or not parsed.enabled:
        return frozenset()
    if isinstance(parsed, Job):
        return frozenset(f"{TASK_REF}{task_id}" for task_id in parsed.task_ids)
    return frozenset(f"{JOB_REF}{job_ref}" for job_ref in parsed.job_refs)


def _parsed(kind: TableKind, row: Row | None, tables: TableNames) -> Job | Scheduler | None:
    if row is None or kind == "task":
        return None
    if kind == "job":
        return parse_job(row, tables.job)[0]
    return parse_scheduler(row, tables.scheduler)[0]


def job_lookup_keys(job_type: str, job_id: str) -> frozenset[str]:
    """The reverse-index keys under which schedulers list a job."""
    return frozenset({f"{JOB_REF}{job_id}", f"{JOB_REF}{job_type}:{job_id}"})


@dataclass(frozen=True)
class Change:
    """One stream record, reduced to what planning needs.

    `owners` are rows to rebuild directly (the job or scheduler itself), `lookups`
    the reverse-index keys whose dependents must be rebuilt too, and `hints` the
    DAG ids the old and new images produced, per owner row (so a file whose id
    changed is deleted even if the registry never saw the row).
    """

    kind: TableKind
    ref: RowRef
    owners: frozenset[RowRef] = frozenset()
    lookups: frozenset[str] = frozenset()
    hints: Mapping[RowRef, frozenset[DagId]] = field(default_factory=dict)


def change_from_record(
    record: Mapping[str, Any], tables: TableNames, decode: Callable[[Mapping[str, Any]], Row]
) -> Change:
    """A `Change` from a Lambda DynamoDB stream record, whose DynamoDB-typed images
    `decode` reads (the adapters' `dynamodb_json.row_of`: the core imports no boto3)."""
    kind = table_kind(tables, table_from_arn(str(record.get("eventSourceARN", ""))))
    body = record.get("dynamodb") or {}
    images = [decode(body[name]) for name in ("OldImage", "NewImage") if body.get(name)]
    keys = decode(body.get("Keys") or {})
    ref = ref_of(kind, tables, keys)
    if kind == "task":
        return Change(kind, ref, lookups=frozenset({f"{TASK_REF}{dict(ref.key)['task_id']}"}))
    hinted = frozenset(d for d in (dag_id_of(kind, image, tables) for image in images) if d)
    lookups: frozenset[str] = frozenset()
    if kind == "job":
        key = dict(ref.key)
        lookups = job_lookup_keys(key["job_type"], key["job_id"])
    return Change(kind, ref, frozenset({ref}), lookups, {ref: hinted} if hinted else {})


def merge_hints(changes: Iterable[Change]) -> dict[RowRef, frozenset[DagId]]:
    """Every change's DAG id hints, per row."""
    merged: dict[RowRef, frozenset[DagId]] = {}
    for change in changes:
        for ref, dag_ids in change.hints.items():
            merged[ref] = merged.get(ref, frozenset()) | dag_ids
    return merged
