"""The incremental build: bring the DAG files of some changed rows in line with the tables.

`DagSync.apply(changes)` is what the Lambda handler runs for a batch of stream
records. It is **state-based**: a record only names rows; what a DAG contains always
comes from consistent reads of the current rows. One pass ("round") goes:

1. **Owners.** The job and scheduler rows to rebuild: the changed rows themselves,
   the jobs listing a changed task and the schedulers listing a changed job (the
   registry's reverse index: ``taskref#``/``jobref#``), every other row that claims
   one of their DAG ids (duplicates across rows are found through the registry's
   ``dag#`` claims, not by scanning), and the schedulers of a job whose DAG id or
   validity changed since its last build.
2. **Read and register.** Each owner's dependencies are read with consistent reads,
   together with its reverse-index entries and the claims of its DAG ids (one
   `BatchGetItem` across the tables where possible): tasks of jobs; jobs of schedulers
   (a bare job id resolves through the `job_id` GSI, confirmed by consistent reads, plus
   any job row of the batch with that id); the rows claiming the same DAG ids. Index
   entries and claims the registry does not hold yet are written (stale ones removed)
   in the background; they land before step 4.
3. **Compile** the partial snapshot (validated once, for planning and compiling) for
   `only=owners` and publish each DAG as soon as it is rendered, while the next one
   renders (the S3 objects are looked up meanwhile): put when the bytes changed,
   delete when no row produces the DAG any more, keep the last good file when the DAG
   is invalid. Record the outcome in the registry.
4. **Verify.** Re-read every input (rows, GSI answers, claims). If anything changed
   since step 2, run another round (up to `max_rounds`; beyond that the records
   fail and Lambda retries them).

Why this converges under duplicates, reordering and concurrency: whoever writes a
row commits it *before* its stream record exists, and a builder's registrations
(index entries, claims) are in the registry before its verify read: written by it,
or already read there. (A registration removed after that read was removed by a
build that read another version of the row, after this version was committed: if
that version is newer, this round's verify sees the row changed; if older, that
build's verify does; the redone round reads the registry again and writes what is
missing. A lost claim also shows in the verify's claims comparison.)
Take a new task T and a job J listing it, built by different workers. Either T's
worker finds J in the index (and rebuilds J after T was written), or it looked
before J's registration landed; then T was written before J's verify read, so J's
verify sees T changed and J is rebuilt.
The same holds for two rows claiming one DAG id: at least one of the two verifies
sees both claims. A round whose inputs changed while it wrote is redone, so the last
write to S3 and to the registry always comes from a round whose inputs were still
current after it wrote. Duplicate or replayed records rebuild a DAG whose bytes are
unchanged: no S3 write. The residual gap is GSI lag for a brand-new job listed by a
brand-new scheduler written within the same instant by different workers; a
deploy-time `dynadag rebuild` settles any such leftover.

Failures: any exception while compiling or publishing one DAG (an AWS error, or an
unexpected one: a compiler bug, a row value nobody foresaw) marks that DAG `error`,
recorded, logged and alerted once; the other DAGs are still built. Only a transient
AWS error (throttling, 5xx, timeouts, lost connections) fails the changes that led to
it, so Lambda retries them; row content never fails a change. An error while reading
fails the group, which is then retried change by change so unrelated records still
succeed; a change that still fails is retried when the error is transient, otherwise
dropped with the error logged (`dynadag rebuild` settles it once the cause is fixed).
Invalid rows are not failures.

A DAG pinned by a rollback (`DagRecord.pinned`) keeps its file: its rows are still
compiled, and their problems and would-be sha256 recorded (outcome ``pinned``), but
nothing is published or deleted until the pin is released.
"""

from __future__ import annotations

import functools
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError, IncompleteReadError
from botocore.exceptions import ConnectionError as AwsConnectionError

