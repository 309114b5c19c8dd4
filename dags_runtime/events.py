"""What happened: one task try (or one DAG run) described from an Airflow context."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_ERROR_CHARS = 2000


@dataclass(frozen=True)
class TaskEvent:
    """The end of one task try: its state, timing and error, and the rows behind it."""

    kind: str  # "failure", "retry", "success", "skipped", "dag_failure", "deadline_missed"
    state: str
    dag_id: str
    run_id: str
    task_id: str | None
    try_number: int | None
    start: datetime.datetime | None
    end: datetime.datetime | None
    error: str | None
    log_url: str | None
    dag_row: str
    task_row: str | None

    @property
    def duration_seconds(self) -> float | None:
        if self.start is None or self.end is None:
            return None
        return round((self.end - self.start).total_seconds(), 3)

    @property
    def run_key(self) -> str:
        """The run-history sort key: one item per try, so rewriting a try is idempotent."""
        return f"{self.run_id}#{self.task_id}#{self.try_number or 0:03d}"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields, for alert messages."""
        return {
            "event": self.kind,
            "state": self.state,
            "dag_id": self.dag_id,
            "task_id": self.task_id,
            "run_id": self.run_id,
            "try_number": self.try_number,
            "start": _iso(self.start),
            "end": _iso(self.end),
            "duration_seconds": self.duration_seconds,
            "error": self.error,
            "log_url": self.log_url,
            "dag_row": self.dag_row,
            "task_row": self.task_row,
        }


def task_event(
    kind: str, state: str, context: Mapping[str, Any], dag_row: str, task_rows: Mapping[str, str]
) -> TaskEvent:
    """A `TaskEvent` from a task callback's context."""
    ti = context["ti"]
    return TaskEvent(
        kind=kind,
        state=state,
        dag_id=ti.dag_id,
        run_id=ti.run_id,
        task_id=ti.task_id,
        try_number=ti.try_number,
        start=getattr(ti, "start_date", None),
        end=getattr(ti, "end_date", None) or datetime.datetime.now(datetime.UTC),
        error=error_text(context.get("exception")),
        log_url=_log_url(ti),
        dag_row=dag_row,
        task_row=task_rows.get(ti.task_id),
    )


def dag_event(kind: str, context: Mapping[str, Any], dag_row: str) -> TaskEvent:
    """A `TaskEvent` for a whole DAG run, from a DAG callback's context.

    The DAG processor may pass only ``dag``, ``run_id`` and ``reason``; ``dag_run``
    and the task-instance keys are there when Airflow knows the run's last task.
    """
    run = context.get("dag_run")
    dag = context.get("dag")
    return TaskEvent(
        kind=kind,
        state=str(getattr(run, "state", None) or "failed"),
        dag_id=str(getattr(run, "dag_id", None) or getattr(dag, "dag_id", "?")),
        run_id=str(context.get("run_id") or getattr(run, "run_id", "?")),
        task_id=None,
        try_number=None,
        start=getattr(run, "start_date", None),
        end=getattr(run, "end_date", None),
        error=str(context.get("reason") or "") or None,
        log_url=None,
        dag_row=dag_row,
        task_row=None,
    )


def error_text(exception: BaseException | str | None) -> str | None:
    """``Type: message``, cut to a size that fits an alert and a DynamoDB item."""
    if exception is None:
        return None
    text = exception if isinstance(exception, str) else f"{type(exception).__name__}: {exception}"
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


def _log_url(ti: Any) -> str | None:
    """The try's log page; Airflow 3.0's task instances have none, so it is built as 3.1 does."""
    try:
        url = ti.log_url or _ui_log_url(ti)
    except Exception:  # the URL is a convenience; a missing [api] base_url must not matter
        return None
    return str(url)


def _ui_log_url(ti: Any) -> str:
    from urllib.parse import quote

    from dags_runtime.settings import airflow_option

    base = airflow_option("api", "base_url", "http://localhost:8080/") or ""
    index = getattr(ti, "map_index", None)
    mapped = f"/mapped/{index}" if index is not None and index >= 0 else ""
    try_number = f"?try_number={ti.try_number}" if ti.try_number else ""
    return (
        f"{base.rstrip('/')}/dags/{ti.dag_id}/runs/{quote(ti.run_id)}/tasks/{ti.task_id}"
        f"{mapped}{try_number}"
    )


def _iso(value: datetime.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
