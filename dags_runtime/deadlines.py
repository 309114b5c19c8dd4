"""The Airflow deadline-alert callback: a run is still going after its deadline.

Airflow's scheduler notices the missed deadline and runs this coroutine in the
triggerer with a small context (the DAG run as JSON, the deadline). It publishes
the same kind of alert as a failed task.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dags_runtime.events import TaskEvent


async def deadline_missed(
    *, alerts: Mapping[str, Any], dag_row: str, context: Mapping[str, Any] | None = None
) -> None:
    """Alert that the DAG run in `context` missed its deadline."""
    from dags_runtime.callbacks import DagCallbacks

    event = deadline_event(context or {}, dag_row)
    callbacks = DagCallbacks(alerts=alerts, dag_row=dag_row, task_rows={})
    await asyncio.to_thread(callbacks.alert, event)


def deadline_event(context: Mapping[str, Any], dag_row: str) -> TaskEvent:
    """A `TaskEvent` from the deadline callback's context."""
    from dags_runtime.events import TaskEvent

    run = context.get("dag_run") or {}
    deadline = context.get("deadline") or {}
    return TaskEvent(
        kind="deadline_missed",
        state=str(run.get("state", "running")),
        dag_id=str(run.get("dag_id", "?")),
        run_id=str(run.get("dag_run_id") or run.get("run_id") or "?"),
        task_id=None,
        try_number=None,
        start=_when(run.get("start_date")),
        end=None,
        error=f"deadline {deadline.get('deadline_time')} passed while the run was not finished",
        log_url=None,
        dag_row=dag_row,
        task_row=None,
    )


def _when(value: Any) -> datetime.datetime | None:
    if isinstance(value, datetime.datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.datetime.fromisoformat(value)
        except ValueError:
            return None
    return None