from lambda_compiler import __version__
from lambda_compiler.alerts import Alerter
from lambda_compiler.batch_get import batch_get
from lambda_compiler.compiler import DagResult
from lambda_compiler.config import DEFAULT_CONFIG, CompilerConfig
from lambda_compiler.isolation import CompileCrash, compile_isolated
from lambda_compiler.limits import TEXT_BYTES, bounded_problems, clip
from lambda_compiler.model import DagId
from lambda_compiler.parse import parse_job, parse_scheduler
from lambda_compiler.plan import (
    Change,
    RowState,
    dag_id_of,
    dependents_needed,
    index_keys,
    job_lookup_keys,
    merge_hints,
    parse_row_address,
    row_address,
)
from lambda_compiler.problems import Problem, ProblemCode
from lambda_compiler.publish import Current, DagPublisher
from lambda_compiler.registry import DagRecord, OutcomeRecord, Registry, RegistryItems
from lambda_compiler.rows import Row, RowRef
from lambda_compiler.settings import Settings
from lambda_compiler.snapshot import Snapshot
from lambda_compiler.source import RowSource
from lambda_compiler.validate import Validated, validate

AWS_ERRORS = (ClientError, BotoCoreError)
TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "SlowDown",
        "RequestTimeout",
        "InternalError",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionConflictException",
    }
)
DagOutcome = Literal["written", "unchanged", "deleted", "invalid", "error", "pinned"]


def is_transient(exc: BaseException) -> bool:
    """Throttling, 5xx, timeouts, lost connections and inputs that kept changing: a retry
    of the same records may succeed (anything else would fail the same way again)."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return error.get("Code") in TRANSIENT_CODES or status >= 500
    return isinstance(
        exc, (AwsConnectionError, HTTPClientError, IncompleteReadError, NotConvergedError)
    )


class NotConvergedError(RuntimeError):
    """The inputs kept changing for `max_rounds` rounds; the records are retried later."""


@dataclass(frozen=True)
class DagReport:
    """What happened to one DAG in a batch.

    For an `error`: `retry` when it was a transient AWS error (its changes are
    retried), `crashed` when it was not an AWS error at all.
    """

    dag_id: DagId
    outcome: DagOutcome
    problems: tuple[str, ...] = ()
    error: str | None = None
    foreign_file: bool = False
    """A file dynadag did not write is at the DAG's key; it was left alone."""
    retry: bool = False
    crashed: bool = False


@dataclass
class SyncReport:
    """The result of `DagSync.apply`: per-DAG outcomes, the changes to retry and those
    dropped (an error a retry would not fix)."""

    dags: dict[DagId, DagReport] = field(default_factory=dict)
    failed: set[int] = field(default_factory=set)
    dropped: set[int] = field(default_factory=set)
    compile_seconds: list[float] = field(default_factory=list)
    rounds: int = 0

    def count(self, outcome: DagOutcome) -> int:
        return sum(1 for report in self.dags.values() if report.outcome == outcome)

    @property
    def crashes(self) -> int:
        """DAGs that failed with an unexpected (non-AWS) exception."""
        return sum(1 for report in self.dags.values() if report.crashed)

    def _add(self, report: DagReport) -> None:
        earlier = self.dags.get(report.dag_id)
        if earlier and report.outcome == "unchanged" and earlier.outcome in ("written", "deleted"):
            return  # a later round found the bytes this batch already wrote
        self.dags[report.dag_id] = report


