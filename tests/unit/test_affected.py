"""Which DAGs does a change affect? The pure planner, driven against rows held in memory.

`World` answers the planner's reads the way the executor does against DynamoDB
(consistent rows, registry items, GSI and reverse-index answers) and applies its
registrations and row states, so a test reads as "given these tables and this
registry, a change to X rebuilds Y and registers Z".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest

from lambda_compiler.affected import (
    Answers,
    Planning,
    Reads,
    Registration,
    Round,
    RowStateWrite,
    dependents_needed,
    owners_of_changes,
)
from lambda_compiler.model import DagId
from lambda_compiler.plan import Change, job_lookup_keys
from lambda_compiler.registry import DagRecord, Listing, RegistryItems, RowState
from lambda_compiler.rows import JOB_KEY, SCHEDULER_KEY, TASK_KEY, Row, RowRef, row_ref
from lambda_compiler.snapshot import Snapshot, TableNames
from lambda_compiler.validate import validate
from tests.rowkit import job, scheduler, task

TABLES = TableNames()
KEYS = {TABLES.task: TASK_KEY, TABLES.job: JOB_KEY, TABLES.scheduler: SCHEDULER_KEY}


def ref(table: str, row: Row) -> RowRef:
    return row_ref(table, KEYS[table], row)


def task_ref(task_id: str) -> RowRef:
    return RowRef(TABLES.task, (("task_id", task_id),))


def job_ref(job_id: str, job_type: str = "etl") -> RowRef:
    return RowRef(TABLES.job, (("job_type", job_type), ("job_id", job_id)))


def scheduler_ref(schedule_id: str) -> RowRef:
    return RowRef(TABLES.scheduler, (("schedule_id", schedule_id),))


def dag_record(dag_id: str, claims: set[RowRef]) -> DagRecord:
    return DagRecord(
        DagId(dag_id),
        None,
        None,
        None,
        None,
        None,
        (),
        (),
        frozenset(map(RowRef.address.fget, claims)),
        None,
        None,
        None,
    )


@dataclass
class World:
    """The three tables and the registry, in memory; counts the reads it answers."""

    rows: dict[RowRef, Row] = field(default_factory=dict)
    states: dict[RowRef, RowState] = field(default_factory=dict)
    claims: dict[DagId, set[RowRef]] = field(default_factory=dict)
    index: set[tuple[str, RowRef]] = field(default_factory=set)
    listings: dict[tuple[str, RowRef], Listing] = field(default_factory=dict)
    asked: list[Reads] = field(default_factory=list)

    def put(self, table: str, *rows: Row) -> None:
        for row in rows:
            self.rows[ref(table, row)] = row

    def answer(self, reads: Reads) -> Answers:
        self.asked.append(reads)
        registry = RegistryItems(
            states={r: self.states[r] for r in reads.states if r in self.states},
            records={d: dag_record(d, self.claims[d]) for d in reads.records if d in self.claims},
            index={entry for entry in reads.index if entry in self.index},
            listings={e: self.listings[e] for e in reads.index if e in self.listings},
        )
        return Answers(
            rows={r: self.rows.get(r) for r in reads.rows},
            registry=registry,
            job_keys={
                job_id: frozenset(
                    r
                    for r in self.rows
                    if r.table == TABLES.job and dict(r.key)["job_id"] == job_id
                )
                for job_id in reads.job_ids
            },
            dependents={
                job: {r for key, r in self.index if key in keys}
                for job, keys in reads.dependents.items()
            },
        )

    def register(self, registration: Registration) -> None:
        match registration.kind:
            case "add_index":
                self.index |= {(key, registration.ref) for key in registration.keys}
                for key in registration.keys:
                    if registration.listing is None:
                        self.listings.pop((key, registration.ref), None)
                    else:
                        self.listings[key, registration.ref] = registration.listing
            case "remove_index":
                self.index -= {(key, registration.ref) for key in registration.keys}
                for key in registration.keys:
                    self.listings.pop((key, registration.ref), None)
            case "claim":
                self.claims.setdefault(registration.dag_id, set()).add(registration.ref)  # type: ignore[arg-type]
            case "release":
                self.claims.get(registration.dag_id, set()).discard(registration.ref)  # type: ignore[arg-type]

    def remember(self, write: RowStateWrite) -> None:
        if write.state is None:
            self.states.pop(write.ref, None)
        else:
            self.states[write.ref] = write.state

    def plan(
        self,
        *seeds: RowRef,
        hints: dict[RowRef, frozenset[DagId]] | None = None,
        listings: dict[RowRef, Listing] | None = None,
        planning: Planning = "incremental",
        redo: bool = False,
    ) -> Planned:
        """Run one round's reads for `seeds`; the round and the registrations it asked for."""
        self.asked = []
        plan = Round(seeds, hints or {}, TABLES, listings=listings, planning=planning, redo=redo)
        registrations: list[Registration] = []
        reads = plan.next_reads()
        while reads is not None:
            registrations += plan.take_registrations()
            reads = plan.next_reads(self.answer(reads))
        registrations += plan.take_registrations()
        return Planned(plan, registrations, list(self.asked))

    def build(self, *seeds: RowRef, **kwargs: Any) -> Planned:
        """`plan`, then apply its registrations and row states as the executor does."""
        planned = self.plan(*seeds, **kwargs)
        for registration in planned.registrations:
            self.register(registration)
        for write in planned.round.row_state_writes():
            self.remember(write)
        return planned


