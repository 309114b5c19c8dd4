"""One printed line per change: which row changed and what happened to which DAGs, and why.

The handler returns its batch's report beside the partial batch response
(`handler.REPORT`: per DAG its outcome, problems or error, whether a good file stays,
and the records, by index, that led to it). `ChangeReport` turns an invocation and
that report into lines.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lambda_compiler.dynamodb_json import deserialize, row_of
from lambda_compiler.handler import REPORT
from lambda_compiler.local.streams import Invocation
from lambda_compiler.outcome import Outcome
from lambda_compiler.plan import table_from_arn
from lambda_compiler.rows import RowRef, row_ref

_VERBS = {
    Outcome.WRITTEN: "wrote",
    Outcome.UNCHANGED: "unchanged",
    Outcome.DELETED: "deleted",
    Outcome.INVALID: "rejected",
    Outcome.ERROR: "failed",
    Outcome.ROLLED_BACK: "rolled back",
}


@dataclass(frozen=True)
class DagLine:
    """What happened to one DAG, for printing; `has_file`: a good file of it is current in S3."""

    dag_id: str
    outcome: Outcome
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
        return any(d.outcome in (Outcome.INVALID, Outcome.ERROR) for d in self.dags)


def _effect(dag: DagLine) -> str:
    verb = _VERBS.get(dag.outcome, dag.outcome)
    reasons = f": {'; '.join(dag.reasons)}" if dag.reasons else ""
    kept = ""
    if dag.outcome == Outcome.INVALID:
        kept = ", last good file kept" if dag.has_file else ", no DAG file in S3"
    return f"{verb} {dag.dag_id}{reasons}{kept}"


class ChangeReport:
    """Builds the lines for one handler invocation."""

    def __init__(
        self,
        key_names: dict[str, tuple[str, ...]],
        clock: Callable[[], datetime.datetime] = datetime.datetime.now,
    ) -> None:
        self._key_names = key_names
        self._clock = clock

    def lines(self, invocation: Invocation) -> list[ChangeLine]:
        """One line per record, with the DAGs its change led to (from the handler's report)."""
        when = self._clock().strftime("%H:%M:%S")
        response = invocation.response if isinstance(invocation.response, Mapping) else {}
        reported = (response.get(REPORT) or {}).get("dags", [])
        dags = {
            entry["dag_id"]: (_dag_line(entry), set(entry.get("changes", ()))) for entry in reported
        }
        failed = set(invocation.failed)
        lines = []
        unclaimed = set(dags)
        for index, record in enumerate(invocation.records):
            mine = [d for d in sorted(dags) if index in dags[d][1]]
            unclaimed -= set(mine)
            sequence = record["dynamodb"]["SequenceNumber"]
            note = _row_note(record)
            if sequence in failed:
                note = "will be retried" if not invocation.gave_up else "gave up after retries"
            row = str(self._ref(record))
            lines.append(
                ChangeLine(when, record["eventName"], row, tuple(dags[d][0] for d in mine), note)
            )
        if lines:
            count = len(invocation.records)
            batch = f" for {count} records" if count > 1 else ""
            lines[-1] = dataclasses.replace(
                lines[-1],
                dags=lines[-1].dags + tuple(dags[d][0] for d in sorted(unclaimed)),
                timing=f"handler {invocation.seconds * 1000:.0f} ms{batch}",
            )
        return lines

    def _ref(self, record: dict[str, Any]) -> RowRef:
        table = table_from_arn(record["eventSourceARN"])
        keys = row_of(record["dynamodb"]["Keys"])
        return row_ref(table, self._key_names.get(table, tuple(sorted(keys))), keys)


def _dag_line(entry: Mapping[str, Any]) -> DagLine:
    """A DAG of the handler's report (`DagReport.to_dict`) as a printed line's part."""
    outcome = Outcome(entry["outcome"])
    reasons: tuple[str, ...] = ()
    if outcome == Outcome.INVALID:
        reasons = tuple(entry.get("problems", ()))
    elif outcome == Outcome.ERROR and entry.get("error"):
        reasons = (entry["error"],)
    return DagLine(entry["dag_id"], outcome, reasons, bool(entry.get("kept_file")))


def _row_note(record: dict[str, Any]) -> str | None:
    """Why a DAG may have gone: the row was removed or disabled."""
    if record["eventName"] == "REMOVE":
        return "row removed"
    status = record["dynamodb"].get("NewImage", {}).get("status")
    if status is not None and deserialize(status) in (0, "0"):
        return "disabled"
    return None