@dataclass
class _Round:
    """Everything one round read, registered and decided."""

    owners: set[RowRef] = field(default_factory=set)
    parents: dict[RowRef, set[RowRef]] = field(default_factory=lambda: defaultdict(set))
    rows: dict[RowRef, Row | None] = field(default_factory=dict)
    states: dict[RowRef, RowState] = field(default_factory=dict)
    current: dict[RowRef, DagId | None] = field(default_factory=dict)
    deps: dict[RowRef, frozenset[str]] = field(default_factory=dict)
    settle: dict[DagId, set[RowRef]] = field(default_factory=lambda: defaultdict(set))
    records: dict[DagId, DagRecord | None] = field(default_factory=dict)
    own_claims: dict[DagId, dict[str, bool]] = field(default_factory=lambda: defaultdict(dict))
    job_keys: dict[str, frozenset[RowRef]] = field(default_factory=dict)
    valid: dict[RowRef, bool] = field(default_factory=dict)
    expanded: set[RowRef] = field(default_factory=set)
    index: set[tuple[str, RowRef]] = field(default_factory=set)
    validated: Validated | None = None

    def claims(self, dag_id: DagId) -> frozenset[str]:
        """The rows claiming `dag_id`: as read, with this round's own claims applied."""
        record = self.records.get(dag_id)
        claims = set(record.claims if record else ())
        for address, claimed in self.own_claims.get(dag_id, {}).items():
            (claims.add if claimed else claims.discard)(address)
        return frozenset(claims)

    def origins(self, refs: Iterable[RowRef]) -> set[RowRef]:
        """`refs` and every owner that pulled them in, transitively."""
        seen: set[RowRef] = set()
        stack = list(refs)
        while stack:
            ref = stack.pop()
            if ref not in seen:
                seen.add(ref)
                stack.extend(self.parents.get(ref, ()))
        return seen