@dataclass
class Planned:
    round: Round
    registrations: list[Registration]
    asked: list[Reads]

    @property
    def settle(self) -> dict[DagId, set[RowRef]]:
        return dict(self.round.settle)


LOAD = Listing(("1",), DagId("job-load"))
"""What the index entries of job "load" of `loaded` hold."""


def loaded() -> World:
    """Task 1 in job "load", triggered by scheduler "daily"; built and registered."""
    world = World()
    world.put(TABLES.task, task("1"), task("2"))
    world.put(TABLES.job, job("load", "1", name="load"))
    world.put(TABLES.scheduler, scheduler("daily", "load", name="daily"))
    world.build(job_ref("load"), scheduler_ref("daily"))
    return world


# --- owners of changes ----------------------------------------------------------------


def test_a_task_change_is_owned_by_the_jobs_the_reverse_index_lists():
    change = Change("task", task_ref("1"), lookups=frozenset({"taskref#1"}))
    seeds, errors = owners_of_changes([change, None], {"taskref#1": {job_ref("load")}})
    assert seeds == {0: {job_ref("load")}}
    assert errors == {}


def test_a_job_change_owns_itself_and_its_schedulers_and_a_failed_lookup_is_reported():
    job_change = Change("job", job_ref("7"), frozenset({job_ref("7")}), job_lookup_keys("etl", "7"))
    task_change = Change("task", task_ref("1"), lookups=frozenset({"taskref#1"}))
    boom = RuntimeError("throttled")
    lookups = {"jobref#7": {scheduler_ref("s")}, "jobref#etl:7": set(), "taskref#1": boom}
    seeds, errors = owners_of_changes([job_change, task_change], lookups)
    assert seeds == {0: {job_ref("7"), scheduler_ref("s")}}
    assert errors == {1: boom}


# --- reads and registrations ------------------------------------------------------------


def test_a_new_job_reads_its_tasks_and_registers_its_index_entries_and_claim():
    world = World()
    world.put(TABLES.task, task("1"), task("2"))
    world.put(TABLES.job, job("load", "1,2", name="load"))
    planned = world.plan(job_ref("load"))
    assert planned.settle == {"job-load": {job_ref("load")}}
    assert planned.round.only == {job_ref("load")}
    assert {task_ref("1"), task_ref("2")} <= planned.round.rows.keys()
    assert sorted(planned.registrations) == [
        Registration(
            "add_index",
            job_ref("load"),
            keys=frozenset({"taskref#1", "taskref#2"}),
            listing=Listing(("1", "2"), DagId("job-load")),
        ),
        Registration("claim", job_ref("load"), dag_id=DagId("job-load")),
    ]
    # the owner's row and state, then its tasks with its DAG item and index entries, then
    # its schedulers (a new job has no last build): three reads
    assert [bool(r.dependents) for r in planned.asked] == [False, False, True]
    assert planned.asked[1].index == {
        ("taskref#1", job_ref("load")),
        ("taskref#2", job_ref("load")),
    }


