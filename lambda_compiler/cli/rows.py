"""`dynadag export` and `dynadag import`: the three tables to and from a rows file.

The file is the one `dynadag compile` reads, so rows can be reviewed in git, compiled
in CI and moved between accounts. `import` plans the change like `dynadag plan`
(`lambda_compiler.change_plan`), writes only the rows that differ, and can wait for the
compiler's outcome of every DAG it affects (read from the registry).
"""

from __future__ import annotations

import json
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lambda_compiler.change_plan import RowChange, compile_change
from lambda_compiler.cli.aws import aws_command, connect
from lambda_compiler.cli.common import (
    FormatOption,
    OutputFormat,
    fail,
    problem_dicts,
    write_json,
)
from lambda_compiler.cli.compile import RowsArgument
from lambda_compiler.cli.output import print_table, progress_bar, say
from lambda_compiler.cli.plan import PruneOption, plan_live, print_plan, read_rows
from lambda_compiler.compiler import DagResult
from lambda_compiler.model import DagId
from lambda_compiler.rows import JOB_KEY, SCHEDULER_KEY, TASK_KEY, row_ref
from lambda_compiler.rows_file import to_plain, to_typed
from lambda_compiler.snapshot import FILE_KEYS, RowsFileError, TableNames
from lambda_compiler.source import RowSource

if TYPE_CHECKING:
    from lambda_compiler.registry import DagRecord, Registry

_BATCH = 25  # BatchWriteItem's limit


class RowsFormat(StrEnum):
    JSON = "json"
    YAML = "yaml"


@aws_command
def export_rows(
    rows: Annotated[Path, typer.Argument(help="File to write; '-' for standard output.")],
    output: Annotated[
        RowsFormat,
        typer.Option(
            "--format",
            help="json: as stored; yaml: JSON attributes expanded, multi-line text as blocks.",
        ),
    ] = RowsFormat.JSON,
) -> None:
    """Write every row of the three tables to a rows file (sorted by key, key attributes first).

    `--format yaml` writes attributes holding JSON text (task_params, job_params, ...) as
    maps and lists and multi-line SQL as `|` blocks; it compiles to the same DAG files.
    A row that has no plain-JSON form (a binary attribute) is left out and reported; the
    exit code is then 1.
    """

    aws = connect(needs_bucket=False)
    tables = aws.settings.tables
    data: dict[str, list[dict[str, Any]]] = {}
    left_out: list[str] = []
    names = (tables.task, tables.job, tables.scheduler)
    for key, table, key_names in zip(FILE_KEYS, names, _KEYS, strict=True):
        items = []
        for item in _scan(aws.dynamodb, table):
            try:
                items.append(ordered_item(to_plain(item)))
            except RowsFileError as exc:
                key_values = {k: next(iter(item[k].values())) for k in key_names if k in item}
                ref = row_ref(table, key_names, key_values)
                left_out.append(f"{ref}: {exc}; row left out of the export")
        data[key] = sorted(items, key=_sort)
    if output is RowsFormat.YAML:
        from lambda_compiler.rows_yaml import rows_yaml

        text = rows_yaml(data)
    else:
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
    rows: RowsArgument,
    force: Annotated[
        bool, typer.Option("--force", help="Write the rows even if some are invalid.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Write nothing: show the plan (as `dynadag plan`).")
    ] = False,
    prune: PruneOption = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Delete what --prune finds without asking.")
    ] = False,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait", help="Wait until the compiler has settled every affected DAG; print them."
        ),
    ] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, help="Seconds --wait waits at most.")
    ] = 300,
    output: FormatOption = OutputFormat.TEXT,
) -> None:
    """Validate a rows file (or folder, JSON or YAML) in the context of the live tables,
    then write the rows that differ from the tables (put: insert or replace).

    Nothing is written when the change leaves a problem in what it touches, unless
    --force. With --prune, rows of the file's tables that the file lacks are deleted,
    after they are shown and confirmed. Exit 1 if --wait finds a DAG invalid or failed.
    """
    incoming = read_rows(rows, code=1)
    if dry_run:
        aws = connect()
        _, result = plan_live(aws, incoming, prune=prune, config=aws.settings.compiler)
        print_plan(result, output)
        raise typer.Exit(1 if result.problems else 0)
    aws = connect(needs_bucket=False)
    settings = aws.settings
    current = RowSource(aws.dynamodb, settings.tables, settings.job_id_index).scan_all()
    compiled = compile_change(current, incoming, prune=prune, config=settings.compiler)
    problems = compiled.problems
    if output is OutputFormat.JSON and problems and not force:
        write_json({"file": str(rows), "imported": 0, "problems": problem_dicts(problems)})
    elif output is OutputFormat.TEXT:
        for problem in problems:
            say(str(problem), style="red", err=True)
    if problems and not force:
        fail(f"{len(problems)} problem(s) in {rows}: nothing written", hint="fix them or --force")
    change = compiled.change
    deleted = change.with_status("deleted")
    if deleted:
        _confirm_prune(deleted, yes)
    from lambda_compiler.registry import Registry, utc_now

    started = utc_now()
    pending = [
        (table, {"PutRequest": {"Item": to_typed(row.new)}})
        for row in change.with_status("new", "changed")
        if row.new is not None
        for table in [_table(settings.tables, row.table_key)]
    ] + [(row.ref.table, {"DeleteRequest": {"Key": _typed_key(row)}}) for row in deleted]
    _write_all(aws.dynamodb, pending)
    counts = {s: len(change.with_status(s)) for s in ("new", "changed", "deleted", "unchanged")}
    say(
        f"imported {len(pending)} row(s) from {rows} ({counts['new']} new, "
        f"{counts['changed']} changed, {counts['deleted']} deleted); "
        f"{counts['unchanged']} unchanged row(s) not written",
        err=True,
    )
    if wait:
        registry = Registry(aws.dynamodb, settings.registry_table)
        expected = {dag_id: compiled.new.dags.get(dag_id) for dag_id in compiled.dag_ids}
        records = wait_for_outcomes(registry, expected, started, timeout)
        _print_outcomes(records, output)
        bad = [r for r in records.values() if r is not None and r.outcome in ("invalid", "error")]
        raise typer.Exit(1 if bad else 0)


