"""What becomes of one compiled DAG? Publish, delete, keep (invalid) or hold (pinned),
then record the outcome in the registry and alert.

`Settler.settle` is shared by the stream path (`sync.py`), the deploy-time rebuild
(`rebuild.py`) and `dynadag rollback`. Its rules:

- a crashed compile (`isolation.CompileCrash`) or any exception while publishing is
  the DAG's ``error``: recorded, logged (with the traceback when it is not an AWS
  error) and alerted once (not when it will be retried, nor when the same error was
  already recorded); the last good file stays;
- a DAG pinned by a rollback (`DagRecord.pinned`) keeps its file: its rows are still
  compiled, and their problems and would-be sha256 recorded (``pinned``), but nothing
  is published or deleted until the pin is released;
- an invalid DAG keeps its last good file (``invalid``), alerted when its problems
  are new; a file dynadag did not write at the DAG's key is an invalid DAG too;
- a valid DAG is put when its bytes changed (``written``), else ``unchanged``; when the
  registry records the file in S3 (its ETag) or none, and the bytes differ from the
  recorded ones, the put is conditional on that (`DagPublisher.replace`) instead of
  looking first; S3 refuses it if the object is another, which is then looked at;
- an outcome the registry already holds word for word is not written again;
- a DAG not rendered because its inputs are the recorded file's (`compiler.Skipped`)
  is ``unchanged`` with nothing written, not even its outcome, when the object in S3
  is still the recorded one (same version and sha256); otherwise it is rendered and
  settled as above;
- a DAG no row produces any more is deleted (``deleted``; ``unchanged`` when there was
  no file of dynadag's to delete).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from lambda_compiler import __version__
from lambda_compiler.alerts import Alerter
from lambda_compiler.aws_errors import AWS_ERRORS, is_transient, log_error
from lambda_compiler.compiler import DagResult, Skipped
from lambda_compiler.isolation import CompileCrash
from lambda_compiler.limits import TEXT_BYTES, bounded_problems, clip
from lambda_compiler.model import DagId
from lambda_compiler.outcome import Outcome
from lambda_compiler.problems import Problem, ProblemCode
from lambda_compiler.publish import Current, DagPublisher
from lambda_compiler.registry import DagRecord, OutcomeRecord, Registry
from lambda_compiler.rows import RowRef

Later = Callable[[Callable[[], None]], None]
"""Runs a registry write the caller waits for itself (e.g. submits it to a pool)."""


@dataclass(frozen=True)
class DagReport:
    """What happened to one DAG.

    For an `error`: `retry` when it was a transient AWS error (its changes are
    retried), `crashed` when it was not an AWS error at all.
    """

    dag_id: DagId
    outcome: Outcome
    problems: tuple[str, ...] = ()
    error: str | None = None
    foreign_file: bool = False
    """A file dynadag did not write is at the DAG's key; it was left alone."""
    retry: bool = False
    crashed: bool = False
    kept_file: bool = False
    """For `invalid`: a good file of the DAG stays current in S3."""

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-safe data (what the handler returns)."""
        data: dict[str, Any] = {"dag_id": self.dag_id, "outcome": self.outcome.value}
        if self.problems:
            data["problems"] = list(self.problems)
        if self.error:
            data["error"] = self.error
        for flag in ("foreign_file", "retry", "crashed", "kept_file"):
            if getattr(self, flag):
                data[flag] = True
        return data


class Settler:
    """Settles DAGs into the bucket and the registry, alerting through `alerter`."""

    def __init__(
        self,
        publisher: DagPublisher,
        registry: Registry,
        alerter: Alerter | None = None,
        logger: logging.Logger | Any | None = None,
    ) -> None:
        self.publisher = publisher
        self.registry = registry
        self.alerter = alerter
        self.log = logger or logging.getLogger(__name__)

    def settle(
        self,
        dag_id: DagId,
        dag: DagResult | Skipped | CompileCrash | None,
        previous: DagRecord | None,
        head: Future[Current | None] | None = None,
        later: Later | None = None,
    ) -> DagReport:
        """Publish, keep (invalid), hold (pinned) or delete (`dag` is None) one DAG's file.

        `previous` is the DAG's registry record; `head` the object's current state if
        already being looked up. Exceptions never escape: a crashed compile or any
        error while publishing becomes an `error` outcome. With `later`, a published
        DAG's outcome write is handed to it instead of made here (the caller waits for
        it, and makes a failure of it the DAG's `error` with `failure`).
        """
        try:
            if isinstance(dag, Skipped):
                current = head.result() if head else self._current(dag_id)
                if previous is not None and _is_recorded(current, previous):
                    return DagReport(dag_id, Outcome.UNCHANGED)
                head = _known(current)
                dag = dag.render()
            if isinstance(dag, CompileCrash):
                return self.failure(dag_id, dag.error, previous, dag.inputs)
            if previous is not None and previous.pinned:
                return self._hold(dag_id, dag, previous)
            if dag is not None and not dag.ok:
                return self._invalid(dag, previous)
            if dag is None:
                current = head.result() if head else self._current(dag_id)
                return self._delete(dag_id, previous, current)
            return self._publish(dag, head, previous, later)
        except Exception as exc:
            return self.failure(dag_id, exc, previous, dag.inputs if dag else ())

    def _current(self, dag_id: DagId) -> Current | None:
        return self.publisher.current(self.publisher.key(dag_id))

    def failure(
        self,
        dag_id: DagId,
        exc: Exception,
        previous: DagRecord | None,
        inputs: Sequence[RowRef],
    ) -> DagReport:
        """Log, record and (once, unless it is retried) alert a DAG that was not built;
        its report."""
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
            log_error(self.log, "publishing failed", exc, dag_id=dag_id)
        try:
            sources = tuple(ref.address for ref in inputs)
            self.registry.record_outcome(
                OutcomeRecord(dag_id, Outcome.ERROR, sources=sources, error=error), previous
            )
            repeated = previous is not None and (previous.outcome, previous.error) == (
                Outcome.ERROR,
                error,
            )
            if self.alerter and not (retry or repeated):
                self.alerter.failed_dag(dag_id, [str(ref) for ref in inputs], error)
        except Exception as again:
            log_error(
                self.log, "recording or alerting the failure failed too", again, dag_id=dag_id
            )
        return DagReport(dag_id, Outcome.ERROR, error=error, retry=retry, crashed=crashed)

    def _publish(
        self,
        dag: DagResult,
        head: Future[Current | None] | None,
        previous: DagRecord | None,
        later: Later | None = None,
    ) -> DagReport:
        assert dag.source is not None
        published = None
        if head is None and _replaceable(previous, dag, self.publisher.key(dag.dag_id)):
            etag = previous.etag if previous and previous.sha256 else None
            published = self.publisher.replace(dag.dag_id, dag.source, dag.inputs, etag)
        if published is None:
            current = head.result() if head else self._current(dag.dag_id)
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
        outcome = Outcome.WRITTEN if published.outcome == "written" else Outcome.UNCHANGED
        record = functools.partial(
            self.registry.record_outcome,
            OutcomeRecord(
                dag.dag_id,
                outcome,
                kind=dag.kind,
                s3_key=published.key,
                version_id=published.version_id,
                sha256=dag.sha256,
                sources=tuple(ref.address for ref in dag.inputs),
                compiler_version=__version__,
                inputs_key=dag.inputs_key,
                etag=published.etag,
            ),
            previous,
        )
        (later or _now)(record)
        self.log.info("DAG %s", outcome.value, extra={"dag_id": dag.dag_id, "key": published.key})
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
        sources = tuple(ref.address for ref in dag.inputs)
        self.registry.record_outcome(
            OutcomeRecord(
                dag.dag_id,
                Outcome.INVALID,
                kind=dag.kind,
                s3_key=self.publisher.key(dag.dag_id),
                sources=sources,
                problems=problems,
                compiler_version=__version__,
            ),
            previous,
        )
        self.log.warning(
            "DAG %s is invalid; the file in S3 stays",
            dag.dag_id,
            extra={"dag_id": dag.dag_id, "problems": list(problems)},
        )
        repeated = (
            previous is not None
            and previous.outcome == Outcome.INVALID
            and previous.problems == bounded_problems(problems)
        )
        if self.alerter and not repeated:
            self.alerter.invalid_dag(dag.dag_id, [str(ref) for ref in dag.inputs], problems)
        kept = previous is not None and previous.sha256 is not None
        return DagReport(
            dag.dag_id, Outcome.INVALID, problems, foreign_file=foreign_file, kept_file=kept
        )

    def _hold(self, dag_id: DagId, dag: DagResult | None, previous: DagRecord) -> DagReport:
        """Record what a pinned DAG's rows compile to (`dag` None: they no longer produce
        it); its file, the rollback, stays."""
        problems = tuple(str(problem) for problem in dag.problems) if dag else ()
        self.registry.record_outcome(
            OutcomeRecord(
                dag_id,
                Outcome.PINNED,
                kind=dag.kind if dag else None,
                sources=tuple(ref.address for ref in dag.inputs) if dag else (),
                problems=problems,
                compiler_version=__version__,
                pending_sha256=dag.sha256 if dag else None,
            ),
            previous,
        )
        self.log.warning(
            "DAG %s is pinned by a rollback: its file stays; "
            "`dynadag rollback --release %s` publishes its rows",
            dag_id,
            dag_id,
            extra={"dag_id": dag_id, "pinned_version": previous.pinned_version},
        )
        return DagReport(dag_id, Outcome.PINNED, problems)

    def _delete(
        self, dag_id: DagId, previous: DagRecord | None, current: Current | None
    ) -> DagReport:
        deleted = self.publisher.delete(dag_id, current)
        foreign = deleted.outcome == "foreign"
        if deleted.outcome == "deleted" or (previous and previous.outcome != Outcome.DELETED):
            version_id = None if foreign else deleted.version_id
            self.registry.record_outcome(
                OutcomeRecord(dag_id, Outcome.DELETED, s3_key=deleted.key, version_id=version_id)
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
        outcome = Outcome.DELETED if deleted.outcome == "deleted" else Outcome.UNCHANGED
        return DagReport(dag_id, outcome, foreign_file=foreign)


def needs_head(previous: DagRecord | None) -> bool:
    """True when settling the DAG will look at its S3 object whatever it compiles to: the
    registry records a file of dynadag's without an ETag to put on (see `_replaceable`)."""
    return previous is not None and previous.sha256 is not None and previous.etag is None


def _replaceable(previous: DagRecord | None, dag: DagResult, key: str) -> bool:
    """True when `dag` can be put without looking first, conditional on the object at
    `key` being the one the registry records: none (no file of dynadag's recorded), or
    the file with the recorded ETag and other bytes than `dag`'s (S3 refuses the put
    otherwise, and the object is then looked at)."""
    if previous is None or previous.sha256 is None:
        return True
    recorded = previous.etag is not None and previous.s3_key == key
    return recorded and previous.sha256 != dag.sha256


def _is_recorded(current: Current | None, previous: DagRecord) -> bool:
    """True when the object in S3 is the file `previous` records (and dynadag's)."""
    return (
        current is not None
        and current.by_dynadag
        and (current.version_id, current.sha256) == (previous.version_id, previous.sha256)
    )


def _known(current: Current | None) -> Future[Current | None]:
    """`current`, already looked up, as the answer of a lookup."""
    known: Future[Current | None] = Future()
    known.set_result(current)
    return known


def _now(write: Callable[[], None]) -> None:
    write()
