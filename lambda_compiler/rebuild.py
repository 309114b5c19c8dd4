"""The deploy-time rebuild: every DAG from full table scans, writing only what changed.

`run_rebuild(settings)` is how template and compiler upgrades roll out (and how a new
deployment fills the registry). It

1. scans the three tables (paginated, consistent) and compiles every DAG, each on its
   own: an unexpected exception in one DAG is that DAG's failure (`isolation.py`); a
   DAG whose inputs key is the one recorded for its file is not rendered, and when the
   file is still in S3 nothing is written for it (`settle.py`);
2. uploads `dags_runtime/*.py` under ``{prefix}dags_runtime/`` and keeps dynadag's
   block in ``{prefix}.airflowignore`` (the user's own lines stay), which keeps that
   folder out of DAG parsing, before any DAG file, since every generated DAG imports it;
3. publishes each valid DAG whose bytes changed, records invalid and pinned DAGs (their
   files stay), and deletes the files directly under the dags prefix of DAGs that no
   longer exist. Only files dynadag wrote (its `dag-id` metadata) are overwritten or
   deleted: hand-written files, and anything in a sub-folder, are left alone;
4. rewrites the registry's bookkeeping to match the tables: DAG-id claims, the
   reverse index (``taskref#``/``jobref#``) and the per-row states.
"""

from __future__ import annotations

import importlib.util
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TypeVar

from lambda_compiler import __version__
from lambda_compiler.airflowignore import merge_airflowignore
from lambda_compiler.file_metadata import sha256_hex
from lambda_compiler.isolation import compile_isolated
from lambda_compiler.manifest import Manifest
from lambda_compiler.model import DagId
from lambda_compiler.outcome import Outcome
from lambda_compiler.plan import (
    TableKind,
    ref_of,
)
from lambda_compiler.publish import Current
from lambda_compiler.registry import DagRecord, Listing, RowState
from lambda_compiler.rows import Row, RowRef
from lambda_compiler.settings import Settings
from lambda_compiler.settle import DagReport
from lambda_compiler.snapshot import Snapshot
from lambda_compiler.sync import DagSync, build_sync, recorded_keys
from lambda_compiler.validate import Validated, validate

RUNTIME_FOLDER = "dags_runtime/"
AIRFLOWIGNORE = ".airflowignore"
LEGACY_AIRFLOWIGNORE = b"dags_runtime/\n"
"""The whole ``.airflowignore`` dynadag wrote before it kept to its own block."""
T = TypeVar("T")
R = TypeVar("R")
Progress = Callable[[str, int, int], None]
"""Called as ``progress(phase, done, total)`` while the rebuild runs."""


@dataclass
class RebuildReport:
    """What a rebuild did, DAG by DAG."""

    written: list[DagId] = field(default_factory=list)
    unchanged: list[DagId] = field(default_factory=list)
    deleted: list[DagId] = field(default_factory=list)
    invalid: dict[DagId, tuple[str, ...]] = field(default_factory=dict)
    failed: dict[DagId, str] = field(default_factory=dict)
    """DAGs an AWS error kept from being built (retrying may succeed)."""
    crashed: dict[DagId, str] = field(default_factory=dict)
    """DAGs whose build raised an unexpected error: recorded as `error`, logged, alerted."""
    pinned: list[DagId] = field(default_factory=list)
    """DAGs a rollback pinned: compiled and recorded, their files left in place."""
    foreign_files: list[DagId] = field(default_factory=list)
    """``{dag_id}.py`` files of no DAG that dynadag did not write: left alone."""
    runtime_files_written: list[str] = field(default_factory=list)
    index_added: int = 0
    index_removed: int = 0
    rows: int = 0

    @property
    def ok(self) -> bool:
        """True unless an AWS error kept a DAG from being built (crashes are per DAG)."""
        return not self.failed