def test_a_rebuilt_job_registers_nothing_the_registry_already_holds():
    world = loaded()
    planned = world.plan(job_ref("load"))
    assert planned.registrations == []
    assert planned.round.row_state_writes() == []
    # its schedulers are not rebuilt: its DAG id and validity are as last built
    assert planned.round.owners == {job_ref("load")}
    assert not any(r.dependents for r in planned.asked)


def test_a_listed_job_is_read_with_its_tasks_and_dag_item_at_once():
    world = loaded()
    world.put(TABLES.task, task("1", task_params={"conn_id": "redshift_default", "sql": "X"}))
    # WHEN task 1's change finds job "load" with the listing its index entry holds
    planned = world.plan(job_ref("load"), listings={job_ref("load"): LOAD})
    # THEN one read answers everything the build needs: its row state's fingerprint
    # says its index entries are in place, so they are not read; nothing is registered
    assert len(planned.asked) == 1
    (reads,) = planned.asked
    assert reads.rows == {job_ref("load"), task_ref("1")}
    assert reads.records == {"job-load"} and reads.states == {job_ref("load")}
    assert reads.index == frozenset()
    assert planned.round.only == {job_ref("load")}
    assert planned.registrations == []
    assert planned.round.row_state_writes() == []


def test_a_row_state_written_before_fingerprints_has_the_entries_read_and_gets_one():
    world = loaded()
    state = world.states[job_ref("load")]
    assert state.registered is not None
    world.states[job_ref("load")] = RowState(state.dag_id, state.valid, state.deps)
    world.index.discard(("taskref#1", job_ref("load")))
    # WHEN a task change finds the job, whose row state holds no fingerprint
    planned = world.plan(job_ref("load"), listings={job_ref("load"): LOAD})
    # THEN its entries are read after the rows, the lost one is registered again, and
    # the row state is written with its fingerprint
    assert [r.index for r in planned.asked] == [frozenset(), {("taskref#1", job_ref("load"))}]
    assert planned.registrations == [
        Registration("add_index", job_ref("load"), keys=frozenset({"taskref#1"}), listing=LOAD)
    ]
    assert [w.state for w in planned.round.row_state_writes()] == [state]


@pytest.mark.parametrize("how", ["full_rebuild", "redo"])
def test_a_rebuild_or_a_redone_round_reads_the_entries_and_repairs_a_lost_one(how: str):
    world = loaded()
    world.index.discard(("taskref#1", job_ref("load")))
    listings = {job_ref("load"): LOAD}
    # WHEN the job is planned by a full rebuild, or in a round redone
    if how == "redo":
        planned = world.plan(job_ref("load"), listings=listings, redo=True)
    else:
        planned = world.plan(job_ref("load"), listings=listings, planning="full_rebuild")
    registrations = planned.registrations
    # THEN the lost entry is written again (a task change's first round trusts the
    # row state's fingerprint instead)
    assert (
        Registration("add_index", job_ref("load"), keys=frozenset({"taskref#1"}), listing=LOAD)
        in registrations
    )
    trusted = world.plan(job_ref("load"), listings=listings)
    assert trusted.registrations == []


def test_a_stale_listing_only_costs_a_read_of_what_it_missed_and_is_rewritten():
    world = loaded()
    world.put(TABLES.job, job("load", "1,2", name="load"))
    # WHEN the job now also lists task 2, which its (old) listing does not say
    planned = world.plan(job_ref("load"), listings={job_ref("load"): LOAD})
    # THEN task 2 and its entry are read next, and both entries get the new listing
    assert [r.rows for r in planned.asked[:2]] == [
        {job_ref("load"), task_ref("1")},
        {task_ref("2")},
    ]
    assert planned.asked[1].index == {
        ("taskref#1", job_ref("load")),
        ("taskref#2", job_ref("load")),
    }
    listing = Listing(("1", "2"), DagId("job-load"))
    assert Registration(
        "add_index", job_ref("load"), frozenset({"taskref#1", "taskref#2"}), listing=listing
    ) in (planned.registrations)


