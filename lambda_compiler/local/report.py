"""One printed line per change: which row changed and what happened to which DAGs, and why.

The handler logs one record per DAG it settles, with the `dag_id` (and `outcome`) as
structured extras. `OutcomeCapture` collects those records while the handler runs;
`ChangeReport` turns an invocation plus the collected DAGs into lines, reading the
registry for each touched DAG's outcome and problems.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from lambda_compiler.local.streams import Handler, Invocation
from lambda_compiler.plan import row_address, table_from_arn
from lambda_compiler.registry import DagRecord
from lambda_compiler.rows import RowRef, row_ref

_DESERIALIZER = TypeDeserializer()
_VERBS = {
    "written": "wrote",
    "unchanged": "unchanged",
    "deleted": "deleted",
    "invalid": "rejected",
    "error": "failed",
    "rolled-back": "rolled back",
}


class OutcomeCapture(logging.Handler):
    """Collects the DAG ids (and outcomes) the handler logs while it runs."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.touched: dict[str, str | None] = {}

    def emit(self, record: logging.LogRecord) -> None:
        dag_id = getattr(record, "dag_id", None)
        if isinstance(dag_id, str):
            outcome = getattr(record, "outcome", None)
            self.touched[dag_id] = outcome if isinstance(outcome, str) else None

    def wrap(self, handler: Handler, logger: logging.Logger) -> Handler:
        """`handler`, with this capture attached to `logger` for each call."""

        def captured(event: dict[str, Any], context: Any) -> Any:
            logger.addHandler(self)
            try:
                return handler(event, context)
            finally:
                logger.removeHandler(self)

        return captured

    def take(self) -> dict[str, str | None]:
        touched, self.touched = self.touched, {}
        return touched


@dataclass(frozen=True)
class DagLine:
    """What happened to one DAG, for printing; `has_file`: a good file of it is current in S3."""

    dag_id: str
    outcome: str
    reasons: tuple[str, ...]
    has_file: bool = False


@dataclass(frozen=True)
class ChangeLine:
    """One changed row and the DAGs it touched."""

    when: str
    event: str
    row: str
    dags: tuple[DagLine, ...]
    note: str | None = None
    timing: str | None = None

    def text(self) -> str:
        """``20:15:03 MODIFY mwaa_task[task_id='1'] → wrote job-daily_sales [handler 80 ms]``."""
        effects = "; ".join(_effect(d) for d in self.dags) or "no DAG affected"
        note = f" ({self.note})" if self.note else ""
        timing = f" [{self.timing}]" if self.timing else ""
        return f"{self.when} {self.event} {self.row}{note} → {effects}{timing}"

    @property
    def failed(self) -> bool:
        return any(d.outcome in ("invalid", "error") for d in self.dags)


def _effect(dag: DagLine) -> str:
    verb = _VERBS.get(dag.outcome, dag.outcome)
    reasons = f": {'; '.join(dag.reasons)}" if dag.reasons else ""
    kept = ""
    if dag.outcome == "invalid":
        kept = ", last good file kept" if dag.has_file else ", no DAG file in S3"
    return f"{verb} {dag.dag_id}{reasons}{kept}"


class ChangeReport:
    """Builds the lines for one handler invocation."""

    def __init__(
        self,
        key_names: dict[str, tuple[str, ...]],
        get_dag: Callable[[str], DagRecord | None],
        clock: Callable[[], datetime.datetime] = datetime.datetime.now,
    ) -> None:
        self._key_names = key_names
        self._get_dag = get_dag
        self._clock = clock

    def lines(self, invocation: Invocation, touched: dict[str, str | None]) -> list[ChangeLine]:
        """One line per record; each DAG goes to the records whose rows it was built from."""
        when = self._clock().strftime("%H:%M:%S")
        records = {dag_id: self._get_dag(dag_id) for dag_id in touched}
        dags = {d: _dag_line(d, outcome, records[d]) for d, outcome in touched.items()}
        sources = {d: _sources(records[d]) for d in dags}
        failed = set(invocation.failed)
        lines = []
        unclaimed = set(dags)
        for record in invocation.records:
            ref = self._ref(record)
            address = row_address(ref)
            mine = [d for d in sorted(dags) if address in sources[d]]
            unclaimed -= set(mine)
            sequence = record["dynamodb"]["SequenceNumber"]
            note = _row_note(record)
            if sequence in failed:
                note = "will be retried" if not invocation.gave_up else "gave up after retries"
            lines.append(
                ChangeLine(when, record["eventName"], str(ref), tuple(dags[d] for d in mine), note)
            )
        if lines:
            count = len(invocation.records)
            batch = f" for {count} records" if count > 1 else ""
            lines[-1] = dataclasses.replace(
                lines[-1],
                dags=lines[-1].dags + tuple(dags[d] for d in sorted(unclaimed)),
                timing=f"handler {invocation.seconds * 1000:.0f} ms{batch}",
            )
        return lines

    def _ref(self, record: dict[str, Any]) -> RowRef:
        table = table_from_arn(record["eventSourceARN"])
        keys = {k: _DESERIALIZER.deserialize(v) for k, v in record["dynamodb"]["Keys"].items()}
        return row_ref(table, self._key_names.get(table, tuple(sorted(keys))), keys)


def _dag_line(dag_id: str, outcome: str | None, record: DagRecord | None) -> DagLine:
    final = outcome or (record.outcome if record else None) or "unchanged"
    reasons: tuple[str, ...] = ()
    if record is not None and final == "invalid":
        reasons = record.problems
    elif record is not None and final == "error" and record.error:
        reasons = (record.error,)
    # The registry keeps a rejected DAG's last good file's sha256; a delete removes it.
    has_file = record is not None and record.sha256 is not None
    return DagLine(dag_id, final, reasons, has_file)


def _sources(record: DagRecord | None) -> frozenset[str]:
    """The row addresses a DAG was built from or is claimed by."""
    return frozenset(record.sources) | record.claims if record else frozenset()


def _row_note(record: dict[str, Any]) -> str | None:
    """Why a DAG may have gone: the row was removed or disabled."""
    if record["eventName"] == "REMOVE":
        return "row removed"
    status = record["dynamodb"].get("NewImage", {}).get("status")
    if status is not None and _DESERIALIZER.deserialize(status) in (0, "0"):
        return "disabled"
    return None
