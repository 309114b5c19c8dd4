"""One parse per row per round: the manifest of parsed job and scheduler rows.

A round of the incremental build (`affected.Round`) and the deploy-time rebuild read
each row's DAG id and reverse-index keys (planning, registry bookkeeping), validate
it, and render it. The `Manifest` parses each job and scheduler row once, with the
deployment's policy, and hands the same parse to all of them: its `entry` answers
planning and bookkeeping, and it is the `validate.RowParser` of `validate`, whose
plans are what gets rendered. Pure: no I/O.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from lambda_compiler.config import DEFAULT_CONFIG, CompilerConfig
from lambda_compiler.model import DagId, Job, Scheduler
from lambda_compiler.parse import parse_job, parse_scheduler
from lambda_compiler.plan import (
    KEY_NAMES,
    TableKind,
    dag_id_of_parsed,
    index_keys_of_parsed,
)
from lambda_compiler.problems import Problem
from lambda_compiler.registry import Listing, registration_fingerprint
from lambda_compiler.rows import Row, RowRef, row_ref
from lambda_compiler.snapshot import TableNames


@dataclass(frozen=True)
class Entry:
    """One parsed job or scheduler row: what it is, its problems, DAG id and index keys."""

    row: Row
    parsed: Job | Scheduler | None
    problems: tuple[Problem, ...]
    dag_id: DagId | None
    """The DAG id the row produces (None when disabled or keyless)."""
    index_keys: frozenset[str]
    """The reverse-index keys it depends on (`plan.index_keys`)."""

    @functools.cached_property
    def listing(self) -> Listing | None:
        """What the row's reverse-index entries hold of it: a job's task ids and DAG id
        (None for a scheduler, or a job whose list is too long to copy onto them)."""
        if isinstance(self.parsed, Job) and self.index_keys:
            return Listing.of(sorted(set(self.parsed.task_ids)), self.dag_id)
        return None

    @functools.cached_property
    def registered(self) -> str:
        """The fingerprint of the index entries it registers (`RowState.registered`)."""
        return registration_fingerprint(self.index_keys, self.listing)


class Manifest:
    """The parsed job and scheduler rows of one round, each parsed once."""

    def __init__(self, tables: TableNames, config: CompilerConfig = DEFAULT_CONFIG) -> None:
        self.tables = tables
        self.config = config
        self._entries: dict[RowRef, Entry] = {}

    def entry(self, kind: TableKind, row: Row) -> Entry:
        """`row` of the `kind` table ("job" or "scheduler"), parsed on first sight."""
        table = getattr(self.tables, kind)
        ref = row_ref(table, KEY_NAMES[kind], row)
        entry = self._entries.get(ref)
        if entry is None or entry.row is not row:
            parse = parse_job if kind == "job" else parse_scheduler
            parsed, problems = parse(row, table, self.config)
            entry = Entry(
                row,
                parsed,
                tuple(problems),
                dag_id_of_parsed(parsed),
                index_keys_of_parsed(parsed),
            )
            self._entries[ref] = entry
        return entry

    def job(self, row: Row) -> tuple[Job | None, list[Problem]]:
        """A job row as `parse_job` returns it (`validate.RowParser`)."""
        entry = self.entry("job", row)
        job = entry.parsed if isinstance(entry.parsed, Job) else None
        return job, list(entry.problems)

    def scheduler(self, row: Row) -> tuple[Scheduler | None, list[Problem]]:
        """A scheduler row as `parse_scheduler` returns it (`validate.RowParser`)."""
        entry = self.entry("scheduler", row)
        scheduler = entry.parsed if isinstance(entry.parsed, Scheduler) else None
        return scheduler, list(entry.problems)