def test_a_lost_index_entry_is_registered_again():
    world = loaded()
    world.index.discard(("taskref#1", job_ref("load")))
    planned = world.plan(job_ref("load"))
    assert planned.registrations == [
        Registration("add_index", job_ref("load"), keys=frozenset({"taskref#1"}), listing=LOAD)
    ]


def test_a_task_dropped_from_a_job_has_its_index_entry_removed():
    world = loaded()
    world.put(TABLES.job, job("load", "2", name="load"))
    planned = world.plan(job_ref("load"))
    assert Registration("remove_index", job_ref("load"), keys=frozenset({"taskref#1"})) in (
        planned.registrations
    )
    listing = Listing(("2",), DagId("job-load"))
    assert Registration(
        "add_index", job_ref("load"), keys=frozenset({"taskref#2"}), listing=listing
    ) in (planned.registrations)


def test_a_scheduler_resolves_a_bare_job_id_through_the_gsi_and_a_typed_one_directly():
    world = World()
    world.put(TABLES.task, task("1"))
    world.put(TABLES.job, job("1", "1"), job("1", "1", job_type="ops"), job("2", "1"))
    world.put(TABLES.scheduler, scheduler("s", "1, etl:2"))
    planned = world.plan(scheduler_ref("s"))
    assert [r.job_ids for r in planned.asked if r.job_ids] == [("1",)]
    rows = planned.round.rows
    assert {job_ref("1"), job_ref("1", "ops"), job_ref("2"), task_ref("1")} <= rows.keys()
    assert planned.settle == {"schedule-sched_s": {scheduler_ref("s")}}
    assert planned.round.only == {scheduler_ref("s")}


# --- claims -------------------------------------------------------------------------------


def test_two_jobs_claiming_one_dag_id_are_rebuilt_together():
    world = World()
    world.put(TABLES.task, task("1"))
    world.put(TABLES.job, job("a", "1", name="shared"))
    world.build(job_ref("a"))
    # WHEN job b takes the same name
    world.put(TABLES.job, job("b", "1", name="shared"))
    planned = world.build(job_ref("b"))
    # THEN job a, found through the claims of job-shared, is rebuilt with it
    assert planned.round.owners == {job_ref("a"), job_ref("b")}
    assert planned.settle == {"job-shared": {job_ref("a"), job_ref("b")}}
    assert Registration("claim", job_ref("b"), dag_id=DagId("job-shared")) in (
        planned.registrations
    )
    plans = planned.round.validated.plans  # type: ignore[union-attr]
    assert all(plans[r].problems for r in (job_ref("a"), job_ref("b")))
    assert world.claims["job-shared"] == {job_ref("a"), job_ref("b")}


def test_a_renamed_job_releases_its_old_dag_id_and_settles_both():
    world = loaded()
    world.put(TABLES.job, job("load", "1", name="loader"))
    planned = world.build(job_ref("load"))
    assert planned.settle == {
        "job-load": {job_ref("load")},
        "job-loader": {job_ref("load")},
        "schedule-daily": {scheduler_ref("daily")},
    }
    assert planned.round.only == {job_ref("load"), scheduler_ref("daily")}
    assert {
        Registration("release", job_ref("load"), dag_id=DagId("job-load")),
        Registration("claim", job_ref("load"), dag_id=DagId("job-loader")),
    } <= set(planned.registrations)
    assert world.claims == {"job-load": set(), "job-loader": {job_ref("load")}, **_daily()}


def _daily() -> dict[DagId, set[RowRef]]:
    return {DagId("schedule-daily"): {scheduler_ref("daily")}}


def test_a_hinted_dag_id_is_settled_even_if_the_registry_never_saw_the_row():
    world = World()
    world.put(TABLES.task, task("1"))
    world.put(TABLES.job, job("load", "1", name="new"))
    planned = world.plan(job_ref("load"), hints={job_ref("load"): frozenset({DagId("job-old")})})
    assert planned.settle == {"job-new": {job_ref("load")}, "job-old": {job_ref("load")}}