class DagSync:
    """Runs rounds of register → read → compile → publish → verify for changed rows."""

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
        offload: Callable[[Sequence[RowRef]], None] | None = None,
        offload_above: int = 0,
    ) -> None:
        self.offload = offload
        self.offload_above = offload_above
        self.source = source
        self.publisher = publisher
        self.registry = registry
        self.alerter = alerter
        self.config = config
        self.tables = source.tables
        self.log = logger or logging.getLogger(__name__)
        self.max_rounds = max_rounds
        self._timer = timer
        self._pool = ThreadPoolExecutor(max_workers=io_threads, thread_name_prefix="dynadag-io")

    def _parallel(self, *calls: Callable[[], Any]) -> list[Any]:
        """Run independent requests at once; their results in order (first error raised)."""
        if len(calls) == 1:
            return [calls[0]()]
        futures = [self._pool.submit(call) for call in calls]
        return [future.result() for future in futures]

    def apply(self, changes: Sequence[Change | None]) -> SyncReport:
        """Rebuild what `changes` affect; `None` entries (unusable records) are skipped."""
        report = SyncReport()
        keys = sorted({key for change in changes if change for key in change.lookups})
        lookups = dict(zip(keys, self._parallel(*map(self._lookup, keys)), strict=True))
        seeds: dict[int, set[RowRef]] = {}
        for index, change in enumerate(changes):
            if change is None:
                continue
            found = [lookups[key] for key in change.lookups]
            errors = [refs for refs in found if isinstance(refs, Exception)]
            if errors:
                self._give_up(report, index, errors[0], "reverse index lookup failed")
                continue
            seeds[index] = set(change.owners).union(*found)
        owners = set().union(*seeds.values()) if seeds else set()
        if self.offload is not None and len(owners) > self.offload_above:
            # FANOUT seam: too many rows for one invocation; workers build them (fanout.py)
            self.offload(sorted(owners))
            return report
        hints = merge_hints(c for c in changes if c is not None)
        try:
            self._converge(seeds, hints, report)
        except Exception as exc:
            if len(seeds) == 1:
                self._give_up(report, next(iter(seeds)), exc, "build failed")
                return report
            self._log_error("build of the whole batch failed; retrying change by change", exc)
            for index, owners in seeds.items():
                try:
                    self._converge({index: owners}, hints, report)
                except Exception as single:
                    self._give_up(report, index, single, "build failed", change=str(changes[index]))
        return report

    def _give_up(
        self, report: SyncReport, index: int, exc: Exception, message: str, **context: Any
    ) -> None:
        """Fail change `index` when a retry may help (`exc` is transient), else drop it."""
        if is_transient(exc):
            self._log_error(message, exc, **context)
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

    def _lookup(self, key: str) -> Callable[[], set[RowRef] | Exception]:
        """A reverse-index query that returns its AWS error instead of raising."""

        def query() -> set[RowRef] | Exception:
            try:
                return self.registry.dependents([key])
            except AWS_ERRORS as exc:
                return exc

        return query

    def _converge(
        self,
        seeds: dict[int, set[RowRef]],
        hints: dict[RowRef, frozenset[DagId]],
        report: SyncReport,
    ) -> None:
        owners = set().union(*seeds.values()) if seeds else set()
        if not owners:
            return
        for _ in range(self.max_rounds):
            report.rounds += 1
            state, registrations = self._gather(owners, hints)
            failed = self._build(state, report)
            for registration in registrations:
                registration.result()
            if failed:
                failed_origins = state.origins(failed)
                report.failed.update(i for i, refs in seeds.items() if refs & failed_origins)
                return
            if self._inputs_unchanged(state):
                return
            owners = state.owners
        raise NotConvergedError(f"inputs kept changing over {self.max_rounds} rounds")

    # --- 1 and 2: owners, registration, reads ---------------------------------------

    def _gather(
        self, seeds: set[RowRef], hints: dict[RowRef, frozenset[DagId]]
    ) -> tuple[_Round, list[Future[None]]]:
        """Read the round's inputs; the registrations still missing, sent in the background.

        Registrations only need to land before the verify step reads again (see the
        module docstring), so they overlap compiling and publishing.
        """
        state = _Round()
        registrations: list[Future[None]] = []
        frontier = set(seeds)
        while frontier:
            self._add_owners(state, frontier, hints)
            self._read_dependencies(state, frontier)
            registrations += [self._pool.submit(w) for w in self._registrations(state, frontier)]
            found = self._claimants(state) | self._dependents_of_changed_jobs(state)
            frontier = found - state.owners
        return state, registrations

    def _read(
        self,
        rows: Iterable[RowRef] = (),
        *,
        states: Iterable[RowRef] = (),
        records: Iterable[DagId] = (),
        index: Iterable[tuple[str, RowRef]] = (),
    ) -> tuple[dict[RowRef, Row | None], RegistryItems]:
        """Rows and registry items in shared consistent `BatchGetItem` calls (main thread:
        the calls run on the I/O pool)."""
        rows = set(rows)
        keys = self.source.row_keys(rows)
        registry_keys = self.registry.keys(states=states, records=records, index=index)
        if registry_keys:
            keys[self.registry.table] = registry_keys
        items = batch_get(self.source.client, keys, self._pool) if keys else {}
        return (
            self.source.parse_rows(rows, items),
            self.registry.parse(items.get(self.registry.table, [])),
        )

    def _add_owners(
        self, state: _Round, new: set[RowRef], hints: dict[RowRef, frozenset[DagId]]
    ) -> None:
        """Read new owners and their last states; note the DAG ids they claim or release."""
        state.owners |= new
        rows, found = self._read(new - state.rows.keys(), states=new)
        state.rows.update(rows)
        state.states.update(found.states)
        for ref in sorted(new):
            kind = self.source.kind(ref)
            row = state.rows.get(ref)
            previous = state.states.get(ref, RowState())
            current = dag_id_of(kind, row, self.tables)
            state.current[ref] = current
            state.deps[ref] = index_keys(kind, row, self.tables)
            address = row_address(ref)
            if current is not None:
                state.settle[current].add(ref)
                state.own_claims[current][address] = True
            for dag_id in ({previous.dag_id} | hints.get(ref, frozenset())) - {None, current}:
                state.settle[dag_id].add(ref)  # type: ignore[index]
                state.own_claims[dag_id][address] = False  # type: ignore[index]

    def _registrations(self, state: _Round, new: set[RowRef]) -> list[Callable[[], None]]:
        """The registry writes that register `new` owners, skipping what the registry holds."""
        writes: list[Callable[[], None]] = []
        for ref in sorted(new):
            deps = state.deps[ref]
            missing = {key for key in deps if (key, ref) not in state.index}
            if missing:
                writes.append(functools.partial(self.registry.add_index, ref, missing))
            stale = state.states.get(ref, RowState()).deps - deps
            if stale:
                writes.append(functools.partial(self.registry.remove_index, ref, stale))
        addresses = {row_address(ref): ref for ref in new}
        for dag_id, claims in sorted(state.own_claims.items()):
            record = state.records.get(dag_id)
            for address, claimed in sorted(claims.items()):
                held = record is not None and address in record.claims
                if address in addresses and claimed != held:
                    change = self.registry.claim if claimed else self.registry.release
                    writes.append(functools.partial(change, dag_id, addresses[address]))
        return writes

    def _claimants(self, state: _Round) -> set[RowRef]:
        """Rows claiming a DAG id being settled: they are rebuilt with it."""
        found = set()
        for dag_id, refs in list(state.settle.items()):
            for address in sorted(state.claims(dag_id)):
                claimant = parse_row_address(address)
                if claimant not in state.owners:
                    found.add(claimant)
                    state.parents[claimant] |= refs
        return found

    def _read_dependencies(self, state: _Round, new: set[RowRef]) -> None:
        """Jobs of schedulers, tasks of jobs, rows sharing a referenced job's DAG id, the
        registry items of the DAG ids being settled and the index entries of `new` owners."""
        index = {(key, ref) for ref in new for key in state.deps[ref]}
        while True:
            wanted: set[RowRef] = set()
            for ref, row in list(state.rows.items()):
                if row is None:
                    continue
                kind = self.source.kind(ref)
                if kind == "scheduler" and ref in state.owners:
                    wanted |= self._scheduler_jobs(state, row)
                elif kind == "job":
                    job, _ = parse_job(row, self.tables.job)
                    if job is not None:
                        wanted |= {self._task_ref(t) for t in job.task_ids}
            referenced = [
                ref
                for ref, row in state.rows.items()
                if row is not None and self.source.kind(ref) == "job" and ref not in state.owners
            ]
            dag_ids = {dag_id_of("job", state.rows[r], self.tables) for r in referenced} - {None}
            for dag_id in dag_ids & state.records.keys():
                record = state.records[dag_id]  # type: ignore[index]
                wanted |= {parse_row_address(a) for a in (record.claims if record else ())}
            records = (set(state.settle) | dag_ids) - state.records.keys()
            wanted -= state.rows.keys()
            if not (wanted or records or index):
                return
            rows, found = self._read(wanted, records=records, index=index)  # type: ignore[arg-type]
            state.rows.update(rows)
            state.records.update({d: found.records.get(d) for d in records})  # type: ignore[misc]
            state.index |= found.index
            index = set()

    def _scheduler_jobs(self, state: _Round, row: Row) -> set[RowRef]:
        scheduler, _ = parse_scheduler(row, self.tables.scheduler)
        if scheduler is None:
            return set()
        wanted: set[RowRef] = set()
        for job_ref in scheduler.job_refs:
            job_type, _, job_id = job_ref.rpartition(":")
            if job_type:
                wanted.add(self._job_ref(job_type, job_id))
                continue
            if job_id not in state.job_keys:
                state.job_keys[job_id] = self.source.job_keys(job_id)
            known = {
                ref
                for ref in state.rows
                if self.source.kind(ref) == "job" and dict(ref.key).get("job_id") == job_id
            }
            wanted |= state.job_keys[job_id] | known
        return wanted

    def _dependents_of_changed_jobs(self, state: _Round) -> set[RowRef]:
        """Schedulers of owner jobs whose DAG id or validity differs from their last build."""
        validated = state.validated = validate(self._snapshot(state), self.config)
        found: set[RowRef] = set()
        for ref in sorted(state.owners):
            plan = validated.plans.get(ref)
            state.valid[ref] = plan is not None and not plan.problems
            if self.source.kind(ref) != "job" or ref in state.expanded:
                continue
            if dependents_needed(state.states.get(ref), state.current[ref], state.valid[ref]):
                state.expanded.add(ref)
                key = dict(ref.key)
                for scheduler in self.registry.dependents(
                    job_lookup_keys(key["job_type"], key["job_id"])
                ):
                    found.add(scheduler)
                    state.parents[scheduler].add(ref)
        return found

    def _snapshot(self, state: _Round) -> Snapshot:
        by_kind: dict[str, list[Row]] = defaultdict(list)
        for ref, row in sorted(state.rows.items()):
            if row is not None:
                by_kind[self.source.kind(ref)].append(row)
        return Snapshot(by_kind["task"], by_kind["job"], by_kind["scheduler"], self.tables)

    def _task_ref(self, task_id: str) -> RowRef:
        return RowRef(self.tables.task, (("task_id", task_id),))

    def _job_ref(self, job_type: str, job_id: str) -> RowRef:
        return RowRef(self.tables.job, (("job_type", job_type), ("job_id", job_id)))

    # --- 3: compile and publish -----------------------------------------------------

    def _build(self, state: _Round, report: SyncReport) -> set[RowRef]:
        """Compile the owners, publish each DAG, record outcomes; the owners that failed.

        Each DAG is published (in the background) as soon as it is rendered, while the
        next one renders; the S3 objects are looked up meanwhile too.
        """
        only = {ref for ref in state.owners if state.current.get(ref)}
        heads = {
            dag_id: self._pool.submit(self.publisher.current, self.publisher.key(dag_id))
            for dag_id in state.settle
        }

        def settle(dag_id: DagId, dag: DagResult | CompileCrash | None) -> Future[DagReport]:
            return self._pool.submit(
                self.settle_dag, dag_id, dag, state.records.get(dag_id), heads.get(dag_id)
            )

        assert state.validated is not None
        started = self._timer()
        settling = {
            dag.dag_id: settle(dag.dag_id, dag)
            for dag in compile_isolated(state.validated, only, self.config)
        }
        report.compile_seconds.append(self._timer() - started)
        for dag_id in sorted(set(state.settle) - settling.keys()):
            settling[dag_id] = settle(dag_id, None)
        outcomes = [settling[dag_id].result() for dag_id in sorted(settling)]
        failed: set[RowRef] = set()
        for dag_report in outcomes:
            report._add(dag_report)
            if dag_report.retry:
                failed |= state.settle.get(dag_report.dag_id, set())
        blocked = state.origins(failed)
        remember = [
            functools.partial(self._remember, ref, state) for ref in sorted(state.owners - blocked)
        ]
        if remember:
            self._parallel(*remember)
        return failed

    def settle_dag(
        self,
        dag_id: DagId,
        dag: DagResult | CompileCrash | None,
        previous: DagRecord | None,
        head: Future[Current | None] | None = None,
    ) -> DagReport:
        """Publish, keep (invalid) or delete (`dag` is None) one DAG's file.

        `head` is the object's current state if already being looked up. A pinned DAG
        is only recorded (`_hold`). Exceptions never escape: a crashed compile or any
        error while publishing becomes an `error` outcome (`_failed`).
        """
        try:
            if isinstance(dag, CompileCrash):
                return self._failed(dag_id, dag.error, previous, dag.inputs)
            if previous is not None and previous.pinned:
                return self._hold(dag_id, dag, previous)
            if dag is not None and not dag.ok:
                return self._invalid(dag, previous)
            current = head.result() if head else self.publisher.current(self.publisher.key(dag_id))
            if dag is None:
                return self._delete(dag_id, previous, current)
            return self._publish(dag, current, previous)
        except Exception as exc:
            return self._failed(dag_id, exc, previous, dag.inputs if dag else ())

    def _failed(
        self,
        dag_id: DagId,
        exc: Exception,
        previous: DagRecord | None,
        inputs: Sequence[RowRef],
    ) -> DagReport:
        """Log, record and (once, unless it is retried) alert a DAG that was not built."""
        error = clip(f"{type(exc).__name__}: {exc}", TEXT_BYTES)
        retry = is_transient(exc)
        crashed = not isinstance(exc, AWS_ERRORS)
        if crashed:
            self.log.exception(
                "DAG %s could not be built; its last good file stays",
                dag_id,
                exc_info=exc,
                extra={"dag_id": dag_id, "error": error},
            )
        else:
            self._log_error("publishing failed", exc, dag_id=dag_id)
        try:
            sources = tuple(row_address(ref) for ref in inputs)
            self.registry.record_outcome(
                OutcomeRecord(dag_id, "error", sources=sources, error=error)
            )
            repeated = previous is not None and (previous.outcome, previous.error) == (
                "error",
                error,
            )
            if self.alerter and not (retry or repeated):
                self.alerter.failed_dag(dag_id, [str(ref) for ref in inputs], error)
        except Exception as again:
            self._log_error("recording or alerting the failure failed too", again, dag_id=dag_id)
        return DagReport(dag_id, "error", error=error, retry=retry, crashed=crashed)

    def _publish(
        self, dag: DagResult, current: Current | None, previous: DagRecord | None
    ) -> DagReport:
        assert dag.source is not None
        published = self.publisher.publish(dag.dag_id, dag.source, dag.inputs, current)
        if published.outcome == "foreign":
            field = "job_name" if dag.kind == "job" else "schedule_name"
            problem = Problem(
                dag.ref,
                field,
                ProblemCode.FOREIGN_FILE,
                f"the DAG file {published.key} is in the way: it was not written by dynadag, "
                f"so dynadag leaves it alone; rename the {dag.kind} or move that file",
            )
            return self._invalid(dag, previous, (problem,), foreign_file=True)
        outcome: DagOutcome = "written" if published.outcome == "written" else "unchanged"
        self.registry.record_outcome(
            OutcomeRecord(
                dag.dag_id,
                outcome,
                kind=dag.kind,
                s3_key=published.key,
                version_id=published.version_id,
                sha256=dag.sha256,
                sources=tuple(row_address(ref) for ref in dag.inputs),
                compiler_version=__version__,
            )
        )
        self.log.info("DAG %s", outcome, extra={"dag_id": dag.dag_id, "key": published.key})
        return DagReport(dag.dag_id, outcome)

    def _invalid(
        self,
        dag: DagResult,
        previous: DagRecord | None,
        found: Sequence[Problem] | None = None,
        *,
        foreign_file: bool = False,
    ) -> DagReport:
        """Keep the file in S3; record, log and (when new) alert the problems (`found`, by
        default the DAG's own)."""
        problems = tuple(str(problem) for problem in (dag.problems if found is None else found))
        sources = tuple(row_address(ref) for ref in dag.inputs)
        self.registry.record_outcome(
            OutcomeRecord(
                dag.dag_id,
                "invalid",
                kind=dag.kind,
                s3_key=self.publisher.key(dag.dag_id),
                sources=sources,
                problems=problems,
                compiler_version=__version__,
            )
        )
        self.log.warning(
            "DAG %s is invalid; the file in S3 stays",
            dag.dag_id,
            extra={"dag_id": dag.dag_id, "problems": list(problems)},
        )
        repeated = previous is not None and previous.outcome == "invalid"
        stored = bounded_problems(problems)
        if self.alerter and not (repeated and previous.problems == stored):  # type: ignore[union-attr]
            self.alerter.invalid_dag(dag.dag_id, [str(ref) for ref in dag.inputs], problems)
        return DagReport(dag.dag_id, "invalid", problems, foreign_file=foreign_file)

    def _hold(self, dag_id: DagId, dag: DagResult | None, previous: DagRecord) -> DagReport:
        """Record what a pinned DAG's rows compile to (`dag` None: they no longer produce
        it); its file, the rollback, stays."""
        problems = tuple(str(problem) for problem in dag.problems) if dag else ()
        self.registry.record_outcome(
            OutcomeRecord(
                dag_id,
                "pinned",
                kind=dag.kind if dag else None,
                sources=tuple(row_address(ref) for ref in dag.inputs) if dag else (),
                problems=problems,
                compiler_version=__version__,
                pending_sha256=dag.sha256 if dag else None,
            )
        )
        self.log.warning(
            "DAG %s is pinned by a rollback: its file stays; "
            "`dynadag rollback --release %s` publishes its rows",
            dag_id,
            dag_id,
            extra={"dag_id": dag_id, "pinned_version": previous.pinned_version},
        )
        return DagReport(dag_id, "pinned", problems)

    def _delete(
        self, dag_id: DagId, previous: DagRecord | None, current: Current | None
    ) -> DagReport:
        deleted = self.publisher.delete(dag_id, current)
        foreign = deleted.outcome == "foreign"
        if deleted.outcome == "deleted" or (previous and previous.outcome != "deleted"):
            version_id = None if foreign else deleted.version_id
            self.registry.record_outcome(
                OutcomeRecord(dag_id, "deleted", s3_key=deleted.key, version_id=version_id)
            )
        if foreign:
            self.log.warning(
                "DAG %s no longer exists; %s was not written by dynadag and stays",
                dag_id,
                deleted.key,
                extra={"dag_id": dag_id, "key": deleted.key},
            )
        else:
            self.log.info("DAG %s deleted", dag_id, extra={"dag_id": dag_id, "key": deleted.key})
        outcome: DagOutcome = "deleted" if deleted.outcome == "deleted" else "unchanged"
        return DagReport(dag_id, outcome, foreign_file=foreign)

    def _remember(self, ref: RowRef, state: _Round) -> None:
        """Store what this build saw of a row (its DAG id, validity, index keys)."""
        if state.rows.get(ref) is None:
            if ref in state.states:
                self.registry.delete_row_state(ref)
            return
        fresh = RowState(state.current[ref], state.valid.get(ref, False), state.deps[ref])
        if state.states.get(ref) != fresh:
            self.registry.put_row_state(ref, fresh)

    # --- 4: verify ------------------------------------------------------------------

    def _inputs_unchanged(self, state: _Round) -> bool:
        """True when every input still reads as it did at the start of the round."""
        job_ids = sorted(state.job_keys)
        asked = [self._pool.submit(self.source.job_keys, job_id) for job_id in job_ids]
        rows, found = self._read(state.rows, records=state.records)
        keys = [answer.result() for answer in asked]
        if rows != state.rows or keys != [state.job_keys[job_id] for job_id in job_ids]:
            return False
        return all(
            (found.records[d].claims if d in found.records else frozenset()) == state.claims(d)
            for d in state.records
        )

    def _log_error(self, message: str, exc: BaseException, **context: Any) -> None:
        self.log.error(
            message,
            extra={
                **context,
                "error": f"{type(exc).__name__}: {exc}",
                "transient": is_transient(exc),
            },
        )


def build_sync(
    settings: Settings,
    logger: logging.Logger | Any | None = None,
    session: Any | None = None,
) -> DagSync:
    """A `DagSync` with boto3 clients for `settings` (call once per container).

    `session` is a `boto3.Session` (default: boto3's default session).
    """
    import boto3
    from botocore.config import Config

    make = (session or boto3).client
    config = Config(retries={"mode": "standard"}, connect_timeout=5, read_timeout=20)
    dynamodb = make("dynamodb", config=config)
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
    )
