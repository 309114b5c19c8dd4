"""Which DAGs does a change affect? The incremental planner: pure, no I/O.

A stream record only names a row (`plan.Change`); what a DAG contains always comes
from consistent reads of the current rows. A `Round` decides, from what has been
read so far, what to read next (`Round.next_reads`), and once the reads are
exhausted which DAGs to build (`Round.settle`), which registry entries to write
(`Round.take_registrations`), which row states to remember (`Round.row_state_writes`)
and, from a second read, whether the round must be redone (`Round.verify_reads`,
`Round.unchanged`). The executor (`sync.py`) does the reads and writes it asks for.
One round goes:

1. **Owners.** The job and scheduler rows to rebuild: the changed rows themselves,
   the jobs listing a changed task and the schedulers listing a changed job (the
   registry's reverse index: ``taskref#``/``jobref#``; `owners_of_changes`), every
   other row that claims one of their DAG ids (duplicates across rows are found
   through the registry's ``dag#`` claims, not by scanning), and the schedulers of a
   job whose DAG id or validity changed since its last build.
2. **Read and register.** Each owner's dependencies are read with consistent reads,
   together with its reverse-index entries and the claims of its DAG ids (one
   `BatchGetItem` across the tables where possible). A job found through a ``taskref#``
   entry comes with the entry's `registry.Listing` (its task ids and DAG id when it
   was registered), so the job row, its tasks, its row state and its DAG item are read
   in ONE `BatchGetItem` (the executor looks up the DAG's S3
   object meanwhile); a listing is only a guess of what to read: whatever the rows
   read say is missing is read next, and a stale listing is rewritten. What is read:
   tasks of jobs; jobs of schedulers (a bare job id resolves through the `job_id` GSI,
   confirmed by consistent reads, plus any job row of the batch with that id); the
   rows claiming the same DAG ids. Index
   entries and claims the registry does not hold yet are written in the background;
   they land before step 4 (stale entries are removed once the row states that drop
   them are written). A job found through its own entry, in the first round of
   incremental planning, is not read for its entries when its row state's `registered`
   fingerprint is that of the entries it would register (`_proven`): the state was
   written after they landed. A change to the job row itself (it comes without a
   listing, even beside a change of one of its tasks: `sync.DagSync.apply`), a full
   rebuild and a redone round read them (and so repair a lost one).
3. **Compile** the partial snapshot (validated once, for planning and compiling) for
   `only=owners` and settle each DAG (`settle.py`): publish, delete, keep or hold.
4. **Verify.** Re-read every input (rows, GSI answers, claims) once the round's
   registrations and S3 writes have landed; the DAG items' outcomes are written
   alongside this read. If anything changed since step 2, run another round (up to
   `max_rounds`; beyond that the records fail and Lambda retries them).

**Planning modes** (`Planning`). A change's round (``incremental``) must reach every
DAG it affects, so it looks up the schedulers of a job whose DAG id or validity
changed. A batch of a full rebuild (``full_rebuild``: `fanout.enumerate_work` hands
every job and scheduler row to some batch of the run) need not: each scheduler is
built by its own batch from consistent reads of its jobs and their tasks, so it sees
their DAG ids and validity itself. The one input of a job's validity that depends on
the order of batches is a duplicate DAG id: a scheduler's batch knows of a row
producing its job's DAG id only once that row's claim is registered. So a full
rebuild looks up a job's schedulers only when another row claims the job's DAG id:
a row whose claim lands later finds the job among its claimants, in its own batch's
round, which then looks them up (and of two claims that miss each other, one
verify sees both: see below). Bare job ids listed by schedulers resolve through the
`job_id` GSI in both modes: that answer is the scheduler's own input.

A one-task change so takes four sequential round trips: the ``taskref#`` query; the
one `BatchGetItem` with the S3 head beside it; the put (after compiling); the verify
read with the outcome write beside it.

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
write to S3 and the last registration always come from a round whose inputs were
still current after it wrote. The S3 head may be read before the round's rows: a file
changed after that by a round with other inputs is one whose verify (after its put,
so after this round's inputs were committed) sees the change and redoes its round.
The outcome item is a report of the file, no round's input: written alongside the
verify read, a round's outcome could land after a newer round's only if delayed past
that round's whole build; the file in S3 is right regardless, and since a build
trusts a DAG item only while S3 holds the exact object it names (`settle.py`), such
an item is rewritten by the DAG's next build. Duplicate or replayed records find
each DAG's inputs key recorded: nothing is rendered and nothing written. The
residual gap is GSI lag for a brand-new job listed by a brand-new scheduler written
within the same instant by different workers; a deploy-time `dynadag rebuild`
settles any such leftover.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from lambda_compiler.config import DEFAULT_CONFIG, CompilerConfig
from lambda_compiler.manifest import Entry, Manifest
from lambda_compiler.model import DagId, Job, Scheduler
from lambda_compiler.plan import (
    TASK_REF,
    Change,
    TableKind,
    job_lookup_keys,
    table_kind,
)
from lambda_compiler.registry import DagRecord, Listing, RegistryItems, RowState
from lambda_compiler.rows import Row, RowRef
from lambda_compiler.snapshot import Snapshot, TableNames
from lambda_compiler.validate import Validated, validate


@dataclass(frozen=True)
class Reads:
    """What the planner needs read next.

    `rows`, `states`, `records` and `index` share consistent `BatchGetItem` calls;
    `job_ids` are `job_id` GSI lookups; `dependents` are reverse-index queries
    (per job, the keys under which schedulers list it).
    """

    rows: frozenset[RowRef] = frozenset()
    states: frozenset[RowRef] = frozenset()
    records: frozenset[DagId] = frozenset()
    index: frozenset[tuple[str, RowRef]] = frozenset()
    job_ids: tuple[str, ...] = ()
    dependents: Mapping[RowRef, frozenset[str]] = field(default_factory=dict)


@dataclass
class Answers:
    """What was read for a `Reads` (a missing row reads as None)."""

    rows: dict[RowRef, Row | None] = field(default_factory=dict)
    registry: RegistryItems = field(default_factory=RegistryItems)
    job_keys: dict[str, frozenset[RowRef]] = field(default_factory=dict)
    dependents: dict[RowRef, set[RowRef]] = field(default_factory=dict)


@dataclass(frozen=True, order=True)
class Registration:
    """One registry write that registers an owner: index entries added or removed, a
    DAG id claimed or released."""

    kind: Literal["add_index", "remove_index", "claim", "release"]
    ref: RowRef
    keys: frozenset[str] = frozenset()
    dag_id: DagId | None = None
    listing: Listing | None = None
    """For ``add_index``: what the entries hold of the row (`manifest.Entry.listing`)."""


@dataclass(frozen=True)
class RowStateWrite:
    """Remember what a build saw of a row (`state`), or forget a deleted row (None)."""

    ref: RowRef
    state: RowState | None


def owners_of_changes(
    changes: Sequence[Change | None], lookups: Mapping[str, Iterable[RowRef] | Exception]
) -> tuple[dict[int, set[RowRef]], dict[int, Exception]]:
    """Per change (by index): the owner rows to rebuild, given the reverse-index
    `lookups` of every change's keys; or the lookup error that kept it from planning."""
    seeds: dict[int, set[RowRef]] = {}
    errors: dict[int, Exception] = {}
    for index, change in enumerate(changes):
        if change is None:
            continue
        owners = set(change.owners)
        for key in sorted(change.lookups):
            refs = lookups[key]
            if isinstance(refs, Exception):
                errors[index] = refs
                break
            owners.update(refs)
        else:
            seeds[index] = owners
    return seeds, errors


