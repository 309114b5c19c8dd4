"""Rows files (the format `dynadag compile` reads) to and from DynamoDB items.

A rows file is ``{"mwaa_task": [...], "mwaa_job": [...], "mwaa_scheduler": [...]}`` with
items as plain JSON or as DynamoDB-typed JSON. Items are written as they are (a JSON
string attribute stays a string), so the tables look like the original solution's.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer

from lambda_compiler.rows import Row, is_typed_item
from lambda_compiler.snapshot import FILE_KEYS, RowsFileError, TableNames

_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()


def rows_files(path: Path) -> list[Path]:
    """`path` itself, or the `*.json` files of a directory in name order."""
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.json"))
        if not files:
            raise RowsFileError(f"{path}: no *.json rows files in this directory")
        return files
    if not path.exists():
        raise RowsFileError(f"{path}: no such file or directory")
    return [path]


def to_typed(item: Row) -> Row:
    """A plain or typed item as DynamoDB-typed JSON, ready for `PutItem`."""
    if is_typed_item(item):
        return item
    return {name: _SERIALIZER.serialize(value) for name, value in item.items()}


def to_plain(item: Row) -> Row:
    """A typed item as plain JSON values (whole numbers as `int`, others as `float`)."""
    return {name: _plain(_DESERIALIZER.deserialize(value)) for name, value in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Binary):
        raise RowsFileError("binary attributes have no plain-JSON form; rows never need them")
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, set):
        return [_plain(v) for v in sorted(value)]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def table_items(rows: dict[str, list[Row]], tables: TableNames) -> Iterator[tuple[str, Row]]:
    """``(table name, typed item)`` for every item of a rows file, tasks first."""
    names = dict(zip(FILE_KEYS, (tables.task, tables.job, tables.scheduler), strict=True))
    for key in FILE_KEYS:
        for item in rows.get(key, []):
            yield names[key], to_typed(item)


def put_rows(dynamodb: Any, rows: dict[str, list[Row]], tables: TableNames) -> int:
    """Write every item with `PutItem` (one stream record each); returns how many."""
    count = 0
    for table, item in table_items(rows, tables):
        dynamodb.put_item(TableName=table, Item=item)
        count += 1
    return count