def run_rebuild(
    settings: Settings,
    *,
    sync: DagSync | None = None,
    progress: Progress | None = None,
    runtime_dir: Path | None = None,
    workers: int = 8,
) -> RebuildReport:
    """Recompile every DAG and make the bucket and the registry match the tables.

    Compiling is CPU-bound and runs in this thread; the S3 and registry requests of
    different DAGs run on `workers` threads (they spend their time waiting on AWS).
    """
    sync = sync or build_sync(settings)
    tick = progress or (lambda phase, done, total: None)
    report = RebuildReport()
    tick("reading tables", 0, 1)
    # The registry is read before the tables: whatever the Lambda registers meanwhile
    # (rows written after the scan) is newer than this rebuild and is left alone.
    registry = sync.registry.scan()
    previous = registry.records
    listed = {entry: registry.listings.get(entry) for entry in registry.index}
    bookkeeping = (listed, set(registry.states))
    snapshot = sync.source.scan_all()
    tick("reading tables", 1, 1)
    manifest = Manifest(sync.tables, sync.config)
    validated = validate(snapshot, sync.config, manifest)
    recorded = recorded_keys(previous.values())
    dags = {dag.dag_id: dag for dag in compile_isolated(validated, None, sync.config, recorded)}
    gone = sync.publisher.dag_ids() | {
        d for d, r in previous.items() if r.outcome != Outcome.DELETED
    }
    targets = [*dags, *sorted(gone - set(dags))]
    # The runtime goes first: every generated DAG imports it, so a DAG file that
    # arrived before it would fail to import until its next parse.
    _upload_runtime(sync, runtime_dir or default_runtime_dir(), report)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rebuild") as pool:

        def settle(dag_id: DagId) -> DagReport:
            return sync.settler.settle(dag_id, dags.get(dag_id), previous.get(dag_id))

        for outcome in _run(pool, settle, targets, "DAG files", tick):
            _count(report, outcome)
        _rebuild_bookkeeping(
            sync, snapshot, validated, manifest, previous, bookkeeping, report, pool, tick
        )
    for names in (
        report.written,
        report.unchanged,
        report.deleted,
        report.pinned,
        report.foreign_files,
    ):
        names.sort()
    return report


def _count(report: RebuildReport, outcome: DagReport) -> None:
    if outcome.foreign_file and outcome.outcome == Outcome.UNCHANGED:
        report.foreign_files.append(outcome.dag_id)
        return
    match outcome.outcome:
        case Outcome.WRITTEN:
            report.written.append(outcome.dag_id)
        case Outcome.UNCHANGED:
            report.unchanged.append(outcome.dag_id)
        case Outcome.DELETED:
            report.deleted.append(outcome.dag_id)
        case Outcome.INVALID:
            report.invalid[outcome.dag_id] = outcome.problems
        case Outcome.PINNED:
            report.pinned.append(outcome.dag_id)
        case Outcome.ERROR if outcome.crashed:
            report.crashed[outcome.dag_id] = outcome.error or "unknown error"
        case Outcome.ERROR:
            report.failed[outcome.dag_id] = outcome.error or "unknown error"


def _run(
    pool: ThreadPoolExecutor,
    work: Callable[[T], R],
    items: Sequence[T],
    phase: str,
    tick: Progress,
) -> list[R]:
    """`work` on every item in the pool, reporting progress; results in completion order."""
    results = []
    futures = [pool.submit(work, item) for item in items]
    for done, future in enumerate(as_completed(futures), 1):
        results.append(future.result())
        tick(phase, done, len(items))
    return results


