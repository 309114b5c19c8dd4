"""The incremental build's executor: the reads and writes the planner asks for.

`DagSync.apply(changes)` is what the Lambda handler (and a fan-out worker) runs for a
batch of changes. It finds the owners of the changes (reverse-index lookups), then
runs rounds of the pure planner (`affected.Round`: which DAGs does a change affect?):
it answers the round's reads (consistent `BatchGetItem` across the tables, `job_id`
GSI lookups, reverse-index queries), sends its registrations in the background,
compiles the owners (`isolation.py`) and settles each DAG as soon as it is rendered
(`settle.py`: publish, delete, keep or hold), remembers the row states, and re-reads
the inputs to decide whether the round must be redone. Why that converges is
explained in `affected.py`.

With `offload` and `offload_above`, a batch whose owners number more than
`offload_above` is not built here: its owner rows are handed to `offload` (e.g. an
SQS fan-out whose workers call `apply` for a few owners each) and its changes complete.

Failures: any exception while compiling or publishing one DAG is that DAG's `error`
outcome (`settle.py`); the other DAGs are still built. Only a transient AWS error
(`aws_errors.is_transient`) fails the changes that led to it, so Lambda retries
them; row content never fails a change. An error while reading fails the group,
which is then retried change by change so unrelated records still succeed; a change
that still fails is retried when the error is transient, otherwise dropped with the
error logged (`dynadag rebuild` settles it once the cause is fixed). Invalid rows
are not failures.

Cost of a one-task change: four sequential round trips (see `affected.py`): the
reverse-index query, whose entries list each job's tasks and DAG id (`Listing`); one
`BatchGetItem`; the put, conditional on the ETag the registry records (no S3 head,
`settle.py`); the verify read with the outcome write beside it (`_recorded` makes a
failed one the DAG's `error`). A DAG whose
inputs key is recorded for the object still in S3 is not rendered (`settle.py`).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from lambda_compiler.affected import (
    Answers,
    Planning,
    Reads,
    Registration,
    Round,
    RowStateWrite,
    owners_of_changes,
)
from lambda_compiler.alerts import Alerter
from lambda_compiler.aws_errors import AWS_ERRORS, RetryableError, is_transient, log_error
from lambda_compiler.batch_get import batch_get
from lambda_compiler.compiler import DagResult, Skipped
from lambda_compiler.config import DEFAULT_CONFIG, CompilerConfig
from lambda_compiler.isolation import CompileCrash, compile_isolated
from lambda_compiler.limits import TEXT_BYTES, clip
from lambda_compiler.model import DagId
from lambda_compiler.outcome import Outcome
from lambda_compiler.plan import Change, merge_hints
from lambda_compiler.publish import Current, DagPublisher
from lambda_compiler.registry import DagRecord, Listing, Registry
from lambda_compiler.rows import RowRef
from lambda_compiler.settings import Settings
from lambda_compiler.settle import DagReport, Settler, needs_head
from lambda_compiler.source import RowSource
from lambda_compiler.wire_items import read_items_from_the_wire

Offload = Callable[[Sequence[RowRef]], None]
"""Hands owner rows to be built elsewhere (e.g. queued for fan-out workers)."""


class NotConvergedError(RetryableError):
    """The inputs kept changing for `max_rounds` rounds; the records are retried later."""


@dataclass
class SyncReport:
    """The result of `DagSync.apply`: per-DAG outcomes, the changes to retry and those
    dropped (an error a retry would not fix), and the owner rows offloaded."""

    dags: dict[DagId, DagReport] = field(default_factory=dict)
    failed: set[int] = field(default_factory=set)
    dropped: set[int] = field(default_factory=set)
    compile_seconds: list[float] = field(default_factory=list)
    rounds: int = 0
    offloaded: int = 0
    causes: dict[DagId, set[int]] = field(default_factory=dict)
    """Per DAG, the changes (by index) that led to it."""

    def count(self, outcome: Outcome) -> int:
        return sum(1 for report in self.dags.values() if report.outcome == outcome)

    @property
    def crashes(self) -> int:
        """DAGs that failed with an unexpected (non-AWS) exception."""
        return sum(1 for report in self.dags.values() if report.crashed)

    def summary(self) -> dict[str, Any]:
        """The report as JSON-safe data: what the handler returns beside its failures."""
        dags = []
        for dag_id, report in sorted(self.dags.items()):
            dags.append({**report.to_dict(), "changes": sorted(self.causes.get(dag_id, ()))})
        return {
            "dags": dags,
            "failed": sorted(self.failed),
            "dropped": sorted(self.dropped),
            "offloaded": self.offloaded,
            "rounds": self.rounds,
        }

    def _add(self, report: DagReport) -> None:
        earlier = self.dags.get(report.dag_id)
        if (
            earlier
            and report.outcome == Outcome.UNCHANGED
            and earlier.outcome in (Outcome.WRITTEN, Outcome.DELETED)
        ):
            return  # a later round found the bytes this batch already wrote
        self.dags[report.dag_id] = report


class DagSync:
    """Runs rounds of read → register → compile → settle → verify for changed rows."""

    def __init__(
        self,
        source: RowSource,
        publisher: DagPublisher,
        registry: Registry,
        alerter: Alerter | None = None,
        *,
        config: CompilerConfig = DEFAULT_CONFIG,
        logger: logging.Logger | Any | None = None,
        max_rounds: int = 4,
        timer: Callable[[], float] = time.perf_counter,
        io_threads: int = 16,
        offload: Offload | None = None,
        offload_above: int | None = None,
    ) -> None:
        self.source = source
        self.publisher = publisher
        self.registry = registry
        self.config = config
        self.tables = source.tables
        self.log = logger or logging.getLogger(__name__)
        self.settler = Settler(publisher, registry, alerter, self.log)
        self.max_rounds = max_rounds
        self.offload = offload
        self.offload_above = offload_above
        self._timer = timer
        self._pool = ThreadPoolExecutor(max_workers=io_threads, thread_name_prefix="dynadag-io")

    def _parallel(self, *calls: Callable[[], Any]) -> list[Any]:
        """Run independent requests at once; their results in order (first error raised)."""
        if len(calls) == 1:
            return [calls[0]()]
        futures = [self._pool.submit(call) for call in calls]
        return [future.result() for future in futures]

    def apply(
        self, changes: Sequence[Change | None], planning: Planning = "incremental"
    ) -> SyncReport:
        """Rebuild what `changes` affect; `None` entries (unusable records) are skipped.

        `planning` is ``full_rebuild`` only for a batch of a run over every row
        (`affected.Planning`: it skips looking up the schedulers of changed jobs).
        """
        report = SyncReport()
        keys = sorted({key for change in changes if change for key in change.lookups})
        lookups = dict(zip(keys, self._parallel(*map(self._lookup, keys)), strict=True))
        seeds, errors = owners_of_changes(changes, lookups)
        # a row changed in this batch is read without its listing: the listing predates
        # the change, and a listed job's row state is trusted for its index entries
        changed = {ref for change in changes if change for ref in change.owners}
        listings = {
            ref: listing
            for found in lookups.values()
            if not isinstance(found, Exception)
            for ref, listing in found.items()
            if listing is not None and ref not in changed
        }
        for index, error in errors.items():
            self._give_up(report, index, error, "reverse index lookup failed")
        seeds, moved = self._largest(seeds)
        hints = merge_hints(c for c in changes if c is not None)
        converge = functools.partial(
            self._converge, hints=hints, report=report, listings=listings, planning=planning
        )
        self._build_seeds(changes, seeds, report, converge)
        self._offload(moved, report)
        return report

    def _build_seeds(
        self,
        changes: Sequence[Change | None],
        seeds: dict[int, set[RowRef]],
        report: SyncReport,
        converge: Callable[[dict[int, set[RowRef]]], None],
    ) -> None:
        """`converge` on `seeds` together; when that fails, change by change."""
        try:
            converge(seeds)
        except Exception as exc:
            if len(seeds) == 1:
                self._give_up(report, next(iter(seeds)), exc, "build failed")
                return
            log_error(self.log, "build of the whole batch failed; retrying change by change", exc)
            for index, owners in seeds.items():
                try:
                    converge({index: owners})
                except Exception as single:
                    self._give_up(report, index, single, "build failed", change=str(changes[index]))

    def _largest(
        self, seeds: dict[int, set[RowRef]]
    ) -> tuple[dict[int, set[RowRef]], dict[int, set[RowRef]]]:
        """The seeds to build here and those to offload: the largest changes move until
        the owners left number at most `offload_above`.

        A change that reaches thousands of rows goes to the fan-out while a small change
        delivered in the same batch (a batching window groups nearby records) is still
        built here, first, so a big change never holds up an unrelated one.
        """
        if self.offload is None or self.offload_above is None:
            return seeds, {}
        keep = dict(seeds)
        moved: dict[int, set[RowRef]] = {}
        for index in sorted(seeds, key=lambda i: (-len(seeds[i]), i)):
            if len(set().union(*keep.values()) if keep else ()) <= self.offload_above:
                break
            moved[index] = keep.pop(index)
        return keep, moved

    def _offload(self, moved: dict[int, set[RowRef]], report: SyncReport) -> None:
        """Hand the owners of the `moved` changes to `offload`."""
        owners = sorted(set().union(*moved.values())) if moved else []
        if not owners or self.offload is None:
            return
        try:
            self.offload(owners)
        except Exception as exc:
            for index in moved:
                self._give_up(report, index, exc, "offloading the owners failed")
            return
        report.offloaded = len(owners)
        self.log.info("owners offloaded", extra={"owners": len(owners), "changes": len(moved)})

    def _give_up(
        self, report: SyncReport, index: int, exc: Exception, message: str, **context: Any
    ) -> None:
        """Fail change `index` when a retry may help (`exc` is transient), else drop it."""
        if is_transient(exc):
            log_error(self.log, message, exc, **context)
            report.failed.add(index)
            return
        self.log.exception(
            "%s; the change is dropped (a retry would fail again): run `dynadag rebuild` "
            "once the cause is fixed",
            message,
            exc_info=exc,
            extra={**context, "error": clip(f"{type(exc).__name__}: {exc}", TEXT_BYTES)},
        )
        report.dropped.add(index)

    def _lookup(self, key: str) -> Callable[[], dict[RowRef, Listing | None] | Exception]:
        """A reverse-index query (rows and their listings) that returns its AWS error
        instead of raising."""

        def query() -> dict[RowRef, Listing | None] | Exception:
            try:
                return self.registry.listed([key])
            except AWS_ERRORS as exc:
                return exc

        return query

    def _converge(
        self,
        seeds: dict[int, set[RowRef]],
        hints: dict[RowRef, frozenset[DagId]],
        report: SyncReport,
        listings: Mapping[RowRef, Listing],
        planning: Planning,
    ) -> None:
        """Rounds until one's inputs are unchanged after it wrote.

        Per round: registrations, then S3 writes, land before the verify read; the DAG
        items' outcomes are written alongside it (`affected.py` says why that is safe).
        """
        owners = set().union(*seeds.values()) if seeds else set()
        if not owners:
            return
        for number in range(self.max_rounds):
            report.rounds += 1
            listed = {ref: listings[ref] for ref in sorted(owners) if ref in listings}
            plan, registrations, removals = self._gather(
                owners, hints, listed, planning, redo=number > 0
            )
            outcomes: dict[DagId, Future[None]] = {}
            failed = self._build(plan, report, outcomes)
            for dag_id, refs in plan.settle.items():
                origins = plan.origins(refs)
                causes = report.causes.setdefault(dag_id, set())
                causes.update(i for i, owners in seeds.items() if owners & origins)
            for registration in registrations:
                registration.result()
            remember = [self._remember_call(write) for write in plan.row_state_writes(failed)]
            if remember:
                self._parallel(*remember)
            skipped = plan.origins(failed)
            removed = [self._register(r) for r in removals if r.ref not in skipped]
            verified = None if failed else self._fetch(plan.verify_reads())
            for removal in removed:
                removal.result()
            failed |= self._recorded(plan, report, outcomes)
            if failed:
                failed_origins = plan.origins(failed)
                report.failed.update(i for i, refs in seeds.items() if refs & failed_origins)
                return
            if verified is not None and plan.unchanged(verified):
                return
            owners = plan.owners
        raise NotConvergedError(f"inputs kept changing over {self.max_rounds} rounds")

    # --- reads and registrations ----------------------------------------------------

    def _gather(
        self,
        seeds: set[RowRef],
        hints: dict[RowRef, frozenset[DagId]],
        listings: Mapping[RowRef, Listing],
        planning: Planning,
        redo: bool = False,
    ) -> tuple[Round, list[Future[None]], list[Registration]]:
        """Answer the round's reads; its registrations, sent in the background, and the
        index removals, held back.

        Registrations only need to land before the verify step reads again (see
        `affected.py`), so they overlap compiling and publishing; they land before the
        row states, whose `registered` fingerprints say they are in place. Index entries
        are removed only once the row states that no longer list them are written.
        """
        plan = Round(seeds, hints, self.tables, self.config, listings, planning, redo)
        registrations: list[Future[None]] = []
        removals: list[Registration] = []

        def send(taken: list[Registration]) -> None:
            removals.extend(r for r in taken if r.kind == "remove_index")
            registrations.extend(self._register(r) for r in taken if r.kind != "remove_index")

        reads = plan.next_reads()
        while reads is not None:
            send(plan.take_registrations())
            reads = plan.next_reads(self._fetch(reads))
        send(plan.take_registrations())
        return plan, registrations, removals

    def _register(self, registration: Registration) -> Future[None]:
        """Send one registry write to the I/O pool."""
        registry, ref, kind = self.registry, registration.ref, registration.kind
        if kind == "add_index":
            return self._pool.submit(
                registry.add_index, ref, registration.keys, registration.listing
            )
        if kind == "remove_index":
            return self._pool.submit(registry.remove_index, ref, registration.keys)
        assert registration.dag_id is not None
        claim = registry.claim if kind == "claim" else registry.release
        return self._pool.submit(claim, registration.dag_id, ref)

    def _fetch(self, reads: Reads) -> Answers:
        """Answer `reads`: GSI and reverse-index queries run on the I/O pool while rows and
        registry items are read in shared consistent `BatchGetItem` calls."""
        job_keys = {j: self._pool.submit(self.source.job_keys, j) for j in reads.job_ids}
        dependents = {
            ref: self._pool.submit(self.registry.dependents, keys)
            for ref, keys in sorted(reads.dependents.items())
        }
        answers = Answers()
        keys = self.source.row_keys(reads.rows)
        registry_keys = self.registry.keys(
            states=reads.states, records=reads.records, index=reads.index
        )
        if registry_keys:
            keys[self.registry.table] = registry_keys
        if keys:
            items = batch_get(self.source.client, keys, self._pool)
            answers.rows = self.source.parse_rows(reads.rows, items)
            answers.registry = self.registry.parse(items.get(self.registry.table, []))
        answers.job_keys = {j: future.result() for j, future in job_keys.items()}
        answers.dependents = {ref: future.result() for ref, future in dependents.items()}
        return answers

    # --- compile and settle ---------------------------------------------------------

    def _heads(self, dag_ids: Iterable[DagId]) -> dict[DagId, Future[Current | None]]:
        """Look up the S3 objects of `dag_ids` on the I/O pool."""
        current, key = self.publisher.current, self.publisher.key
        return {dag_id: self._pool.submit(current, key(dag_id)) for dag_id in sorted(dag_ids)}

    def _build(
        self, plan: Round, report: SyncReport, outcomes: dict[DagId, Future[None]]
    ) -> set[RowRef]:
        """Compile the owners and settle each DAG; the owners that failed.

        Each DAG is settled (in the background) as soon as it is rendered, while the
        next one renders; the S3 objects settling will look at whatever the DAGs compile
        to (`settle.needs_head`) are looked up meanwhile (the others are put on their
        recorded ETag, or looked up when settled). A published DAG's outcome write is
        left running in `outcomes` (see `_recorded`).
        """
        heads = self._heads(d for d in plan.settle if needs_head(plan.records.get(d)))

        def settle(
            dag_id: DagId, dag: DagResult | Skipped | CompileCrash | None
        ) -> Future[DagReport]:
            def later(write: Callable[[], None]) -> None:
                outcomes[dag_id] = self._pool.submit(write)

            return self._pool.submit(
                self.settler.settle,
                dag_id,
                dag,
                plan.records.get(dag_id),
                heads.get(dag_id),
                later,
            )

        assert plan.validated is not None
        started = self._timer()
        recorded = recorded_keys(plan.records.values())
        settling = {
            dag.dag_id: settle(dag.dag_id, dag)
            for dag in compile_isolated(plan.validated, plan.only, self.config, recorded)
        }
        report.compile_seconds.append(self._timer() - started)
        for dag_id in sorted(set(plan.settle) - settling.keys()):
            settling[dag_id] = settle(dag_id, None)
        failed: set[RowRef] = set()
        for dag_id in sorted(settling):
            dag_report = settling[dag_id].result()
            report._add(dag_report)
            if dag_report.retry:
                failed |= plan.settle.get(dag_id, set())
        return failed

    def _recorded(
        self, plan: Round, report: SyncReport, outcomes: dict[DagId, Future[None]]
    ) -> set[RowRef]:
        """Wait for the outcome writes; a failed one is its DAG's `error` (the owners
        that failed, when a retry may help)."""
        failed: set[RowRef] = set()
        for dag_id, write in sorted(outcomes.items()):
            error = write.exception()
            if not isinstance(error, Exception):
                continue
            inputs = sorted(plan.settle.get(dag_id, ()))
            dag_report = self.settler.failure(dag_id, error, plan.records.get(dag_id), inputs)
            report.dags[dag_id] = dag_report
            if dag_report.retry:
                failed |= plan.settle.get(dag_id, set())
        return failed

    def _remember_call(self, write: RowStateWrite) -> Callable[[], None]:
        """The registry write that remembers (or forgets) one row's state."""
        if write.state is None:
            return functools.partial(self.registry.delete_row_state, write.ref)
        return functools.partial(self.registry.put_row_state, write.ref, write.state)


