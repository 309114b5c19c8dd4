"""Lineage: which rows make a DAG, which DAGs depend on a row, and why a DAG is missing.

Pure (no boto3, no clock, no environment). `lineage` checks a snapshot the way the
compiler does (`validate.validate`) and adds what the compiler leaves out: the DAG id a
*disabled* job or scheduler would produce, the row that disables it, why the id is
what it is (from the name, or the key-based fallback) and which schedulers list a job.
`uses` walks the registry's reverse index (`plan.py` defines its keys) from a row to
the rows whose DAGs depend on it: task → jobs listing it → schedulers listing those.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from lambda_compiler.config import DEFAULT_CONFIG, CompilerConfig
from lambda_compiler.model import DagId, Job, Scheduler, Task, TaskId
from lambda_compiler.naming import DAG_ID_PREFIX, NAME_ATTRIBUTE, DagKind, dag_id_for
from lambda_compiler.parse import parse_job, parse_scheduler, parse_task
from lambda_compiler.plan import (
    KEY_NAMES,
    TASK_REF,
    TableKind,
    job_lookup_keys,
)
from lambda_compiler.problems import Problem
from lambda_compiler.redact import excerpt
from lambda_compiler.rows import Row, RowRef
from lambda_compiler.snapshot import Snapshot, TableNames
from lambda_compiler.validate import Plan, validate


class RowReferenceError(ValueError):
    """A row reference that names no table or not the table's key; the message says how."""


def parse_row_reference(words: Sequence[str], tables: TableNames) -> RowRef:
    """A `RowRef` from ``mwaa_task[task_id='4']`` or from ``mwaa_job etl 7``.

    The table may be its configured name or its kind (``task``, ``job``, ``scheduler``).
    """
    if len(words) == 1 and "[" in words[0]:
        return _parse_bracketed(words[0], tables)
    if not words:
        raise RowReferenceError("name a table and its key values, e.g. mwaa_task 4")
    kind = _kind(words[0], tables)
    names = KEY_NAMES[kind]
    values = list(words[1:])
    if len(values) != len(names):
        raise RowReferenceError(
            f"{getattr(tables, kind)} rows are keyed by {', '.join(names)}: "
            f"give {len(names)} value(s), got {len(values)}"
        )
    return RowRef(getattr(tables, kind), tuple(zip(names, values, strict=True)))


def _kind(word: str, tables: TableNames) -> TableKind:
    kinds: dict[str, TableKind] = {
        tables.task: "task",
        tables.job: "job",
        tables.scheduler: "scheduler",
        "task": "task",
        "job": "job",
        "scheduler": "scheduler",
    }
    if word not in kinds:
        raise RowReferenceError(
            f"unknown table {word!r}: expected {tables.task}, {tables.job} or {tables.scheduler}"
        )
    return kinds[word]


def _parse_bracketed(text: str, tables: TableNames) -> RowRef:
    """``table[name='value', ...]`` as `str(RowRef)` prints it (parsed, never evaluated)."""
    table, _, rest = text.partition("[")
    kind = _kind(table, tables)
    try:
        call = ast.parse(f"f({rest.removesuffix(']')})", mode="eval").body
    except SyntaxError:
        call = None
    if not rest.endswith("]") or not isinstance(call, ast.Call) or call.args:
        raise RowReferenceError(
            f"{excerpt(text)} is not a row reference like {tables.task}[task_id='4']"
        )
    given: dict[str, str] = {}
    for keyword in call.keywords:
        value = keyword.value
        if keyword.arg is None or not (
            isinstance(value, ast.Constant) and type(value.value) in (str, int)
        ):
            raise RowReferenceError(f"{excerpt(text)}: key values must be quoted text or numbers")
        given[keyword.arg] = str(value.value)
    names = KEY_NAMES[kind]
    if set(given) != set(names):
        raise RowReferenceError(
            f"{getattr(tables, kind)} rows are keyed by {', '.join(names)}, "
            f"not {', '.join(given) or 'nothing'}"
        )
    return RowRef(getattr(tables, kind), tuple((name, given[name]) for name in names))


@dataclass(frozen=True)
class DagRow:
    """A job or scheduler row and the DAG it produces (or would produce, were it enabled).

    `disabled_by` is the row's own ``status`` when that disables it (the DAG is then
    deleted); `blocked_by` are disabled rows it lists (the DAG is then invalid and its
    last good file stays). `triggered_by` are the schedulers listing a job, enabled or not.
    """

    ref: RowRef
    kind: DagKind
    dag_id: DagId
    name: str | None
    id_reason: str
    fallback: bool
    disabled_by: str | None = None
    blocked_by: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()
    triggered_by: tuple[RowRef, ...] = ()

    @property
    def enabled(self) -> bool:
        return self.disabled_by is None


