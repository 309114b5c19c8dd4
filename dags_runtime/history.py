"""Run history in DynamoDB: one item per task try, and the per-run alert counter.

Table keys (``RunHistoryTable`` in ``template.yaml``): hash ``dag_id``, range
``run_key`` = ``{run_id}#{task_id}#{try:03d}``. Writing the same try again
replaces its item, so a callback that runs twice leaves one item.

The alert counter of a run lives in the same table under hash ``{dag_id}#alerts``
(a DAG id cannot contain ``#``) and range ``run_id``; a conditional update makes
the limit hold across worker processes and hosts.
"""

from __future__ import annotations

import threading
from collections import Counter
from decimal import Decimal
from typing import Any

from dags_runtime.events import TaskEvent

ALERT_COUNTER_SUFFIX = "#alerts"


def history_item(event: TaskEvent, retention_days: int | None = None) -> dict[str, Any]:
    """The DynamoDB item (resource-style values) recorded for one task try.

    With `retention_days`, ``expires_at`` (epoch seconds) lets DynamoDB TTL delete it.
    """
    item: dict[str, Any] = {
        "dag_id": event.dag_id,
        "run_key": event.run_key,
        "run_id": event.run_id,
        "task_id": event.task_id,
        "try_number": event.try_number,
        "state": event.state,
        "start": event.start.isoformat() if event.start else None,
        "end": event.end.isoformat() if event.end else None,
        "duration_seconds": (
            Decimal(str(event.duration_seconds)) if event.duration_seconds is not None else None
        ),
        "error": event.error,
        "log_url": event.log_url,
        "dag_row": event.dag_row,
        "task_row": event.task_row,
    }
    ended = event.end or event.start
    if retention_days is not None and ended is not None:
        item["expires_at"] = int(ended.timestamp()) + retention_days * 86400
    return {key: value for key, value in item.items() if value is not None}


def record_try(
    dynamodb: Any, table: str, event: TaskEvent, retention_days: int | None = None
) -> None:
    """Write one task try (a low-level DynamoDB client is expected)."""
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    item = history_item(event, retention_days)
    item = {key: serializer.serialize(value) for key, value in item.items()}
    dynamodb.put_item(TableName=table, Item=item)


def take_alert_slot(dynamodb: Any, table: str, dag_id: str, run_id: str, limit: int) -> int | None:
    """Count one more alert for the run; the new count, or None when `limit` is reached."""
    try:
        response = dynamodb.update_item(
            TableName=table,
            Key={"dag_id": {"S": dag_id + ALERT_COUNTER_SUFFIX}, "run_key": {"S": run_id}},
            UpdateExpression="ADD sent :one",
            ConditionExpression="attribute_not_exists(sent) OR sent < :limit",
            ExpressionAttributeValues={":one": {"N": "1"}, ":limit": {"N": str(limit)}},
            ReturnValues="UPDATED_NEW",
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return None
    return int(response["Attributes"]["sent"]["N"])


class LocalAlertBudget:
    """The fallback without a run-history table: a count per run in this process only.

    Each Airflow task try runs in its own process, so this limits repeated alerts
    from one process (e.g. a DAG callback) but not across tasks; configure a
    run-history table for a real per-run limit.
    """

    def __init__(self) -> None:
        self._sent: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def take(self, dag_id: str, run_id: str, limit: int) -> int | None:
        with self._lock:
            if self._sent[dag_id, run_id] >= limit:
                return None
            self._sent[dag_id, run_id] += 1
            return self._sent[dag_id, run_id]