def recorded_keys(records: Iterable[DagRecord | None]) -> dict[DagId, str]:
    """Per DAG, the `inputs_key` of a file in S3 that need not be compiled again when
    its inputs are the same (`DagRecord.reusable_key`)."""
    return {r.dag_id: r.reusable_key for r in records if r is not None and r.reusable_key}


def build_sync(
    settings: Settings,
    logger: logging.Logger | Any | None = None,
    session: Any | None = None,
    *,
    offload: Offload | None = None,
    offload_above: int | None = None,
) -> DagSync:
    """A `DagSync` with boto3 clients for `settings` (call once per container).

    `session` is a `boto3.Session` (default: boto3's default session).
    """
    import boto3
    from botocore.config import Config

    make = (session or boto3).client
    config = Config(retries={"mode": "standard"}, connect_timeout=5, read_timeout=20)
    dynamodb = make("dynamodb", config=config)
    read_items_from_the_wire(dynamodb)
    alerter = None
    if settings.alert_topic_arn:
        alerter = Alerter(make("sns", config=config), settings.alert_topic_arn)
    return DagSync(
        RowSource(dynamodb, settings.tables, settings.job_id_index),
        DagPublisher(make("s3", config=config), settings.bucket, settings.dags_prefix),
        Registry(dynamodb, settings.registry_table),
        alerter,
        config=settings.compiler,
        logger=logger,
        offload=offload,
        offload_above=offload_above,
    )
