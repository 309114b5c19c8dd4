"""A snapshot of rows: everything `compile_dags` reads, and the ROWS.json file format."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
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


def read_rows_file(path: Path) -> dict[str, list[Row]]:
    """The items of one rows file per table key, numbers as `Decimal` (as DynamoDB wants)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
        data = json.loads(text, parse_float=Decimal, parse_int=Decimal)
    except OSError as exc:
        raise RowsFileError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise RowsFileError(f"{path}: not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise RowsFileError(f"{path}: not valid JSON: {exc}") from None
    except RecursionError:
        raise RowsFileError(f"{path}: nested too deeply for a JSON reader") from None
    try:
        return file_items(data)
    except RowsFileError as exc:
        raise RowsFileError(f"{path}: {exc}") from None


def load_snapshot(path: Path, tables: TableNames = TableNames()) -> Snapshot:
    """Read a ROWS.json file; `RowsFileError` names the file on any problem."""
    return snapshot_from_json(read_rows_file(path), tables)
