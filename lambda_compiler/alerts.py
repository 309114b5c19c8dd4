"""Alerts: one SNS message per DAG that became invalid (or whose problems changed).

`Alerter` wraps an injected SNS client and the topic ARN from
`DYNADAG_ALERT_TOPIC_ARN`; without a topic, alerts are only logged by the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lambda_compiler.model import DagId

_SUBJECT_LIMIT = 100


def alert_text(dag_id: DagId, sources: Sequence[str], problems: Sequence[str]) -> tuple[str, str]:
    """The subject and body of an alert for an invalid DAG."""
    subject = f"dynadag: DAG {dag_id} is invalid"
    if len(subject) > _SUBJECT_LIMIT:
        subject = subject[: _SUBJECT_LIMIT - 3] + "..."
    lines = [
        f"DAG {dag_id} was not updated: its rows have problems. The last good file stays in place.",
        "",
        "Rows:",
        *(f"  {source}" for source in sources),
        "",
        "Problems:",
        *(f"  {problem}" for problem in problems),
    ]
    return subject.encode("ascii", "replace").decode(), "\n".join(lines)


class Alerter:
    """Publishes alerts to one SNS topic."""

    def __init__(self, client: Any, topic_arn: str) -> None:
        self._client = client
        self.topic_arn = topic_arn

    def invalid_dag(self, dag_id: DagId, sources: Sequence[str], problems: Sequence[str]) -> None:
        subject, message = alert_text(dag_id, sources, problems)
        self._client.publish(TopicArn=self.topic_arn, Subject=subject, Message=message)