@dataclass(frozen=True)
class Lineage:
    """Every job and scheduler row of a snapshot with its DAG, plus the compiler's plans."""

    rows: dict[RowRef, DagRow]
    plans: dict[RowRef, Plan]
    tables: TableNames

    def for_dag(self, dag_id: str) -> list[DagRow]:
        """The rows producing `dag_id` (or that would, when disabled), in key order."""
        return self._by_dag.get(dag_id, [])

    def disabled_reason(self, dag_id: str) -> str | None:
        """``disabled by ROW status=0`` when only disabled rows produce `dag_id`, else None."""
        return disabled_reason(self.for_dag(dag_id))

    @functools.cached_property
    def _by_dag(self) -> dict[str, list[DagRow]]:
        by_dag: dict[str, list[DagRow]] = {}
        for _, row in sorted(self.rows.items()):
            by_dag.setdefault(row.dag_id, []).append(row)
        return by_dag


def disabled_reason(rows: list[DagRow]) -> str | None:
    """``disabled by ROW status=0, ...`` when `rows` are all disabled, else None."""
    if rows and not any(row.enabled for row in rows):
        return "disabled by " + ", ".join(row.disabled_by or "" for row in rows)
    return None


def lineage(snapshot: Snapshot, config: CompilerConfig = DEFAULT_CONFIG) -> Lineage:
    """The lineage of every job and scheduler row in `snapshot`."""
    tables = snapshot.tables
    validated = validate(snapshot, config)
    tasks: dict[TaskId, tuple[Task, Row]] = {}
    for row in snapshot.tasks:
        task, _ = parse_task(row, tables.task, config)
        if task is not None:
            tasks.setdefault(task.task_id, (task, row))
    jobs = _parsed(snapshot.jobs, tables.job, parse_job, config)
    schedulers = _parsed(snapshot.schedulers, tables.scheduler, parse_scheduler, config)
    found: dict[RowRef, DagRow] = {}
    for job, row in jobs:
        blocked = [
            _status_text(tasks[task_id][0].ref, tasks[task_id][1])
            for task_id in job.task_ids
            if task_id in tasks and not tasks[task_id][0].enabled
        ]
        triggered = tuple(sorted(s.ref for s, _ in schedulers if _lists(s, job)))
        key: tuple[str, ...] = (job.job_type, job.job_id)
        found[job.ref] = _dag_row("job", job, row, key, validated.plans, blocked, triggered)
    for scheduler, row in schedulers:
        blocked = [
            _status_text(job.ref, job_row)
            for job, job_row in jobs
            if _lists(scheduler, job) and not job.enabled
        ]
        key = (scheduler.schedule_id,)
        found[scheduler.ref] = _dag_row("scheduler", scheduler, row, key, validated.plans, blocked)
    return Lineage(found, validated.plans, tables)


def _parsed(
    rows: list[Row],
    table: str,
    parse: Callable[[Row, str, CompilerConfig], tuple[Any, list[Problem]]],
    config: CompilerConfig,
) -> list[tuple[Any, Row]]:
    parsed = []
    for row in rows:
        record, _ = parse(row, table, config)
        if record is not None:
            parsed.append((record, row))
    return parsed


def _lists(scheduler: Scheduler, job: Job) -> bool:
    """True when `scheduler`'s job_list names `job` (``job_id`` or ``job_type:job_id``)."""
    for job_ref in scheduler.job_refs:
        job_type, _, job_id = job_ref.rpartition(":")
        if job_id == job.job_id and job_type in ("", job.job_type):
            return True
    return False


def _dag_row(
    kind: DagKind,
    record: Job | Scheduler,
    row: Row,
    key: tuple[str, ...],
    plans: Mapping[RowRef, Plan],
    blocked: list[str],
    triggered: tuple[RowRef, ...] = (),
) -> DagRow:
    prefix, attribute = DAG_ID_PREFIX[kind], NAME_ATTRIBUTE[kind]
    name = record.name
    dag_id, display = dag_id_for(prefix, name, *key)
    plan = plans.get(record.ref)
    fallback = name is None or display is not None
    if name is None:
        reason = f"fallback {prefix}-{'-'.join(_KEY_PARTS[kind])}: the row has no {attribute}"
    elif fallback:
        reason = (
            f"fallback {prefix}-{'-'.join(_KEY_PARTS[kind])}: {attribute} {excerpt(name)} "
            f"does not make a valid DAG id ({prefix}-{{{attribute}}})"
        )
    else:
        reason = f"from {attribute} {excerpt(name)}"
    return DagRow(
        ref=record.ref,
        kind=kind,
        dag_id=plan.dag_id if plan is not None else dag_id,
        name=name,
        id_reason=reason,
        fallback=fallback,
        disabled_by=None if record.enabled else _status_text(record.ref, row),
        blocked_by=tuple(blocked),
        problems=tuple(plan.problems) if plan is not None else (),
        triggered_by=triggered,
    )


