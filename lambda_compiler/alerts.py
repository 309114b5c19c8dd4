"""Alerts: one SNS message per DAG that became invalid or failed (or whose problems changed).

`Alerter` wraps an injected SNS client and the topic ARN from
`DYNADAG_ALERT_TOPIC_ARN`; without a topic, alerts are only logged by the caller.
A message stays under SNS's 256 KB whatever the rows hold: past `MESSAGE_BYTES` it
is cut, with a note saying so and where the full story is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lambda_compiler.limits import clip, utf8_size
from lambda_compiler.model import DagId

_SUBJECT_LIMIT = 100
MESSAGE_BYTES = 250_000
"""SNS allows 256 KB (262,144 bytes) per message, subject and attributes included."""
_CUT_NOTE = (
    "\n\n[alert cut at {kept} of {total} bytes; `dynadag status {dag_id}` and the "
    "compiler's logs have the rest]"
)


def alert_text(dag_id: DagId, sources: Sequence[str], problems: Sequence[str]) -> tuple[str, str]:
    """The subject and body of an alert for an invalid DAG."""
    return _alert(
        dag_id,
        "is invalid",
        f"DAG {dag_id} was not updated: its rows have problems. The last good file stays in place.",
        sources,
        ["Problems:", *(f"  {problem}" for problem in problems)],
    )


def failure_text(dag_id: DagId, sources: Sequence[str], error: str) -> tuple[str, str]:
    """The subject and body of an alert for a DAG that could not be built."""
    return _alert(
        dag_id,
        "failed",
        f"DAG {dag_id} could not be built and was not updated; the last good file stays in "
        "place. Once the cause is fixed, the next change to its rows (or `dynadag rebuild`) "
        "builds it again.",
        sources,
        ["Error:", f"  {error}"],
    )


def _alert(
    dag_id: DagId, state: str, lead: str, sources: Sequence[str], details: list[str]
) -> tuple[str, str]:
    subject = f"dynadag: DAG {dag_id} {state}"
    if len(subject) > _SUBJECT_LIMIT:
        subject = subject[: _SUBJECT_LIMIT - 3] + "..."
    lines = [lead, "", "Rows:", *(f"  {source}" for source in sources), "", *details]
    return subject.encode("ascii", "replace").decode(), _bounded("\n".join(lines), dag_id)


def _bounded(message: str, dag_id: DagId) -> str:
    """`message`, cut to `MESSAGE_BYTES` with a note when longer."""
    total = utf8_size(message)
    if total <= MESSAGE_BYTES:
        return message
    note = _CUT_NOTE.format(kept=MESSAGE_BYTES, total=total, dag_id=clip(dag_id, 300))
    head = message.encode()[: MESSAGE_BYTES - utf8_size(note)].decode("utf-8", "ignore")
    return head + note


class Alerter:
    """Publishes alerts to one SNS topic."""

    def __init__(self, client: Any, topic_arn: str) -> None:
        self._client = client
        self.topic_arn = topic_arn

    def invalid_dag(self, dag_id: DagId, sources: Sequence[str], problems: Sequence[str]) -> None:
        """Alert that a DAG's rows have problems."""
        self._publish(*alert_text(dag_id, sources, problems))

    def failed_dag(self, dag_id: DagId, sources: Sequence[str], error: str) -> None:
        """Alert that a DAG could not be built (not a retryable AWS error)."""
        self._publish(*failure_text(dag_id, sources, error))

    def _publish(self, subject: str, message: str) -> None:
        self._client.publish(TopicArn=self.topic_arn, Subject=subject, Message=message)
