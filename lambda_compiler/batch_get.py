"""Consistent `BatchGetItem` reads of keys from several tables in as few calls as allowed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

BATCH_GET_LIMIT = 100


def batch_get(client: Any, keys: Mapping[str, Sequence[dict[str, Any]]]) -> dict[str, list[Any]]:
    """The items found for `keys` (table name → distinct keys), read with `ConsistentRead`.

    Keys of all tables share each call (up to 100 keys per call); unprocessed keys are
    requested again. Missing items are simply absent from the answer.
    """
    pending = [(table, key) for table, table_keys in keys.items() for key in table_keys]
    found: dict[str, list[Any]] = {table: [] for table in keys}
    for start in range(0, len(pending), BATCH_GET_LIMIT):
        request: dict[str, Any] = {}
        for table, key in pending[start : start + BATCH_GET_LIMIT]:
            request.setdefault(table, {"Keys": [], "ConsistentRead": True})["Keys"].append(key)
        while request:
            response = client.batch_get_item(RequestItems=request)
            for table, items in response["Responses"].items():
                found[table].extend(items)
            request = response.get("UnprocessedKeys") or {}
    return found
