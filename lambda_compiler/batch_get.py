"""Consistent `BatchGetItem` reads of keys from several tables in as few calls as allowed."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

BATCH_GET_LIMIT = 100


def batch_get(
    client: Any, keys: Mapping[str, Sequence[dict[str, Any]]], pool: Executor | None = None
) -> dict[str, list[Any]]:
    """The items found for `keys` (table name → distinct keys), read with `ConsistentRead`.

    Keys of all tables share each call (up to 100 keys per call; with `pool`, the calls
    run concurrently); unprocessed keys are requested again. Missing items are simply
    absent from the answer.
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
    while request:
        response = client.batch_get_item(RequestItems=request)
        for table, items in response["Responses"].items():
            found.setdefault(table, []).extend(items)
        request = response.get("UnprocessedKeys") or {}
    return found