def _table(tables: TableNames, key: str) -> str:
    return dict(zip(FILE_KEYS, (tables.task, tables.job, tables.scheduler), strict=True))[key]


def _typed_key(row: RowChange) -> dict[str, Any]:
    """The `DeleteItem` key of a row as the table holds it (its key attributes, typed)."""
    assert row.old is not None
    return to_typed({name: row.old[name] for name, _ in row.ref.key})


def _confirm_prune(deleted: list[RowChange], yes: bool) -> None:
    """List the rows --prune deletes; ask unless --yes (with no terminal, --yes is required)."""
    say(f"--prune deletes {len(deleted)} row(s) the file lacks:", style="bold", err=True)
    for row in deleted:
        say(f"  delete {row.ref}", style="red", err=True)
    if yes:
        return
    if not sys.stdin.isatty():
        fail(
            f"--prune would delete {len(deleted)} row(s) and there is no terminal to confirm on",
            code=2,
            hint="check the list above, then run again with --yes",
        )
    if not typer.confirm(f"Delete these {len(deleted)} row(s)?", default=False, err=True):
        fail("nothing written: the deletions were not confirmed")


def _write_all(dynamodb: Any, pending: list[tuple[str, dict[str, Any]]]) -> None:
    """Write in batches of 25, with a progress bar on stderr when it is a terminal."""
    with progress_bar("importing") as progress:
        task = progress.add_task("rows", total=len(pending))
        for start in range(0, len(pending), _BATCH):
            batch = pending[start : start + _BATCH]
            _write_batch(dynamodb, batch)
            progress.advance(task, len(batch))