def dependents_needed(previous: RowState | None, dag_id: DagId | None, valid: bool) -> bool:
    """True when a job's schedulers must be rebuilt: its DAG id or validity changed.

    A scheduler DAG reads only the job DAG's id and whether the job is valid, so a
    task change that leaves both alone rebuilds nothing beyond the job.
    """
    if previous is None:
        return True
    return previous.dag_id != dag_id or previous.valid != valid


Steps = Generator[Reads, Answers, None]

Planning = Literal["incremental", "full_rebuild"]
"""How a round finds the schedulers of a changed job (see the module docstring):
``incremental`` for a change, ``full_rebuild`` for a batch of a run over every row."""


class Round:
    """One round's plan: what was read, what to read next, what to build and register.

    Drive it with ``reads = round.next_reads()`` and then
    ``reads = round.next_reads(answers_to(reads))`` until it returns None, sending
    `take_registrations()` to the registry as they appear.
    """

    def __init__(
        self,
        seeds: Iterable[RowRef],
        hints: Mapping[RowRef, frozenset[DagId]],
        tables: TableNames,
        config: CompilerConfig = DEFAULT_CONFIG,
        listings: Mapping[RowRef, Listing] | None = None,
        planning: Planning = "incremental",
        redo: bool = False,
    ) -> None:
        """`listings`: what the reverse index says of seed jobs (read with them);
        `planning`: whether the seeds are a batch of a full rebuild (`Planning`);
        `redo`: a round run again because its inputs changed (it trusts no row state)."""
        self.tables = tables
        self.config = config
        self.planning = planning
        self.trusted: frozenset[RowRef] = frozenset(
            listings or () if planning == "incremental" and not redo else ()
        )
        """Seed jobs found through their index entries, whose entries are taken as in
        place when their row state's `registered` fingerprint says so (`_proven`)."""
        self.owners: set[RowRef] = set()
        self.parents: dict[RowRef, set[RowRef]] = defaultdict(set)
        self.rows: dict[RowRef, Row | None] = {}
        self.states: dict[RowRef, RowState] = {}
        self.current: dict[RowRef, DagId | None] = {}
        self.deps: dict[RowRef, frozenset[str]] = {}
        self.settle: dict[DagId, set[RowRef]] = defaultdict(set)
        """The DAGs to build, each with the owner rows that produce or produced it."""
        self.records: dict[DagId, DagRecord | None] = {}
        self.own_claims: dict[DagId, dict[str, bool]] = defaultdict(dict)
        self.job_keys: dict[str, frozenset[RowRef]] = {}
        self.valid: dict[RowRef, bool] = {}
        self.expanded: set[RowRef] = set()
        self.index: set[tuple[str, RowRef]] = set()
        self.listed: dict[tuple[str, RowRef], Listing] = {}
        """The listings the index entries read hold."""
        self._asked_index: set[tuple[str, RowRef]] = set()
        self.validated: Validated | None = None
        self.manifest = Manifest(tables, config)
        """Every job and scheduler row read, parsed once (planning, validate, render)."""
        self._registrations: list[Registration] = []
        self._steps = self._gather(set(seeds), hints, listings or {})
        self._started = False
        self._done = False

    # --- the driving API ------------------------------------------------------------

    def next_reads(self, answers: Answers | None = None) -> Reads | None:
        """The next reads, given the `answers` to the previous ones; None when the round's
        inputs are complete (then `settle`, `only` and `validated` are final)."""
        if self._done:
            return None
        try:
            if not self._started:
                reads = next(self._steps)
            elif answers is None:
                raise ValueError("next_reads needs the answers to the previous reads")
            else:
                reads = self._steps.send(answers)
        except StopIteration:
            self._done = True
            return None
        self._started = True
        return reads

    def take_registrations(self) -> list[Registration]:
        """The registry writes decided since the last call (to send in the background)."""
        taken, self._registrations = self._registrations, []
        return taken

    @property
    def only(self) -> set[RowRef]:
        """The owners that produce a DAG now (what to compile)."""
        return {ref for ref in self.owners if self.current.get(ref)}

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

    def row_state_writes(self, failed: Iterable[RowRef] = ()) -> list[RowStateWrite]:
        """What to remember of each owner (DAG id, validity, index keys), skipping those
        pulled in by a `failed` row and rows whose state is already current."""
        writes = []
        for ref in sorted(self.owners - self.origins(failed)):
            if self.rows.get(ref) is None:
                if ref in self.states:
                    writes.append(RowStateWrite(ref, None))
                continue
            fresh = RowState(
                self.current[ref],
                self.valid.get(ref, False),
                self.deps[ref],
                self._registered(ref),
            )
            if self.states.get(ref) != fresh:
                writes.append(RowStateWrite(ref, fresh))
        return writes

    def verify_reads(self) -> Reads:
        """Every input again: rows, DAG items (claims) and GSI answers."""
        return Reads(
            rows=frozenset(self.rows),
            records=frozenset(self.records),
            job_ids=tuple(sorted(self.job_keys)),
        )

    def unchanged(self, answers: Answers) -> bool:
        """True when `answers` to `verify_reads` equal what the round read: done; else redo."""
        job_ids = sorted(self.job_keys)
        if answers.rows != self.rows or [answers.job_keys.get(j) for j in job_ids] != [
            self.job_keys[j] for j in job_ids
        ]:
            return False
        found = answers.registry.records
        return all(
            (found[d].claims if d in found else frozenset()) == self.claims(d) for d in self.records
        )

    # --- 1 and 2: owners, reads, registrations --------------------------------------

    def _gather(
        self,
        seeds: set[RowRef],
        hints: Mapping[RowRef, frozenset[DagId]],
        listings: Mapping[RowRef, Listing],
    ) -> Steps:
        frontier = seeds
        while frontier:
            self.owners |= frontier
            reads = self._with_listed(
                Reads(rows=frozenset(frontier - self.rows.keys()), states=frozenset(frontier)),
                {ref: listings[ref] for ref in sorted(frontier) if ref in listings},
            )
            self._absorb(reads, (yield reads))
            self._add_owners(frontier, hints)
            yield from self._read_dependencies(frontier)
            self._registrations += self._registrations_of(frontier)
            found = self._claimants()
            found |= yield from self._dependents_of_changed_jobs()
            frontier = found - self.owners

    def _with_listed(self, reads: Reads, listings: Mapping[RowRef, Listing]) -> Reads:
        """`reads` plus what listed jobs would read next: their tasks, DAG items and
        index entries (when a listing is stale, what is missing is read after)."""
        if not listings:
            return reads
        tasks = {self._task_ref(t) for listing in listings.values() for t in listing.tasks}
        dag_ids = {listing.dag_id for listing in listings.values() if listing.dag_id}
        index = {
            (f"{TASK_REF}{task}", ref)
            for ref, listing in listings.items()
            if ref not in self.trusted
            for task in listing.tasks
        }
        return Reads(
            rows=reads.rows | (tasks - self.rows.keys()),
            states=reads.states,
            records=frozenset(dag_ids - self.records.keys()),
            index=frozenset(index - self._asked_index),
        )

    def _absorb(self, reads: Reads, answers: Answers) -> None:
        """Note the answers to row, row-state, DAG-item and index-entry `reads`."""
        self.rows.update(answers.rows)
        self.states.update(answers.registry.states)
        self.records.update({d: answers.registry.records.get(d) for d in reads.records})
        self.index |= answers.registry.index
        self.listed.update(answers.registry.listings)
        self._asked_index |= reads.index

    def _add_owners(self, new: set[RowRef], hints: Mapping[RowRef, frozenset[DagId]]) -> None:
        """Note the DAG ids new owners claim (now) or release (last build, hints)."""
        for ref in sorted(new):
            previous = self.states.get(ref, RowState())
            entry = self._entry(ref)
            current = entry.dag_id if entry else None
            self.current[ref] = current
            self.deps[ref] = entry.index_keys if entry else frozenset()
            address = ref.address
            if current is not None:
                self.settle[current].add(ref)
                self.own_claims[current][address] = True
            for dag_id in {previous.dag_id, *hints.get(ref, ())} - {current}:
                if dag_id is not None:
                    self.settle[dag_id].add(ref)
                    self.own_claims[dag_id][address] = False

    def _read_dependencies(self, new: set[RowRef]) -> Steps:
        """Jobs of schedulers, tasks of jobs, rows sharing a referenced job's DAG id, the
        registry items of the DAG ids being settled and the index entries of `new` owners."""
        index = {
            (key, ref) for ref in new if not self._proven(ref) for key in self.deps[ref]
        } - self._asked_index
        while True:
            unknown = self._unresolved_job_ids()
            if unknown:
                answers = yield Reads(job_ids=tuple(sorted(unknown)))
                self.job_keys.update({j: answers.job_keys[j] for j in unknown})
            wanted: set[RowRef] = set()
            for ref, row in list(self.rows.items()):
                if row is None:
                    continue
                kind = self._kind(ref)
                if kind == "scheduler" and ref in self.owners:
                    wanted |= self._scheduler_jobs(ref)
                elif kind == "job":
                    job = self._parsed(ref)
                    if isinstance(job, Job):
                        wanted |= {self._task_ref(t) for t in job.task_ids}
            referenced = [
                ref
                for ref, row in self.rows.items()
                if row is not None and self._kind(ref) == "job" and ref not in self.owners
            ]
            dag_ids = {d for d in map(self._dag_id_of, referenced) if d is not None}
            for dag_id in dag_ids & self.records.keys():
                record = self.records[dag_id]
                wanted |= {RowRef.from_address(a) for a in (record.claims if record else ())}
            records = (set(self.settle) | dag_ids) - self.records.keys()
            wanted -= self.rows.keys()
            if not (wanted or records or index):
                return
            reads = Reads(
                rows=frozenset(wanted),
                records=frozenset(records),
                index=frozenset(index),
            )
            self._absorb(reads, (yield reads))
            index = set()

    def _unresolved_job_ids(self) -> set[str]:
        """Bare job ids listed by owner schedulers whose job keys are not known yet."""
        unknown = set()
        for ref, row in self.rows.items():
            if row is None or ref not in self.owners or self._kind(ref) != "scheduler":
                continue
            scheduler = self._parsed(ref)
            for job_ref in scheduler.job_refs if isinstance(scheduler, Scheduler) else ():
                job_type, _, job_id = job_ref.rpartition(":")
                if not job_type and job_id not in self.job_keys:
                    unknown.add(job_id)
        return unknown

    def _scheduler_jobs(self, ref: RowRef) -> set[RowRef]:
        """The job rows a scheduler may list: by full key, or every job with a bare id
        (the GSI's answer plus any job row read with that id)."""
        scheduler = self._parsed(ref)
        if not isinstance(scheduler, Scheduler):
            return set()
        wanted: set[RowRef] = set()
        for job_ref in scheduler.job_refs:
            job_type, _, job_id = job_ref.rpartition(":")
            if job_type:
                wanted.add(self._job_ref(job_type, job_id))
                continue
            known = {
                ref
                for ref in self.rows
                if self._kind(ref) == "job" and dict(ref.key).get("job_id") == job_id
            }
            wanted |= self.job_keys[job_id] | known
        return wanted

    def _registrations_of(self, new: set[RowRef]) -> list[Registration]:
        """The registry writes that register `new` owners, skipping what the registry holds."""
        writes: list[Registration] = []
        for ref in sorted(new):
            if self._proven(ref):
                continue
            deps = self.deps[ref]
            listing = self._listing(ref)
            missing = frozenset(
                key
                for key in deps
                if (key, ref) not in self.index or self.listed.get((key, ref)) != listing
            )
            if missing:
                writes.append(Registration("add_index", ref, keys=missing, listing=listing))
            stale = self.states.get(ref, RowState()).deps - deps
            if stale:
                writes.append(Registration("remove_index", ref, keys=stale))
        addresses = {ref.address: ref for ref in new}
        for dag_id, claims in sorted(self.own_claims.items()):
            record = self.records.get(dag_id)
            for address, claimed in sorted(claims.items()):
                held = record is not None and address in record.claims
                if address in addresses and claimed != held:
                    kind: Literal["claim", "release"] = "claim" if claimed else "release"
                    writes.append(Registration(kind, addresses[address], dag_id=dag_id))
        return writes

    def _claimants(self) -> set[RowRef]:
        """Rows claiming a DAG id being settled: they are rebuilt with it."""
        found = set()
        for dag_id, refs in list(self.settle.items()):
            for address in sorted(self.claims(dag_id)):
                claimant = RowRef.from_address(address)
                if claimant not in self.owners:
                    found.add(claimant)
                    self.parents[claimant] |= refs
        return found

    def _dependents_of_changed_jobs(self) -> Generator[Reads, Answers, set[RowRef]]:
        """Schedulers of owner jobs whose DAG id or validity differs from their last build
        (in a full rebuild, only of those whose DAG id another row claims)."""
        validated = self.validated = validate(self._snapshot(), self.config, self.manifest)
        lookups: dict[RowRef, frozenset[str]] = {}
        for ref in sorted(self.owners):
            plan = validated.plans.get(ref)
            self.valid[ref] = plan is not None and not plan.problems
            if self._kind(ref) != "job" or ref in self.expanded:
                continue
            if self._schedulers_may_differ(ref):
                self.expanded.add(ref)
                key = dict(ref.key)
                lookups[ref] = job_lookup_keys(key["job_type"], key["job_id"])
        if not lookups:
            return set()
        answers = yield Reads(dependents=lookups)
        found: set[RowRef] = set()
        for job_ref in sorted(lookups):
            for scheduler in answers.dependents[job_ref]:
                found.add(scheduler)
                self.parents[scheduler].add(job_ref)
        return found

    def _schedulers_may_differ(self, ref: RowRef) -> bool:
        """True when job `ref`'s schedulers must be looked up: its DAG id or validity
        changed since its last build and, in a full rebuild, another row claims its DAG
        id (else its schedulers' own batches see what this round sees)."""
        current = self.current[ref]
        if not dependents_needed(self.states.get(ref), current, self.valid[ref]):
            return False
        if self.planning == "incremental":
            return True
        return current is not None and self.claims(current) != {ref.address}

    def _snapshot(self) -> Snapshot:
        by_kind: dict[str, list[Row]] = defaultdict(list)
        for ref, row in sorted(self.rows.items()):
            if row is not None:
                by_kind[self._kind(ref)].append(row)
        return Snapshot(by_kind["task"], by_kind["job"], by_kind["scheduler"], self.tables)

    def _entry(self, ref: RowRef) -> Entry | None:
        """The parse of a job or scheduler row read (None: gone, or a task)."""
        row, kind = self.rows.get(ref), self._kind(ref)
        return None if row is None or kind == "task" else self.manifest.entry(kind, row)

    def _listing(self, ref: RowRef) -> Listing | None:
        entry = self._entry(ref)
        return entry.listing if entry else None

    def _registered(self, ref: RowRef) -> str | None:
        entry = self._entry(ref)
        return entry.registered if entry else None

    def _proven(self, ref: RowRef) -> bool:
        """True when `ref`'s index entries need not be read: a job found through its own
        entry (first round of incremental planning) whose row state's fingerprint is
        that of the entries it would register now. Its state was written after those
        entries landed, and entries are removed only after a state without them is
        written (`sync.py`), so the state proves them as a read of them would."""
        if ref not in self.trusted or self.rows.get(ref) is None:
            return False
        state = self.states.get(ref)
        if state is None or state.registered is None:
            return False
        return state.registered == self._registered(ref)

    def _dag_id_of(self, ref: RowRef) -> DagId | None:
        entry = self._entry(ref)
        return entry.dag_id if entry else None

    def _parsed(self, ref: RowRef) -> Job | Scheduler | None:
        entry = self._entry(ref)
        return entry.parsed if entry else None

    def _kind(self, ref: RowRef) -> TableKind:
        return table_kind(self.tables, ref.table)

    def _task_ref(self, task_id: str) -> RowRef:
        return RowRef(self.tables.task, (("task_id", task_id),))

    def _job_ref(self, job_type: str, job_id: str) -> RowRef:
        return RowRef(self.tables.job, (("job_type", job_type), ("job_id", job_id)))
