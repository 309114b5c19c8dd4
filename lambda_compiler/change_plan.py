"""What saving some rows would do, before they are saved: the pure half of `dynadag plan`.

Pure: no boto3, no clock, no environment. Three steps, each a function:

1. `overlay(current, incoming, prune=...)`: the rows the tables would hold once the
   file's rows are written (file rows win; with `prune`, rows of the file's tables that
   the file lacks are deleted), and what happens to each row (new, changed, deleted,
   unchanged);
2. `affected(before, after, changed)`: the job and scheduler rows whose DAG the change
   can alter (they list a changed row, are one, or their problems differ), so only those
   DAGs are rendered;
3. `compare(...)`: per affected DAG, its status against the file now in S3 (new,
   changed, deleted, unchanged, or invalid: its current file stays), the diff, the
   problems introduced and cleared, and warnings people should read before saving.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal

from lambda_compiler.compiler import CompileResult, DagResult, compile_dags
from lambda_compiler.config import DEFAULT_CONFIG, CompilerConfig
from lambda_compiler.context import Kind
from lambda_compiler.file_metadata import sha256_hex
from lambda_compiler.model import DagId
from lambda_compiler.problems import Problem
from lambda_compiler.redact import excerpt
from lambda_compiler.rows import (
    JOB_KEY,
    JOB_TABLE,
    SCHEDULER_KEY,
    SCHEDULER_TABLE,
    TASK_KEY,
    TASK_TABLE,
    Row,
    RowRef,
    row_ref,
)
from lambda_compiler.snapshot import FILE_KEYS, Snapshot
from lambda_compiler.validate import SchedulerPlan, Validated, unused_warning, validate

RowStatus = Literal["new", "changed", "deleted", "unchanged"]
DagStatus = Literal["new", "changed", "deleted", "unchanged", "invalid"]
_ATTRIBUTES = dict(zip(FILE_KEYS, ("tasks", "jobs", "schedulers"), strict=True))
_KEYS = dict(zip(FILE_KEYS, (TASK_KEY, JOB_KEY, SCHEDULER_KEY), strict=True))


def comparable(value: Any) -> Any:
    """A value as DynamoDB gives it back: sets as sorted lists, tuples as lists, floats as
    decimals (so rows compare equal whatever their spelling)."""
    if isinstance(value, (set, frozenset, tuple, list)):
        items = [comparable(v) for v in value]
        return _sorted(items) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items()}
    if isinstance(value, float):
        return Decimal(str(value))
    return value


def same_value(old: Any, new: Any) -> bool:
    """True when two attribute values mean the same: equal as DynamoDB gives them back, or
    a JSON text and the map or list it spells (rows accept both for JSON attributes)."""
    old, new = comparable(old), comparable(new)
    if old == new:
        return True
    for text, value in ((old, new), (new, old)):
        if isinstance(text, str) and isinstance(value, (dict, list)):
            try:
                decoded = json.loads(text, parse_float=Decimal, parse_int=Decimal)
                return bool(comparable(decoded) == value)
            except ValueError:
                return False
    return False


def same_row(old: Row, new: Row) -> bool:
    """True when writing `new` over `old` would change nothing a compile reads."""
    return set(old) == set(new) and all(same_value(old[name], new[name]) for name in old)


def _sorted(items: list[Any]) -> list[Any]:
    try:
        return sorted(items)
    except TypeError:
        return sorted(items, key=repr)


@dataclass(frozen=True)
class RowChange:
    """What writing the file does to one row: `old` is the row now, `new` the row after."""

    ref: RowRef
    table_key: str
    status: RowStatus
    old: Row | None
    new: Row | None

    def differences(self) -> list[tuple[str, Any, Any]]:
        """``(attribute, old value, new value)`` for each attribute that differs (None: absent)."""
        old, new = self.old or {}, self.new or {}
        return [
            (name, old.get(name), new.get(name))
            for name in sorted(set(old) | set(new))
            if not same_value(old.get(name), new.get(name))
        ]

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"row": str(self.ref), "status": self.status}
        if self.status == "changed":
            found["differences"] = [
                {"attribute": name, "old": excerpt(old), "new": excerpt(new)}
                for name, old, new in self.differences()
            ]
        return found


@dataclass(frozen=True)
class Overlay:
    """The rows after the change, and what the change does to each row it names."""

    snapshot: Snapshot
    rows: tuple[RowChange, ...]

    @property
    def changed(self) -> frozenset[RowRef]:
        """The rows a save would write or delete."""
        return frozenset(r.ref for r in self.rows if r.status != "unchanged")

    def with_status(self, *statuses: RowStatus) -> list[RowChange]:
        return [r for r in self.rows if r.status in statuses]


def overlay(current: Snapshot, incoming: Mapping[str, list[Row]], *, prune: bool) -> Overlay:
    """`current` with `incoming`'s rows put over it (keyed ``mwaa_task``, ...).

    A file row replaces the row with its key, as `PutItem` does; with `prune`, a row of a
    table `incoming` names that `incoming` lacks is deleted. Tables `incoming` does not
    name are never pruned.
    """
    tables = dict(
        zip(
            FILE_KEYS,
            (current.tables.task, current.tables.job, current.tables.scheduler),
            strict=True,
        )
    )
    lists: dict[str, list[Row]] = {}
    changes: list[RowChange] = []
    for key in FILE_KEYS:
        table, names = tables[key], _KEYS[key]
        existing = {row_ref(table, names, row): row for row in getattr(current, _ATTRIBUTES[key])}
        if key not in incoming:
            lists[key] = list(existing.values())
            continue
        after = dict(existing)
        written: dict[RowRef, RowChange] = {}
        for row in incoming[key]:
            ref = row_ref(table, names, row)
            old = existing.get(ref)
            if old is None:
                status: RowStatus = "new"
            elif same_row(old, row):
                status = "unchanged"
            else:
                status = "changed"
            written[ref] = RowChange(ref, key, status, old, row)  # the last one wins, as a put
            # An unchanged row is not written: the table keeps its own spelling of it.
            after[ref] = old if old is not None and status == "unchanged" else comparable(row)
        changes.extend(written.values())
        if prune:
            for ref in sorted(set(existing) - set(written)):
                changes.append(RowChange(ref, key, "deleted", existing[ref], None))
                del after[ref]
        lists[key] = list(after.values())
    snapshot = replace(
        current,
        tasks=lists[TASK_TABLE],
        jobs=lists[JOB_TABLE],
        schedulers=lists[SCHEDULER_TABLE],
    )
    return Overlay(snapshot, tuple(changes))


def affected(before: Validated, after: Validated, changed: Collection[RowRef]) -> set[RowRef]:
    """The job and scheduler rows whose DAG `changed` rows can alter, before or after.

    A row is affected when it is changed, lists a changed row, exists on one side only,
    or its problems differ (a new duplicate DAG id, an ambiguous job id); so is any other
    row producing the same DAG id as an affected one.
    """
    found: set[RowRef] = set()
    for ref in set(before.plans) | set(after.plans):
        old, new = before.plans.get(ref), after.plans.get(ref)
        if old is None or new is None:
            found.add(ref)
            continue
        inputs = {ref, *old.inputs, *new.inputs}
        if inputs & set(changed) or sorted(set(old.problems)) != sorted(set(new.problems)):
            found.add(ref)
    dag_ids = {v.plans[r].dag_id for v in (before, after) for r in found if r in v.plans}
    for validated in (before, after):
        found.update(r for r, p in validated.plans.items() if p.dag_id in dag_ids)
    return found


@dataclass(frozen=True)
class PlanWarning:
    """Something a save would do that people should know first; `code` is stable."""

    code: Literal[
        "scheduler-triggers-gone-job",
        "dag-id-change",
        "unused-task",
        "overwrites-row",
        "foreign-file",
    ]
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class DagChange:
    """One affected DAG: its status against the file now in S3, and its problems."""

    dag_id: DagId
    kind: Kind
    status: DagStatus
    row: RowRef
    current: str | None
    source: str | None
    problems: tuple[Problem, ...]
    introduced: tuple[Problem, ...]
    cleared: tuple[Problem, ...]
    key: str

    @property
    def diff(self) -> str:
        """The unified diff from the current file to the new one ("" when the file stays)."""
        if self.status in ("invalid", "unchanged"):
            return ""
        return "".join(
            difflib.unified_diff(
                (self.current or "").splitlines(keepends=True),
                (self.source or "").splitlines(keepends=True),
                fromfile=f"a/{self.key}" if self.current is not None else "/dev/null",
                tofile=f"b/{self.key}" if self.source is not None else "/dev/null",
            )
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "dag_id": self.dag_id,
            "kind": self.kind,
            "status": self.status,
            "row": str(self.row),
            "sha256": sha256_hex(self.source.encode()) if self.source is not None else None,
            "diff": self.diff,
            "problems": [p.to_dict() for p in self.problems],
            "problems_introduced": [p.to_dict() for p in self.introduced],
            "problems_cleared": [p.to_dict() for p in self.cleared],
        }


@dataclass(frozen=True)
class ChangePlan:
    """Everything `dynadag plan` prints: rows, affected DAGs, row problems and warnings."""

    rows: tuple[RowChange, ...]
    dags: tuple[DagChange, ...]
    row_problems: tuple[Problem, ...]
    """Problems of changed rows that build no DAG (unused tasks, rows without a key)."""
    row_problems_cleared: tuple[Problem, ...]
    warnings: tuple[PlanWarning, ...] = field(default_factory=tuple)

    @property
    def problems(self) -> list[Problem]:
        """Every problem the change leaves in the rows it touches, sorted."""
        found = set(self.row_problems)
        for dag in self.dags:
            found.update(dag.problems)
        return sorted(found)

    def count(self, status: str) -> int:
        return sum(1 for dag in self.dags if dag.status == status)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": [r.to_dict() for r in self.rows if r.status != "unchanged"],
            "rows_unchanged": sum(1 for r in self.rows if r.status == "unchanged"),
            "dags": [d.to_dict() for d in self.dags],
            "row_problems": [p.to_dict() for p in self.row_problems],
            "row_problems_cleared": [p.to_dict() for p in self.row_problems_cleared],
            "warnings": [w.to_dict() for w in self.warnings],
            "problems": len(self.problems),
        }


@dataclass(frozen=True)
class CompiledChange:
    """Both sides of a change, validated in full and compiled for the affected rows only."""

    change: Overlay
    before: Validated
    after: Validated
    old: CompileResult
    new: CompileResult

    @property
    def dag_ids(self) -> set[DagId]:
        """The affected DAGs, before and after."""
        return set(self.old.dags) | set(self.new.dags)

    @property
    def row_problems(self) -> set[Problem]:
        """Problems of rows that build no DAG (unused tasks, rows without a usable key)
        that the change introduces or that sit in a row it writes."""
        old, new = _row_problems(self.old), _row_problems(self.new)
        return (new - old) | {p for p in new if p.ref in self.change.changed}

    @property
    def problems(self) -> list[Problem]:
        """Every problem the change leaves in what it touches, sorted: those of the
        affected DAGs after the change, and `row_problems`."""
        found = set(self.row_problems)
        for dag in self.new.dags.values():
            found.update(dag.problems)
        return sorted(found)


def compile_change(
    current: Snapshot,
    incoming: Mapping[str, list[Row]],
    *,
    prune: bool = False,
    config: CompilerConfig = DEFAULT_CONFIG,
) -> CompiledChange:
    """Overlay `incoming` on `current` and compile what the change affects, on both sides."""
    change = overlay(current, incoming, prune=prune)
    before, after = validate(current, config), validate(change.snapshot, config)
    rows = affected(before, after, change.changed)
    return CompiledChange(
        change,
        before,
        after,
        compile_dags(current, only=rows, config=config, validated=before),
        compile_dags(change.snapshot, only=rows, config=config, validated=after),
    )


def compare(
    compiled: CompiledChange,
    files: Mapping[DagId, str | None],
    *,
    prefix: str = "dags/",
    foreign: Collection[DagId] = (),
) -> ChangePlan:
    """The plan of a compiled change, given the current file of each affected DAG
    (`files`; None or absent: no file).

    `foreign` DAG ids have a file dynadag did not write at their key: it is never touched.
    """
    change, old_valid, new_valid = compiled.change, compiled.before, compiled.after
    old, new = compiled.old, compiled.new
    dags = []
    for dag_id in sorted(set(old.dags) | set(new.dags)):
        dags.append(
            _dag_change(
                dag_id, old.dags.get(dag_id), new.dags.get(dag_id), files.get(dag_id), prefix
            )
        )
    by_id = {dag.dag_id: dag for dag in dags}
    touched = change.changed
    warnings = [
        *_gone_job_warnings(old_valid, by_id),
        *_dag_id_warnings(old_valid, new_valid),
        *_unused_warnings(old, new, touched),
        *_overwrite_warnings(change),
        *(
            PlanWarning(
                "foreign-file",
                f"{prefix}{dag_id}.py was not written by dynadag: it is left as it is, "
                "whatever the rows say",
            )
            for dag_id in sorted(set(foreign) & set(by_id))
        ),
    ]
    return ChangePlan(
        rows=change.rows,
        dags=tuple(dags),
        row_problems=tuple(sorted(compiled.row_problems)),
        row_problems_cleared=tuple(sorted(_row_problems(old) - _row_problems(new))),
        warnings=tuple(warnings),
    )


def _row_problems(result: CompileResult) -> set[Problem]:
    found = set(result.unparsable)
    for problems in result.unused.values():
        found.update(problems)
    return found


def _dag_change(
    dag_id: DagId, old: DagResult | None, new: DagResult | None, current: str | None, prefix: str
) -> DagChange:
    status: DagStatus
    if new is None:
        status = "deleted"
    elif not new.ok:
        status = "invalid"
    elif current is None:
        status = "new"
    else:
        status = "unchanged" if current == new.source else "changed"
    shown = new or old
    assert shown is not None
    before = set(old.problems) if old else set()
    after = set(new.problems) if new else set()
    return DagChange(
        dag_id=dag_id,
        kind=shown.kind,
        status=status,
        row=shown.ref,
        current=current,
        source=new.source if new else None,
        problems=tuple(sorted(after)),
        introduced=tuple(sorted(after - before)),
        cleared=tuple(sorted(before - after)),
        key=f"{prefix}{dag_id}.py",
    )


def _gone_job_warnings(before: Validated, dags: Mapping[DagId, DagChange]) -> Iterable[PlanWarning]:
    """A scheduler whose current file stays (it turns invalid) while a job it triggers goes."""
    for plan in before.plans.values():
        if not isinstance(plan, SchedulerPlan):
            continue
        scheduler = dags.get(plan.dag_id)
        if scheduler is None or scheduler.status != "invalid" or scheduler.current is None:
            continue
        for job_plan in plan.jobs:
            job = dags.get(job_plan.dag_id)
            if job is not None and job.status == "deleted":
                yield PlanWarning(
                    "scheduler-triggers-gone-job",
                    f"{plan.dag_id} keeps its current file, which triggers {job.dag_id}; this "
                    f"change deletes {job.dag_id} ({job.row} is disabled, deleted or renamed), "
                    f"so those triggers fail until {plan.scheduler.ref} is fixed",
                )


def _dag_id_warnings(before: Validated, after: Validated) -> Iterable[PlanWarning]:
    for ref, new in sorted(after.plans.items()):
        old = before.plans.get(ref)
        if old is None or old.dag_id == new.dag_id:
            continue
        why = (
            f" (the name {excerpt(new.display_name)} is not a valid DAG id, so the id is "
            "made from the row's key)"
            if new.display_name is not None
            else ""
        )
        yield PlanWarning(
            "dag-id-change",
            f"{ref}: its DAG id changes from {old.dag_id} to {new.dag_id}{why}; {old.dag_id}'s "
            f"file is deleted and Airflow keeps its run history under {old.dag_id}",
        )


def _unused_warnings(
    before: CompileResult, after: CompileResult, touched: frozenset[RowRef]
) -> Iterable[PlanWarning]:
    """Unused task rows the change writes, or that it leaves unused."""
    for ref in sorted(after.unused):
        if ref in touched or ref not in before.unused:
            yield PlanWarning("unused-task", unused_warning(ref))


def _overwrite_warnings(change: Overlay) -> Iterable[PlanWarning]:
    for row in change.with_status("changed"):
        differences = "; ".join(
            f"{name}: {excerpt(old)} -> {excerpt(new)}" for name, old, new in row.differences()
        )
        yield PlanWarning(
            "overwrites-row",
            f"{row.ref}: overwrites a different row in the target tables ({differences})",
        )
