"""The deploy-time rebuild: every DAG from full table scans, writing only what changed.

`run_rebuild(settings)` is how template and compiler upgrades roll out (and how a new
deployment fills the registry). It

1. scans the three tables (paginated, consistent) and compiles every DAG;
2. publishes each valid DAG whose bytes changed, records invalid DAGs (their last good
   file stays), and deletes the files under the dags prefix of DAGs that no longer
   exist;
3. rewrites the registry's bookkeeping to match the tables: DAG-id claims, the
   reverse index (``taskref#``/``jobref#``) and the per-row states;
4. uploads `dags_runtime/*.py` under ``{prefix}dags_runtime/`` and an
   ``{prefix}.airflowignore`` that keeps that folder out of DAG parsing.
"""

from __future__ import annotations

import importlib.util
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lambda_compiler import __version__
from lambda_compiler.compiler import compile_dags
from lambda_compiler.model import DagId
from lambda_compiler.plan import RowState, dag_id_of, index_keys, ref_of
from lambda_compiler.publish import sha256_hex
from lambda_compiler.registry import DagRecord
from lambda_compiler.rows import RowRef
from lambda_compiler.settings import Settings
from lambda_compiler.snapshot import Snapshot
from lambda_compiler.sync import DagSync, build_sync
from lambda_compiler.validate import validate

RUNTIME_FOLDER = "dags_runtime/"
AIRFLOWIGNORE = f"{RUNTIME_FOLDER}\n"
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
    runtime_files_written: list[str] = field(default_factory=list)
    index_added: int = 0
    index_removed: int = 0
    rows: int = 0

    @property
    def ok(self) -> bool:
        """True when every DAG was written, unchanged, deleted or recorded as invalid."""
        return not self.failed


def run_rebuild(
    settings: Settings,
    *,
    sync: DagSync | None = None,
    progress: Progress | None = None,
    runtime_dir: Path | None = None,
) -> RebuildReport:
    """Recompile every DAG and make the bucket and the registry match the tables."""
    sync = sync or build_sync(settings)
    tick = progress or (lambda phase, done, total: None)
    report = RebuildReport()
    tick("reading tables", 0, 1)
    snapshot = sync.source.scan_all()
    tick("reading tables", 1, 1)
    result = compile_dags(snapshot)
    previous = {record.dag_id: record for record in sync.registry.list_dags()}
    gone = sync.publisher.dag_ids() | {d for d, r in previous.items() if r.outcome != "deleted"}
    gone -= set(result.dags)
    targets = [*result.dags, *sorted(gone)]
    for done, dag_id in enumerate(targets, 1):
        outcome = sync.settle_dag(dag_id, result.dags.get(dag_id), previous.get(dag_id))
        match outcome.outcome:
            case "written":
                report.written.append(dag_id)
            case "unchanged":
                report.unchanged.append(dag_id)
            case "deleted":
                report.deleted.append(dag_id)
            case "invalid":
                report.invalid[dag_id] = outcome.problems
            case "error":
                report.failed[dag_id] = outcome.error or "unknown error"
        tick("DAG files", done, len(targets))
    _rebuild_bookkeeping(sync, snapshot, previous, report, tick)
    _upload_runtime(sync, runtime_dir or default_runtime_dir(), report)
    return report


def _rebuild_bookkeeping(
    sync: DagSync,
    snapshot: Snapshot,
    previous: dict[DagId, DagRecord],
    report: RebuildReport,
    tick: Progress,
) -> None:
    """Claims, reverse index and row states, made equal to what the tables say."""
    registry, tables = sync.registry, sync.tables
    plans = validate(snapshot).plans
    states: dict[RowRef, RowState] = {}
    claims: dict[DagId, set[RowRef]] = defaultdict(set)
    for kind, items in (("job", snapshot.jobs), ("scheduler", snapshot.schedulers)):
        for row in items:
            ref = ref_of(kind, tables, row)  # type: ignore[arg-type]
            dag_id = dag_id_of(kind, row, tables)  # type: ignore[arg-type]
            plan = plans.get(ref)
            deps = index_keys(kind, row, tables)  # type: ignore[arg-type]
            states[ref] = RowState(dag_id, plan is not None and not plan.problems, deps)
            if dag_id is not None:
                claims[dag_id].add(ref)
    report.rows = len(states)
    stale_claims = [d for d, record in previous.items() if record.claims and d not in claims]
    for done, dag_id in enumerate([*sorted(claims), *stale_claims], 1):
        registry.set_claims(dag_id, claims.get(dag_id, ()))
        tick("registry claims", done, len(claims) + len(stale_claims))
    wanted = {(key, ref) for ref, state in states.items() for key in state.deps}
    existing = registry.index_entries()
    _write_index(registry.add_index, wanted - existing)
    _write_index(registry.remove_index, existing - wanted)
    report.index_added = len(wanted - existing)
    report.index_removed = len(existing - wanted)
    known = registry.row_state_refs()
    current = registry.row_states(states)
    for done, (ref, state) in enumerate(sorted(states.items()), 1):
        if current.get(ref) != state:
            registry.put_row_state(ref, state)
        tick("registry rows", done, len(states))
    for ref in sorted(known - states.keys()):
        registry.delete_row_state(ref)


def _write_index(
    write: Callable[[RowRef, set[str]], None], entries: set[tuple[str, RowRef]]
) -> None:
    by_row: dict[RowRef, set[str]] = defaultdict(set)
    for key, ref in entries:
        by_row[ref].add(key)
    for ref, keys in sorted(by_row.items()):
        write(ref, keys)


def default_runtime_dir() -> Path:
    """The `dags_runtime` package shipped with dynadag."""
    spec = importlib.util.find_spec("dags_runtime")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the dags_runtime package is not installed beside dynadag")
    return Path(next(iter(spec.submodule_search_locations)))


def _upload_runtime(sync: DagSync, folder: Path, report: RebuildReport) -> None:
    """Upload dags_runtime/*.py and the .airflowignore; delete runtime files no longer shipped."""
    publisher = sync.publisher
    files = {
        f"{RUNTIME_FOLDER}{path.name}": path.read_bytes() for path in sorted(folder.glob("*.py"))
    }
    files[".airflowignore"] = AIRFLOWIGNORE.encode()
    for name, body in files.items():
        metadata = {"sha256": sha256_hex(body), "compiler-version": __version__}
        if publisher.put_if_changed(publisher.prefix + name, body, metadata).outcome == "written":
            report.runtime_files_written.append(name)
    shipped = {publisher.prefix + name for name in files}
    for key in publisher.keys(publisher.prefix + RUNTIME_FOLDER):
        if key not in shipped:
            publisher.delete_key(key)
