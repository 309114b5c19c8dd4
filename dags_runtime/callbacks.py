"""`DagCallbacks`: what every generated DAG calls when a task try ends.

Each try is written to the run history; failures (and, if configured, retries and
successes) publish an alert. Nothing here can fail a task: every error is logged
and swallowed, one destination at a time, so a missing topic does not stop the
history write or the Slack message.

An alert that does not reach a destination is never dropped silently: it logs an
ERROR line starting with ``ALERT_NOT_SENT`` (what failed and why, never a secret),
which a CloudWatch metric filter can count, and increments the StatsD counter
``ALERT_FAILURE_METRIC`` (``airflow.dynadag.alert_failures`` with Airflow's default
prefix) when the environment emits metrics.

Airflow parses a DAG file again at every task start, and parsing only constructs
`DagCallbacks`; the modules that do the work are imported when a callback runs.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from dags_runtime import settings

if TYPE_CHECKING:
    from dags_runtime.alerts import AlertConfig
    from dags_runtime.events import TaskEvent
    from dags_runtime.history import LocalAlertBudget

T = TypeVar("T")
log = logging.getLogger(__name__)
ALERT_NOT_SENT = "dynadag: alert not sent"
ALERT_FAILURE_METRIC = "dynadag.alert_failures"


class DagCallbacks:
    """Task and DAG callbacks for one generated DAG; built from literals at parse time."""

    def __init__(
        self,
        *,
        alerts: Mapping[str, Any],
        dag_row: str,
        task_rows: Mapping[str, str],
        run_history_table: str | None = None,
    ) -> None:
        self.alert_settings = dict(alerts)
        self.dag_row = dag_row
        self.task_rows = dict(task_rows)
        self.run_history_table = run_history_table

    @functools.cached_property
    def alerts(self) -> AlertConfig:
        from dags_runtime.alerts import AlertConfig

        return AlertConfig(**self.alert_settings)

    def on_success(self, context: Mapping[str, Any]) -> None:
        self._task_ended("success", "success", context)

    def on_failure(self, context: Mapping[str, Any]) -> None:
        self._task_ended("failure", "failed", context)

    def on_retry(self, context: Mapping[str, Any]) -> None:
        self._task_ended("retry", "up_for_retry", context)

    def on_skipped(self, context: Mapping[str, Any]) -> None:
        self._task_ended("skipped", "skipped", context)

    def on_dag_failure(self, context: Mapping[str, Any]) -> None:
        """Alert when a run fails for a reason other than a task failure (e.g. it timed out).

        Task failures have alerted already, from the task's own callback.
        """
        from dags_runtime.events import dag_event

        if context.get("reason") == "task_failure":
            return
        _guard(
            "alert the DAG failure",
            lambda: self.alert(dag_event("dag_failure", context, self.dag_row)),
            alert=True,
        )

    def _task_ended(self, kind: str, state: str, context: Mapping[str, Any]) -> None:
        from dags_runtime.events import task_event
        from dags_runtime.history import record_try

        event = _guard(
            f"read the task context of a {kind} event",
            lambda: task_event(kind, state, context, self.dag_row, self.task_rows),
            alert=self.alerts.wants(kind),
        )
        if event is None:
            return
        table = self.history_table()
        if table:
            days = settings.retention_days()
            _guard("record the try", lambda: record_try(_client("dynamodb"), table, event, days))
        if self.alerts.wants(kind):
            _guard("alert", lambda: self.alert(event), alert=True)

    def history_table(self) -> str | None:
        """The job's own table, else ``[dynadag] run_history_table``."""
        return self.run_history_table or settings.option("run_history_table")

    def alert(self, event: TaskEvent) -> None:
        """Publish `event` to SNS and Slack, unless the run has used up its alerts."""
        from dags_runtime.alerts import message, post_slack, publish_sns

        count = self._take_slot(event)
        if count is None:
            log.warning("dynadag: alert limit reached for %s %s", event.dag_id, event.run_id)
            return
        body = message(event, last_allowed=count == self.alerts.max_per_run)
        topic = self.alerts.sns_topic_arn or settings.option("alert_topic_arn")
        where = f"{event.kind} of {event.dag_id} {event.run_id}"
        if topic:
            _guard(
                f"publish the {where} to SNS",
                lambda: publish_sns(_client("sns"), topic, event, body),
                alert=True,
            )
        if self.alerts.slack_conn_id:
            conn_id = self.alerts.slack_conn_id
            _guard(f"post the {where} to Slack", lambda: post_slack(conn_id, event), alert=True)
        if not topic and not self.alerts.slack_conn_id:
            alert_not_sent(f"the {where}", "no destination: set [dynadag] alert_topic_arn")

    def _take_slot(self, event: TaskEvent) -> int | None:
        from dags_runtime.history import take_alert_slot

        limit = self.alerts.max_per_run
        table = self.history_table()
        if table:
            try:
                return take_alert_slot(
                    _client("dynamodb"), table, event.dag_id, event.run_id, limit
                )
            except Exception as exc:  # the counter is best effort: still alert
                log.warning("dynadag: alert counter unavailable (%s); counting locally", exc)
        return _local_budget().take(event.dag_id, event.run_id, limit)


@functools.cache
def _local_budget() -> LocalAlertBudget:
    from dags_runtime.history import LocalAlertBudget

    return LocalAlertBudget()


def _client(service: str) -> Any:
    from dags_runtime.aws import client

    return client(service, settings.aws_conn_id())


def _guard(action: str, call: Callable[[], T], *, alert: bool = False) -> T | None:
    """Run `call`; log and swallow any error so that a callback never fails a task.

    With `alert`, the error means an alert was lost: see `alert_not_sent`.
    """
    try:
        return call()
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        if alert:
            alert_not_sent(f"could not {action}", reason)
        else:
            log.warning("dynadag: could not %s: %s", action, reason)
        return None


def alert_not_sent(what: str, reason: str) -> None:
    """Log a lost alert as an ERROR line starting with `ALERT_NOT_SENT`, and count it."""
    log.error("%s: %s: %s", ALERT_NOT_SENT, what, reason)
    try:
        _stats().incr(ALERT_FAILURE_METRIC)
    except Exception as exc:  # the log line above is the record that counts
        log.error("%s: the %s counter failed too: %s", ALERT_NOT_SENT, ALERT_FAILURE_METRIC, exc)


def _stats() -> Any:
    """Airflow's metrics client, where this release keeps it."""
    try:
        from airflow.sdk.observability.stats import Stats
    except ImportError:  # Airflow 2.x, 3.0 and 3.1
        from airflow.stats import Stats
    return Stats
