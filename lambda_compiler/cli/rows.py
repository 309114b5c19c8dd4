"""`dynadag export` and `dynadag import`: the three tables to and from a rows file.

The file is the one `dynadag compile` reads, so rows can be reviewed in git, compiled
in CI and moved between accounts.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from lambda_compiler.cli.aws import aws_command, connect
from lambda_compiler.cli.common import (
    FormatOption,
    OutputFormat,
    fail,
    problem_dicts,
    write_json,
)
from lambda_compiler.cli.output import say
from lambda_compiler.rows import JOB_KEY, SCHEDULER_KEY, TASK_KEY, row_ref
from lambda_compiler.snapshot import FILE_KEYS, RowsFileError

_BATCH = 25  # BatchWriteItem's limit


@aws_command
def export_rows(
    rows: Annotated[Path, typer.Argument(help="File to write; '-' for standard output.")],
) -> None:
    """Write every row of the three tables to a rows file (plain JSON, sorted by key).

    A row that has no plain-JSON form (a binary attribute) is left out and reported; the
    exit code is then 1.
    """
    from lambda_compiler.rows_file import to_plain

    aws = connect(needs_bucket=False)
    tables = aws.settings.tables
    data: dict[str, list[dict[str, Any]]] = {}
    left_out: list[str] = []
    names = (tables.task, tables.job, tables.scheduler)
    for key, table, key_names in zip(FILE_KEYS, names, _KEYS, strict=True):
        items = []
        for item in _scan(aws.dynamodb, table):
            try:
                items.append(_ordered(to_plain(item)))
            except RowsFileError as exc:
                key_values = {k: next(iter(item[k].values())) for k in key_names if k in item}
                ref = row_ref(table, key_names, key_values)
                left_out.append(f"{ref}: {exc}; row left out of the export")
        data[key] = sorted(items, key=_sort)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if str(rows) == "-":
        typer.echo(text, nl=False)
    else:
        rows.write_text(text, encoding="utf-8")
        counts = ", ".join(f"{len(items)} {key}" for key, items in data.items())
        say(f"exported {counts} to {rows}", err=True)
    if left_out:
        for problem in left_out:
            say(problem, style="red", err=True)
        fail(f"{len(left_out)} row(s) could not be exported")


@aws_command
def import_rows(
    rows: Annotated[Path, typer.Argument(help="Rows file to load.")],
    force: Annotated[
        bool, typer.Option("--force", help="Write the rows even if some are invalid.")
    ] = False,
    output: FormatOption = OutputFormat.TEXT,
) -> None:
    """Validate a rows file, then write its rows to the three tables (put: insert or replace).

    Nothing is written when any row is invalid, unless --force.
    """
    from lambda_compiler.compiler import compile_dags
    from lambda_compiler.rows_file import read_rows_file, snapshot_of, table_items

    aws = connect(needs_bucket=False)
    try:
        items = read_rows_file(rows)
        problems = compile_dags(
            snapshot_of(items, aws.settings.tables), config=aws.settings.compiler
        ).problems
    except RowsFileError as exc:
        fail(str(exc))
    if output is OutputFormat.TEXT:
        for problem in problems:
            say(str(problem), style="red", err=True)
    written = 0
    if force or not problems:
        pending = list(table_items(items, aws.settings.tables))
        for start in range(0, len(pending), _BATCH):
            _write_batch(aws.dynamodb, pending[start : start + _BATCH])
        written = len(pending)
    if output is OutputFormat.JSON:
        write_json({"file": str(rows), "imported": written, "problems": problem_dicts(problems)})
    if problems and not force:
        fail(f"{len(problems)} problem(s) in {rows}: nothing written", hint="fix them or --force")
    say(f"imported {written} row(s) from {rows}", err=True)


def _scan(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    items = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        items.extend(page["Items"])
    return items


def _write_batch(dynamodb: Any, batch: list[tuple[str, dict[str, Any]]]) -> None:
    requests: dict[str, list[dict[str, Any]]] = {}
    for table, item in batch:
        requests.setdefault(table, []).append({"PutRequest": {"Item": item}})
    for attempt in range(8):
        unprocessed = dynamodb.batch_write_item(RequestItems=requests).get("UnprocessedItems")
        if not unprocessed:
            return
        requests = unprocessed
        time.sleep(0.05 * 2**attempt)
    fail("DynamoDB kept throttling the import; rows written so far stay written")


_KEY_ORDER = ("task_id", "job_type", "job_id", "schedule_id")
_KEYS = (TASK_KEY, JOB_KEY, SCHEDULER_KEY)


def _ordered(item: dict[str, Any]) -> dict[str, Any]:
    """Key attributes first, then the others by name: stable, reviewable diffs."""
    keys = [k for k in _KEY_ORDER if k in item]
    return {k: item[k] for k in [*keys, *sorted(set(item) - set(keys))]}


def _sort(item: dict[str, Any]) -> tuple[tuple[int, str], ...]:
    """Numeric ids in numeric order ("2" before "10"), then text."""
    return tuple(
        (0, f"{int(v):020d}") if str(v).isdigit() else (1, str(v))
        for v in (item.get(k, "") for k in _KEY_ORDER)
    )