# --- dependents -------------------------------------------------------------------------


def test_the_schedulers_of_a_renamed_job_are_rebuilt():
    world = loaded()
    world.put(TABLES.job, job("load", "1", name="loader"))
    planned = world.plan(job_ref("load"))
    asked = [r.dependents for r in planned.asked if r.dependents]
    assert asked == [{job_ref("load"): job_lookup_keys("etl", "load")}]
    assert scheduler_ref("daily") in planned.round.owners
    assert planned.round.origins({scheduler_ref("daily")}) == {
        scheduler_ref("daily"),
        job_ref("load"),
    }


def test_the_schedulers_of_a_job_that_became_invalid_are_rebuilt():
    world = loaded()
    world.put(TABLES.job, job("load", "missing", name="load"))
    planned = world.plan(job_ref("load"))
    assert scheduler_ref("daily") in planned.round.owners
    assert planned.round.valid[job_ref("load")] is False


def test_a_task_change_that_keeps_its_jobs_dag_id_and_validity_rebuilds_only_the_job():
    world = loaded()
    world.put(
        TABLES.task, task("1", task_params={"conn_id": "redshift_default", "sql": "SELECT 2;"})
    )
    planned = world.plan(job_ref("load"))
    assert planned.round.owners == {job_ref("load")}
    assert list(planned.settle) == ["job-load"]


@pytest.mark.parametrize(
    ("previous", "dag_id", "valid", "needed"),
    [
        (None, "job-a", True, True),
        (RowState("job-a", True), "job-a", True, False),
        (RowState("job-a", True), "job-a", False, True),
        (RowState("job-a", True), "job-b", True, True),
        (RowState("job-a", True), None, False, True),
    ],
)
def test_schedulers_are_rebuilt_only_when_a_jobs_dag_id_or_validity_changes(
    previous, dag_id, valid, needed
):
    assert dependents_needed(previous, dag_id, valid) is needed


# --- full rebuild: every row is in some batch of the run -----------------------------------


def first_deploy() -> World:
    """Jobs a and b with tasks, scheduler daily listing both; nothing built yet."""
    world = World()
    world.put(TABLES.task, task("1"), task("2"))
    world.put(TABLES.job, job("a", "1", name="a"), job("b", "2", name="b"))
    world.put(TABLES.scheduler, scheduler("daily", "a, etl:b", name="daily"))
    return world


def rebuilt_in_batches(
    world: World, batches: list[list[RowRef]], planning: Planning
) -> tuple[dict[RowRef, bool], int, Counter[RowRef]]:
    """Build `batches` one after another, as the workers of one run; per row, whether
    the last round that built it found it valid; the dependents lookups asked; and how
    many batches built each row."""
    last: dict[RowRef, bool] = {}
    lookups = 0
    built: Counter[RowRef] = Counter()
    for batch in batches:
        planned = world.build(*batch, planning=planning)
        lookups += sum(len(reads.dependents) for reads in planned.asked)
        built.update(planned.round.only)
        last.update({r: planned.round.valid[r] for r in planned.round.only})
    return last, lookups, built


BATCH_ORDERS = [
    [[scheduler_ref("daily")], [job_ref("a")], [job_ref("b")]],
    [[job_ref("a")], [job_ref("b")], [scheduler_ref("daily")]],
    [[job_ref("a"), scheduler_ref("daily")], [job_ref("b")]],
]


@pytest.mark.parametrize("batches", BATCH_ORDERS)
def test_a_full_rebuild_batch_looks_up_no_schedulers_and_builds_each_row_once(batches):
    world = first_deploy()
    valid, lookups, built = rebuilt_in_batches(world, batches, "full_rebuild")
    assert lookups == 0
    assert built == dict.fromkeys([job_ref("a"), job_ref("b"), scheduler_ref("daily")], 1)
    assert valid == validity_of_a_full_compile(world) == dict.fromkeys(built, True)
    assert world.index >= {("jobref#a", scheduler_ref("daily")), ("taskref#1", job_ref("a"))}
    # planned incrementally, the same batches look up each new job's schedulers
    _, lookups, _ = rebuilt_in_batches(first_deploy(), batches, "incremental")
    assert lookups == 2