def _settled(record: DagRecord | None, expected: DagResult | None, started: str) -> bool:
    """True when the registry holds the compiler's outcome of the imported rows for a DAG.

    A valid DAG is settled once its record names the file's sha256; an invalid one once it
    is recorded invalid with these problems, or recorded since the import began; a DAG the
    rows no longer produce once it is recorded deleted (or was never recorded). An `error`
    recorded since the import began settles it too: waiting would not change it. So does a
    pinned DAG (a rollback holds its file) once its record says what the rows would publish.
    """
    fresh = record is not None and (record.updated_at or "") >= started
    if record is not None and record.outcome == "error" and fresh:
        return True
    if record is not None and record.outcome == "pinned":
        return expected is None or record.pending_sha256 == expected.sha256 or fresh
    if expected is None:
        return record is None or record.outcome == "deleted"
    if record is None:
        return False
    if expected.ok:
        return record.outcome in ("written", "unchanged") and record.sha256 == expected.sha256
    problems = {str(p) for p in expected.problems}
    return record.outcome == "invalid" and (fresh or set(record.problems) == problems)


def wait_for_outcomes(
    registry: Registry,
    expected: dict[DagId, DagResult | None],
    started: str,
    timeout: float,
    poll_seconds: float = 1.0,
) -> dict[DagId, DagRecord | None]:
    """Poll the registry until every DAG of `expected` is settled; the records then.

    Fails with one red line naming the DAGs still unsettled after `timeout` seconds.
    """
    deadline = time.monotonic() + timeout
    with progress_bar("waiting for the compiler") as progress:
        task = progress.add_task("dags", total=len(expected))
        while True:
            records = registry.dag_records(expected) if expected else {}
            found = {dag_id: records.get(dag_id) for dag_id in expected}
            waiting = sorted(d for d, r in found.items() if not _settled(r, expected[d], started))
            progress.update(task, completed=len(expected) - len(waiting))
            if not waiting:
                return found
            if time.monotonic() >= deadline:
                fail(
                    f"timed out after {timeout:g}s waiting for the compiler to settle "
                    f"{len(waiting)} DAG(s): {', '.join(waiting)}",
                    hint="is the stream's Lambda function running? `dynadag status` shows "
                    "what the registry holds",
                )
            time.sleep(poll_seconds)


def _print_outcomes(records: dict[DagId, DagRecord | None], output: OutputFormat) -> None:
    """Each affected DAG's outcome as the registry holds it (a table, or JSON on stdout)."""
    rows: list[dict[str, Any]] = []
    for dag_id, record in sorted(records.items()):
        reasons = [*record.problems, *([record.error] if record.error else [])] if record else []
        rows.append(
            {
                "dag_id": dag_id,
                "outcome": record.outcome if record and record.outcome else "deleted",
                "sha256": record.sha256 if record else None,
                "problems": reasons,
            }
        )
    if output is OutputFormat.JSON:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    print_table(
        ("DAG", "OUTCOME", "PROBLEMS"),
        [(row["dag_id"], row["outcome"], "; ".join(row["problems"])) for row in rows],
    )


def _scan(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    items = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        items.extend(page["Items"])
    return items


def _write_batch(dynamodb: Any, batch: list[tuple[str, dict[str, Any]]]) -> None:
    """One `BatchWriteItem` of ``(table, PutRequest or DeleteRequest)``, retried while
    DynamoDB leaves items unprocessed."""
    requests: dict[str, list[dict[str, Any]]] = {}
    for table, request in batch:
        requests.setdefault(table, []).append(request)
    for attempt in range(8):
        unprocessed = dynamodb.batch_write_item(RequestItems=requests).get("UnprocessedItems")
        if not unprocessed:
            return
        requests = unprocessed
        time.sleep(0.05 * 2**attempt)
    fail("DynamoDB kept throttling the import; rows written so far stay written")


_KEY_ORDER = ("task_id", "job_type", "job_id", "schedule_id")
_KEYS = (TASK_KEY, JOB_KEY, SCHEDULER_KEY)


def ordered_item(item: dict[str, Any]) -> dict[str, Any]:
    """Key attributes first, then the others by name: stable, reviewable diffs."""
    keys = [k for k in _KEY_ORDER if k in item]
    return {k: item[k] for k in [*keys, *sorted(set(item) - set(keys))]}


def _sort(item: dict[str, Any]) -> tuple[tuple[int, str], ...]:
    """Numeric ids in numeric order ("2" before "10"), then text."""
    return tuple(
        (0, f"{int(v):020d}") if str(v).isdigit() else (1, str(v))
        for v in (item.get(k, "") for k in _KEY_ORDER)
    )