def _rebuild_bookkeeping(
    sync: DagSync,
    snapshot: Snapshot,
    validated: Validated,
    manifest: Manifest,
    previous: dict[DagId, DagRecord],
    bookkeeping: tuple[dict[tuple[str, RowRef], Listing | None], set[RowRef]],
    report: RebuildReport,
    pool: ThreadPoolExecutor,
    tick: Progress,
) -> None:
    """Claims, reverse index and row states, made equal to what the tables say.

    Only differences from what was read before the scan are written (claims are added
    and released one by one), so entries the Lambda adds meanwhile survive.
    """
    registry, tables = sync.registry, sync.tables
    plans = validated.plans
    states: dict[RowRef, RowState] = {}
    listings: dict[RowRef, Listing | None] = {}
    claims: dict[DagId, set[RowRef]] = defaultdict(set)
    kinds: tuple[tuple[TableKind, list[Row]], ...] = (
        ("job", snapshot.jobs),
        ("scheduler", snapshot.schedulers),
    )
    for kind, rows in kinds:
        for row in rows:
            ref = ref_of(kind, tables, row)
            entry = manifest.entry(kind, row)
            dag_id, deps = entry.dag_id, entry.index_keys
            plan = plans.get(ref)
            valid = plan is not None and not plan.problems
            states[ref] = RowState(dag_id, valid, deps, entry.registered)
            listings[ref] = entry.listing
            if dag_id is not None:
                claims[dag_id].add(ref)
    report.rows = len(states)

    claim_writes = []
    for dag_id in sorted(set(claims) | set(previous)):
        record = previous.get(dag_id)
        had = {RowRef.from_address(a) for a in (record.claims if record else ())}
        wanted_refs = claims.get(dag_id, set())
        claim_writes += [(registry.claim, dag_id, ref) for ref in sorted(wanted_refs - had)]
        claim_writes += [(registry.release, dag_id, ref) for ref in sorted(had - wanted_refs)]
    _run(pool, lambda item: item[0](item[1], item[2]), claim_writes, "registry claims", tick)
    existing, known = bookkeeping
    wanted = {(key, ref) for ref, state in states.items() for key in state.deps}
    added = {e for e in wanted if e not in existing or existing[e] != listings[e[1]]}
    removed = existing.keys() - wanted
    report.index_added = len(added)
    report.index_removed = len(removed)
    # entries are added before the row states whose fingerprints say they are in place,
    # and removed only after the row states that no longer list them (`affected.py`)
    index_writes: list[Callable[[], None]] = [
        partial(registry.add_index, ref, keys, listings[ref]) for ref, keys in _by_row(added)
    ]
    _run(pool, lambda write: write(), index_writes, "reverse index", tick)
    current = registry.row_states(states)
    changed = [(ref, state) for ref, state in sorted(states.items()) if current.get(ref) != state]
    _run(pool, lambda item: registry.put_row_state(*item), changed, "registry rows", tick)
    removals = [partial(registry.remove_index, ref, keys) for ref, keys in _by_row(removed)]
    _run(pool, lambda write: write(), removals, "reverse index", tick)
    _run(pool, registry.delete_row_state, sorted(known - states.keys()), "registry rows", tick)


def _by_row(entries: set[tuple[str, RowRef]]) -> list[tuple[RowRef, set[str]]]:
    by_row: dict[RowRef, set[str]] = defaultdict(set)
    for key, ref in entries:
        by_row[ref].add(key)
    return sorted(by_row.items())


def default_runtime_dir() -> Path:
    """The `dags_runtime` package shipped with dynadag."""
    spec = importlib.util.find_spec("dags_runtime")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the dags_runtime package is not installed beside dynadag")
    return Path(next(iter(spec.submodule_search_locations)))


def _upload_runtime(sync: DagSync, folder: Path, report: RebuildReport) -> None:
    """Upload dags_runtime/*.py and dynadag's block of the .airflowignore; delete the runtime
    files dynadag no longer ships."""
    publisher = sync.publisher
    files = {
        f"{RUNTIME_FOLDER}{path.name}": path.read_bytes() for path in sorted(folder.glob("*.py"))
    }
    if publisher.update(publisher.prefix + AIRFLOWIGNORE, _airflowignore).outcome == "written":
        report.runtime_files_written.append(AIRFLOWIGNORE)
    for name, body in files.items():
        metadata = {"sha256": sha256_hex(body), "compiler-version": __version__}
        if publisher.put_if_changed(publisher.prefix + name, body, metadata).outcome == "written":
            report.runtime_files_written.append(name)
    shipped = {publisher.prefix + name for name in files}
    for key in publisher.keys(publisher.prefix + RUNTIME_FOLDER):
        if key not in shipped:
            publisher.delete_key(key)


def _airflowignore(body: bytes | None, current: Current | None) -> bytes:
    """The ``.airflowignore`` with dynadag's block; the file dynadag used to own whole
    (exactly its old rule, written by it) is replaced."""
    legacy = current is not None and current.by_dynadag and body == LEGACY_AIRFLOWIGNORE
    return merge_airflowignore(b"" if body is None or legacy else body)
