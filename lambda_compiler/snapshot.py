"""A snapshot of rows: everything `compile_dags` reads, and the shape of a ROWS.json file
(`lambda_compiler.rows_file` reads the files)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lambda_compiler.rows import JOB_TABLE, SCHEDULER_TABLE, TASK_TABLE, Row, decode_item

FILE_KEYS = (TASK_TABLE, JOB_TABLE, SCHEDULER_TABLE)


@dataclass(frozen=True)
class TableNames:
    """The DynamoDB table names, used in problem messages and by the adapters."""

    task: str = TASK_TABLE
    job: str = JOB_TABLE
    scheduler: str = SCHEDULER_TABLE


@dataclass(frozen=True)
class Snapshot:
    """Rows of the three tables, decoded to plain Python.

    A snapshot may be partial (the Lambda reads only what a change affects), but it
    must then hold every row the compiled DAGs refer to.
    """

    tasks: list[Row] = field(default_factory=list)
    jobs: list[Row] = field(default_factory=list)
    schedulers: list[Row] = field(default_factory=list)
    tables: TableNames = TableNames()


class RowsFileError(ValueError):
    """ROWS.json is not in the expected shape; the message says where."""


def snapshot_from_json(data: Any, tables: TableNames = TableNames()) -> Snapshot:
    """A snapshot from ``{"mwaa_task": [...], "mwaa_job": [...], "mwaa_scheduler": [...]}``.

    Items may be plain JSON or DynamoDB-typed JSON; a missing table is empty.
    """
    lists = {key: [decode_item(item) for item in items] for key, items in file_items(data).items()}
    return Snapshot(lists[TASK_TABLE], lists[JOB_TABLE], lists[SCHEDULER_TABLE], tables)


def file_items(data: Any) -> dict[str, list[Row]]:
    """The items of a ROWS.json document per table key, as written (plain or typed JSON)."""
    if not isinstance(data, dict):
        raise RowsFileError("the rows file must hold a JSON object keyed by table name")
    unknown = sorted(set(data) - set(FILE_KEYS))
    if unknown:
        raise RowsFileError(f"unknown tables {unknown}; expected {list(FILE_KEYS)}")
    lists = {}
    for key in FILE_KEYS:
        items = data.get(key, [])
        if isinstance(items, dict) and "Items" in items:  # `aws dynamodb scan` output
            items = items["Items"]
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise RowsFileError(f"{key!r} must be a list of items (objects)")
        lists[key] = items
    return lists
