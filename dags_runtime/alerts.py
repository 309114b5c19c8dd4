"""Alert messages and where they go: an SNS topic, and optionally a Slack webhook.

Slack is reached with ``urllib`` from an Airflow connection, so no Slack or HTTP
provider is needed: the connection's password is either the whole webhook URL or
the token part (``T000/B000/XXX``) appended to its host (default
``https://hooks.slack.com/services``), as the Slack provider's ``slackwebhook``
connection stores it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from dags_runtime.events import TaskEvent

SLACK_HOST = "https://hooks.slack.com/services"
_VERBS = {
    "failure": "failed",
    "retry": "failed, will retry",
    "success": "succeeded",
    "skipped": "was skipped",
    "dag_failure": "run failed",
    "deadline_missed": "run missed its deadline",
}


@dataclass(frozen=True)
class AlertConfig:
    """A job's or scheduler's ``alerts`` settings, as the compiler wrote them."""

    on_failure: bool = True
    on_retry: bool = False
    on_success: bool = False
    sns_topic_arn: str | None = None
    slack_conn_id: str | None = None
    max_per_run: int = 20

    def wants(self, kind: str) -> bool:
        """Whether an event of this kind should alert; run-level events always do."""
        return {
            "failure": self.on_failure,
            "retry": self.on_retry,
            "success": self.on_success,
            "skipped": False,
        }.get(kind, True)


def subject(event: TaskEvent) -> str:
    """A one-line SNS subject (at most 100 characters, as SNS requires)."""
    where = f"{event.dag_id}.{event.task_id}" if event.task_id else event.dag_id
    attempt = f" (try {event.try_number})" if event.try_number else ""
    text = f"[dynadag] {where} {_VERBS.get(event.kind, event.kind)}{attempt}"
    text = text.encode("ascii", "replace").decode()
    return text if len(text) <= 100 else text[:99] + "~"


def message(event: TaskEvent, *, last_allowed: bool) -> dict[str, Any]:
    """The JSON alert body: the event's fields, plus a note on the last alert allowed."""
    body = {"source": "dynadag", "subject": subject(event), **event.as_dict()}
    if last_allowed:
        body["note"] = "alert limit for this run reached: further alerts of this run are dropped"
    return body


def publish_sns(sns: Any, topic_arn: str, event: TaskEvent, body: dict[str, Any]) -> None:
    """Publish `body` as indented JSON, with the event kind and DAG as message attributes."""
    sns.publish(
        TopicArn=topic_arn,
        Subject=subject(event),
        Message=json.dumps(body, indent=2, ensure_ascii=False),
        MessageAttributes={
            "event": {"DataType": "String", "StringValue": event.kind},
            "dag_id": {"DataType": "String", "StringValue": event.dag_id},
        },
    )


def slack_webhook_url(host: str | None, password: str | None) -> str:
    """The webhook URL held by a Slack connection; only http(s) URLs are accepted."""
    from urllib.parse import urlsplit

    if not password:
        raise ValueError("the Slack connection has no password (the webhook token or URL)")
    if password.startswith(("https://", "http://")):
        url = password
    else:
        base = (host or SLACK_HOST).rstrip("/")
        if "://" not in base:
            base = f"https://{base}"
        url = f"{base}/{password.lstrip('/')}"
    if urlsplit(url).scheme not in ("https", "http"):
        raise ValueError("the Slack webhook URL must use https")
    return url


def slack_text(event: TaskEvent) -> str:
    """The Slack message: what happened, where, the error and a link to the log."""
    lines = [f"*{subject(event).removeprefix('[dynadag] ')}*", f"run `{event.run_id}`"]
    if event.error:
        lines.append(f"```{event.error[:1500]}```")
    if event.log_url:
        lines.append(f"<{event.log_url}|log>")
    return "\n".join(lines)


class SlackError(RuntimeError):
    """A Slack post failed; the message never contains the webhook URL or token."""


def post_slack(conn_id: str, event: TaskEvent, timeout: float = 10.0) -> None:
    """Post `event` to the Slack webhook stored in the Airflow connection `conn_id`."""
    import urllib.request

    connection = base_hook().get_connection(conn_id)
    url = slack_webhook_url(connection.host, connection.password)
    request = urllib.request.Request(
        url,
        data=json.dumps({"text": slack_text(event)}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
    except Exception as exc:
        reason = str(exc).replace(url, "<webhook>")
        if connection.password:
            reason = reason.replace(connection.password, "<token>")
        raise SlackError(f"connection {conn_id!r}: {type(exc).__name__}: {reason}") from None


def base_hook() -> Any:
    """Airflow's `BaseHook` where this release keeps it (`airflow.sdk` from 3.1)."""
    try:
        from airflow.sdk import BaseHook
    except ImportError:  # Airflow 2.x and 3.0 (mypy checks against the newest Airflow)
        from airflow.hooks.base import BaseHook  # type: ignore[attr-defined,no-redef]
    return BaseHook