def validity_of_a_full_compile(world: World) -> dict[RowRef, bool]:
    by_table = {t: [row for r, row in world.rows.items() if r.table == t] for t in KEYS}
    tables = (by_table[TABLES.task], by_table[TABLES.job], by_table[TABLES.scheduler])
    plans = validate(Snapshot(*tables, TABLES)).plans
    return {r: not plan.problems for r, plan in plans.items()}


@pytest.mark.parametrize(
    ("batches", "daily_builds"), list(zip(BATCH_ORDERS, [2, 1, 2], strict=True))
)
def test_a_duplicate_found_by_a_later_batch_still_rebuilds_the_schedulers_of_its_jobs(
    batches, daily_builds
):
    # job b takes job a's DAG id: the batch registering the second claim finds the other
    # job, and rebuilds the schedulers registered by then (a later one sees both claims)
    world = first_deploy()
    world.put(TABLES.job, job("b", "2", name="a"))
    valid, lookups, built = rebuilt_in_batches(world, batches, "full_rebuild")
    assert lookups > 0
    assert built[scheduler_ref("daily")] == daily_builds
    assert valid == validity_of_a_full_compile(world)
    assert not valid[job_ref("a")] and not valid[job_ref("b")]


def test_a_full_rebuild_of_rows_already_built_reads_as_an_incremental_one():
    world = loaded()
    world.put(TABLES.job, job("load", "1", name="loader"))
    planned = world.plan(job_ref("load"), planning="full_rebuild")
    assert [r.dependents for r in planned.asked if r.dependents] == []
    assert planned.settle == {"job-load": {job_ref("load")}, "job-loader": {job_ref("load")}}


# --- deleted rows -------------------------------------------------------------------------


def test_a_deleted_job_deletes_its_dag_unregisters_and_forgets_its_row():
    world = loaded()
    del world.rows[job_ref("load")]
    planned = world.build(job_ref("load"))
    assert planned.settle["job-load"] == {job_ref("load")}
    assert job_ref("load") not in planned.round.only
    assert {
        Registration("remove_index", job_ref("load"), keys=frozenset({"taskref#1"})),
        Registration("release", job_ref("load"), dag_id=DagId("job-load")),
    } <= set(planned.registrations)
    assert job_ref("load") not in world.states
    # its scheduler is rebuilt: the job it triggers is gone
    assert scheduler_ref("daily") in planned.round.owners


def test_row_states_are_not_remembered_for_rows_behind_a_failed_dag():
    world = World()
    world.put(TABLES.task, task("1"))
    world.put(TABLES.job, job("load", "1", name="load"))
    world.put(TABLES.scheduler, scheduler("daily", "load", name="daily"))
    planned = world.plan(job_ref("load"), scheduler_ref("daily"))
    assert {w.ref for w in planned.round.row_state_writes()} == {
        job_ref("load"),
        scheduler_ref("daily"),
    }
    written = planned.round.row_state_writes({job_ref("load")})
    assert [w.ref for w in written] == [scheduler_ref("daily")]


# --- verify -------------------------------------------------------------------------------


def verify(world: World, planned: Planned) -> bool:
    return planned.round.unchanged(world.answer(planned.round.verify_reads()))


def test_verify_is_done_when_no_input_changed():
    world = loaded()
    assert verify(world, world.build(job_ref("load")))


def test_verify_redoes_the_round_when_a_task_changed_after_it_was_read():
    world = loaded()
    planned = world.build(job_ref("load"))
    world.put(
        TABLES.task, task("1", task_params={"conn_id": "redshift_default", "sql": "SELECT 3;"})
    )
    assert not verify(world, planned)


def test_verify_redoes_the_round_when_another_row_claimed_the_dag_id_meanwhile():
    world = loaded()
    planned = world.build(job_ref("load"))
    world.claims["job-load"].add(job_ref("other"))
    assert not verify(world, planned)


def test_verify_redoes_the_round_when_the_gsi_answers_differently():
    world = loaded()
    world.put(TABLES.scheduler, scheduler("daily", "load", name="daily"))
    planned = world.build(scheduler_ref("daily"))
    world.put(TABLES.job, job("load", "1", name="other", job_type="ops"))
    assert not verify(world, planned)


