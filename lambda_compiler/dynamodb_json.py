"""DynamoDB's typed JSON (``{"S": "x"}``) read by boto3's `TypeDeserializer`, for the adapters.

What DynamoDB answers (`BatchGetItem`, `Query`, `Scan`, stream images) is always
well-formed typed JSON, so boto3 reads it. `row_of` hands an item to the core in the
shape every path gives it: numbers as `Decimal`, string and number sets as sorted lists,
binary values as `bytes` (the row's check reports them: a DAG file cannot hold them).
Typed JSON written by hand is checked before boto3 reads it (`rows_file`) or read by
the core's total decoder (`rows.decode_item`). boto3 is imported on first use, so
`import lambda_compiler.cli` stays free of it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, SupportsBytes

from lambda_compiler.rows import Row


@functools.cache
def _deserializer() -> Any:
    from boto3.dynamodb.types import TypeDeserializer

    return TypeDeserializer()


def deserialize(value: Mapping[str, Any]) -> Any:
    """One typed value exactly as boto3 reads it (`Decimal`, `set`, `Binary`)."""
    return _deserializer().deserialize(value)


def row_of(item: Mapping[str, Any]) -> Row:
    """A DynamoDB item (read or stream image) as a row for the core."""
    return {name: row_value(deserialize(value)) for name, value in item.items()}


def row_value(value: Any) -> Any:
    """A decoded value in the core's shape: sets as sorted lists, binary as `bytes`,
    maps and lists walked; everything else as it is."""
    if value is None or isinstance(value, (str, Decimal, bool, int, float)):
        return value
    if isinstance(value, dict):
        return {key: row_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [row_value(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted(row_value(item) for item in value)
    if isinstance(value, SupportsBytes) and not isinstance(value, bytes):
        return bytes(value)  # boto3's `Binary`
    return value