_KEY_PARTS: dict[DagKind, tuple[str, ...]] = {
    "job": ("{job_type}", "{job_id}"),
    "scheduler": ("{schedule_id}",),
}


def _status_text(ref: RowRef, row: Row) -> str:
    """``mwaa_job[job_type='etl', job_id='7'] status=0``."""
    value = row.get("status")
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return f"{ref} status={value}"
    return f"{ref} status={excerpt(value)}"


# --- why a DAG the registry knows is gone -----------------------------------------------


def missing_reason(dag_id: str, sources: Iterable[str], found: Lineage) -> str:
    """Why no enabled row produces `dag_id` (`sources`: its registry record's row addresses).

    Disabled by a row's status; renamed (the row now produces another DAG id); or its
    row was deleted.
    """
    disabled = found.disabled_reason(dag_id)
    if disabled:
        return disabled
    rows = found.for_dag(dag_id)
    if rows:
        return f"produced again by {', '.join(str(row.ref) for row in rows)} (not yet rebuilt)"
    owner_tables = (found.tables.job, found.tables.scheduler)
    owners = [ref for ref in map(RowRef.from_address, sources) if ref.table in owner_tables]
    for ref in owners:
        row = found.rows.get(ref)
        if row is not None:
            return f"renamed: {ref} now produces {row.dag_id} ({row.id_reason})"
    if owners:
        return f"{owners[0]} was deleted"
    return "no row produces it any more"


# --- what depends on a row (the registry's reverse index) -------------------------------


@dataclass(frozen=True)
class Use:
    """A row whose DAG depends on the row asked about, and the row it depends through."""

    ref: RowRef
    kind: DagKind
    via: RowRef | None


def uses(
    ref: RowRef, kind: TableKind, dependents: Callable[[Iterable[str]], set[RowRef]]
) -> list[Use]:
    """The job and scheduler rows whose DAGs depend on `ref`, transitively, in walk order.

    `dependents` answers the registry's reverse index (``Registry.dependents``): a task
    is listed by jobs, a job by schedulers. A job or scheduler row depends on itself.
    """
    found: list[Use] = []
    if kind == "scheduler":
        return [Use(ref, "scheduler", None)]
    if kind == "task":
        jobs = sorted(dependents({f"{TASK_REF}{dict(ref.key)['task_id']}"}))
        found.extend(Use(job, "job", ref) for job in jobs)
    else:
        jobs = [ref]
        found.append(Use(ref, "job", None))
    seen: set[RowRef] = set()
    for job in jobs:
        key = dict(job.key)
        lookups = job_lookup_keys(key.get("job_type", ""), key.get("job_id", ""))
        for scheduler in sorted(dependents(lookups)):
            if scheduler not in seen:
                seen.add(scheduler)
                found.append(Use(scheduler, "scheduler", job))
    return found


MissingState = Literal["disabled", "deleted"]


@dataclass(frozen=True)
class Missing:
    """A DAG no enabled row produces: `state` is ``disabled`` or ``deleted``, with why."""

    dag_id: str
    kind: str | None
    state: MissingState
    reason: str


def missing_dags(
    found: Lineage, records: Mapping[DagId, tuple[str | None, str | None, Sequence[str]]]
) -> list[Missing]:
    """Disabled rows' DAGs and the registry's deleted DAGs, with their reasons, by DAG id.

    `records` maps each DAG id the registry knows to ``(kind, outcome, source rows)``. A
    disabled row whose DAG the registry still lists as live is left to `status` itself.
    """
    missing: dict[str, Missing] = {}
    for dag_id, (kind, outcome, sources) in records.items():
        if outcome == "deleted":
            state: MissingState = "disabled" if found.disabled_reason(dag_id) else "deleted"
            reason = missing_reason(dag_id, sources, found)
            missing[dag_id] = Missing(dag_id, kind, state, reason)
    for row in found.rows.values():
        disabled = found.disabled_reason(row.dag_id)
        if disabled and row.dag_id not in records:
            missing[row.dag_id] = Missing(row.dag_id, row.kind, "disabled", disabled)
    return [missing[dag_id] for dag_id in sorted(missing)]