# --- the convergence cases of tests/integration/test_stream_convergence.py -------------------


def test_a_replayed_change_plans_no_writes():
    world = loaded()
    replay = world.plan(job_ref("load"), scheduler_ref("daily"))
    assert replay.registrations == []
    assert replay.round.row_state_writes() == []
    assert verify(world, replay)


def test_a_new_task_and_its_job_built_by_different_workers_meet_in_the_index_or_the_verify():
    world = World()
    world.put(TABLES.job, job("j", "t", name="j"))
    # the job's worker reads before the task exists: the job is invalid, its entry registered
    job_round = world.plan(job_ref("j"))
    assert job_round.round.valid[job_ref("j")] is False
    for registration in job_round.registrations:
        world.register(registration)
    # EITHER the task's worker now finds the job through the index ...
    world.put(TABLES.task, task("t"))
    task_change = Change("task", task_ref("t"), lookups=frozenset({"taskref#t"}))
    found = {"taskref#t": {r for k, r in world.index if k == "taskref#t"}}
    assert owners_of_changes([task_change], found)[0] == {0: {job_ref("j")}}
    # ... OR (it looked before the registration landed) the job's verify sees the task
    assert not verify(world, job_round)


def test_a_write_that_lands_after_a_newer_one_is_redone_with_the_current_rows():
    world = loaded()
    stale = world.build(job_ref("load"))
    world.put(
        TABLES.task, task("1", task_params={"conn_id": "redshift_default", "sql": "SELECT 3;"})
    )
    assert not verify(world, stale)
    # the redone round reads the current task
    redo = world.build(*stale.round.owners)
    assert redo.round.rows[task_ref("1")]["task_params"]["sql"] == "SELECT 3;"
    assert verify(world, redo)


def test_a_replayed_delete_no_longer_settles_the_deleted_dag_and_registers_nothing():
    world = loaded()
    del world.rows[job_ref("load")]
    first = world.build(job_ref("load"))
    again = world.build(job_ref("load"))
    assert "job-load" in first.settle
    assert "job-load" not in again.settle
    assert again.registrations == []
    assert again.round.row_state_writes() == []


# --- one parse per round ------------------------------------------------------------------


def test_each_job_and_scheduler_row_is_parsed_once_per_round(monkeypatch):
    import lambda_compiler.manifest
    import lambda_compiler.plan
    import lambda_compiler.validate
    from lambda_compiler.isolation import compile_isolated
    from lambda_compiler.parse import parse_job, parse_scheduler

    parses: Counter[RowRef] = Counter()

    def counting(parse: Any, table: str) -> Any:
        def counted(row: Row, *args: Any) -> Any:
            parses[ref(table, row)] += 1
            return parse(row, *args)

        return counted

    for module in (lambda_compiler.manifest, lambda_compiler.plan, lambda_compiler.validate):
        monkeypatch.setattr(module, "parse_job", counting(parse_job, TABLES.job))
        monkeypatch.setattr(module, "parse_scheduler", counting(parse_scheduler, TABLES.scheduler))
    world = World()
    world.put(TABLES.task, task("1"), task("2"))
    world.put(TABLES.job, job("load", "1", name="load"), job("more", "2", name="more"))
    world.put(TABLES.scheduler, scheduler("daily", "load, etl:more", name="daily"))
    world.build(job_ref("load"), job_ref("more"), scheduler_ref("daily"))
    world.put(TABLES.job, job("load", "1", name="loader"))
    parses.clear()
    # WHEN one round plans, validates, renders and remembers the renamed job, its scheduler
    # and the scheduler's other job
    planned = world.plan(job_ref("load"))
    dags = list(compile_isolated(planned.round.validated, planned.round.only))  # type: ignore[arg-type]
    planned.round.row_state_writes()
    # THEN each row was parsed once
    assert {dag.dag_id for dag in dags} == {"job-loader", "schedule-daily"}
    assert parses == {job_ref("load"): 1, job_ref("more"): 1, scheduler_ref("daily"): 1}
