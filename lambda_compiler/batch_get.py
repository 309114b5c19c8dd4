"""Consistent `BatchGetItem` reads of keys from several tables in as few calls as allowed,
and the bounded, jittered retry of what a batch call leaves unprocessed."""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

BATCH_GET_LIMIT = 100
BATCH_ATTEMPTS = 8
"""Calls per batch before the keys or items DynamoDB keeps leaving unprocessed fail."""
BACKOFF_BASE_SECONDS = 0.05
BACKOFF_CAP_SECONDS = 2.0

Sleep = Callable[[float], None]


def backoff_delay(attempt: int, rand: Callable[[], float] = random.random) -> float:
    """Full jitter: a uniform delay up to ``base * 2**attempt`` seconds (capped), the wait
    before call ``attempt + 1`` of a batch."""
    return rand() * min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * (1 << attempt))


def until_processed(
    call: Callable[[dict[str, Any]], dict[str, Any]],
    request: dict[str, Any],
    unprocessed: str,
    *,
    sleep: Sleep | None = None,
) -> None:
    """Send `request` with `call`, then what its answer's `unprocessed` field leaves, with
    full-jitter backoff between calls. After `BATCH_ATTEMPTS` calls a `RetryableError`
    (transient: the stream records are retried later) names the tables left."""
    for attempt in range(BATCH_ATTEMPTS):
        if attempt:
            (sleep or time.sleep)(backoff_delay(attempt))
        request = call(request).get(unprocessed) or {}
        if not request:
            return
    from lambda_compiler.aws_errors import RetryableError  # botocore: only on this path

    tables = ", ".join(sorted(request))
    raise RetryableError(
        f"DynamoDB left {unprocessed} of table(s) {tables} after {BATCH_ATTEMPTS} calls"
    )


def batch_get(
    client: Any, keys: Mapping[str, Sequence[dict[str, Any]]], pool: Executor | None = None
) -> dict[str, list[Any]]:
    """The items found for `keys` (table name → distinct keys), read with `ConsistentRead`.

    Keys of all tables share each call (up to 100 keys per call; with `pool`, the calls
    run concurrently); unprocessed keys are requested again after a jittered backoff
    (`until_processed`). Missing items are simply absent from the answer.
    """
    pending = [(table, key) for table, table_keys in keys.items() for key in table_keys]
    chunks = [
        pending[start : start + BATCH_GET_LIMIT]
        for start in range(0, len(pending), BATCH_GET_LIMIT)
    ]
    if pool is None or len(chunks) < 2:
        answers = [_get_chunk(client, chunk) for chunk in chunks]
    else:
        answers = list(pool.map(functools.partial(_get_chunk, client), chunks))
    found: dict[str, list[Any]] = {table: [] for table in keys}
    for answer in answers:
        for table, items in answer.items():
            found[table].extend(items)
    return found


def _get_chunk(client: Any, chunk: list[tuple[str, dict[str, Any]]]) -> dict[str, list[Any]]:
    request: dict[str, Any] = {}
    for table, key in chunk:
        request.setdefault(table, {"Keys": [], "ConsistentRead": True})["Keys"].append(key)
    found: dict[str, list[Any]] = {}

    def call(request: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = client.batch_get_item(RequestItems=request)
        for table, items in response["Responses"].items():
            found.setdefault(table, []).extend(items)
        return response

    until_processed(call, request, "UnprocessedKeys")
    return found
