"""`dynadag edit TABLE KEY...`: edit one row in $EDITOR, checked in context before it is saved.

The row is decoded (JSON attributes expanded, multi-line SQL as blocks) into a one-row
rows file. On save it is read back with the rows-file reader, then compiled with the live
tables in which it replaces the stored row: the problems it introduces in the DAGs that
depend on it (the row's own DAG, the jobs using a task, the schedulers triggering those
jobs) are shown, and the row is written only when there are none (or with --force).
A JSON attribute stored as JSON text is written back as JSON text.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import click
import typer

from lambda_compiler.cli.aws import Aws, aws_command, connect
from lambda_compiler.cli.common import fail
from lambda_compiler.cli.output import say
from lambda_compiler.cli.rows import ordered_item
from lambda_compiler.compiler import CompileResult, compile_dags
from lambda_compiler.config import CompilerConfig
from lambda_compiler.model import DagId
from lambda_compiler.parse import parse_job, parse_scheduler, parse_task
from lambda_compiler.plan import TableKind
from lambda_compiler.problems import Problem
from lambda_compiler.rows import JOB_KEY, SCHEDULER_KEY, TASK_KEY, Row, RowRef, row_ref
from lambda_compiler.rows_file import read_rows_file, to_plain, to_typed
from lambda_compiler.snapshot import FILE_KEYS, RowsFileError, Snapshot
from lambda_compiler.source import RowSource
from lambda_compiler.validate import validate

_KINDS: tuple[TableKind, ...] = ("task", "job", "scheduler")
_KEY_NAMES = dict(zip(_KINDS, (TASK_KEY, JOB_KEY, SCHEDULER_KEY), strict=True))
_FILE_KEY = dict(zip(_KINDS, FILE_KEYS, strict=True))
_PARSERS: dict[TableKind, Callable[..., tuple[Any, list[Problem]]]] = {
    "task": parse_task,
    "job": parse_job,
    "scheduler": parse_scheduler,
}
_SNAPSHOT_FIELD = {"task": "tasks", "job": "jobs", "scheduler": "schedulers"}


class EditFormat(StrEnum):
    YAML = "yaml"
    JSON = "json"


@dataclass(frozen=True)
class EditCheck:
    """What saving an edited row would do: which DAGs depending on it change, and the
    problems the edit introduces (those already there are left out)."""

    changed: tuple[DagId, ...]
    problems: tuple[Problem, ...]


@aws_command
def edit(
    table: Annotated[str, typer.Argument(help="The table: its name, or task, job, scheduler.")],
    key: Annotated[
        list[str], typer.Argument(help="The row's key: task_id; job_type job_id; schedule_id.")
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Write the row even if it introduces problems.")
    ] = False,
    file_format: Annotated[
        EditFormat, typer.Option("--format", help="The format to edit the row in.")
    ] = EditFormat.YAML,
) -> None:
    """Edit one row in $VISUAL or $EDITOR; it is written only when the DAGs it feeds stay valid.

    On problems, they are listed and you can edit again; nothing is written unless the
    edit is valid or --force is given.
    """
    aws = connect(needs_bucket=False)
    tables = aws.settings.tables
    kind = _kind(table, tables)
    names = _KEY_NAMES[kind]
    if len(key) != len(names):
        fail(
            f"{getattr(tables, kind)} rows have the key {', '.join(names)}: give {len(names)} "
            f"value(s), got {len(key)}",
            code=2,
        )
    ref = RowRef(getattr(tables, kind), tuple(zip(names, key, strict=True)))
    editor = shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "")
    if not editor:
        fail("no editor: set EDITOR (or VISUAL)", hint="e.g. export EDITOR=nano")
    stored = _get(aws, ref)
    if stored is None:
        fail(f"no row {ref}", hint="add rows with `dynadag import`")
    original = ordered_item(to_plain(stored))
    path = _edit_file(ref, file_format)
    text = _file_text(kind, original, file_format)
    path.write_text(text, encoding="utf-8")
    while True:
        _run_editor(editor, path)
        edited_text = path.read_text(encoding="utf-8")
        if edited_text == text:
            say(f"no change to {ref}: nothing written", err=True)
            _remove(path)
            return
        row, errors = _read_edit(path, kind, ref, original)
        if row is not None:
            snapshot = RowSource(aws.dynamodb, tables, None).scan_all()
            check = check_edit(snapshot, kind, ref, row, aws.settings.compiler)
            errors = [str(problem) for problem in check.problems]
        if row is not None and (not errors or force):
            break
        for error in errors:
            say(error, style="red", err=True)
        if not _confirm(f"{len(errors)} problem(s); edit again?"):
            fail(f"nothing written; your edit is kept in {path}")
    if _get(aws, ref) != stored:
        fail(f"{ref} changed while you edited it: nothing written; your edit is kept in {path}")
    aws.dynamodb.put_item(TableName=ref.table, Item=to_typed(row))
    _remove(path)
    for error in errors:
        say(error, style="yellow", err=True)
    dags = ", ".join(check.changed) or "none"
    say(f"wrote {ref}" + (" despite its problems (--force)" if errors else ""))
    say(f"DAGs that change: {dags}")


def check_edit(
    snapshot: Snapshot, kind: TableKind, ref: RowRef, row: Row, config: CompilerConfig
) -> EditCheck:
    """Compile the DAGs depending on `ref` with `row` in its place in `snapshot` (the live
    tables), and before; the problems that are new, and the DAGs whose files change."""
    field = _SNAPSHOT_FIELD[kind]
    names = _KEY_NAMES[kind]
    others = [r for r in getattr(snapshot, field) if row_ref(ref.table, names, r) != ref]
    edited: dict[str, Any] = {field: [*others, row]}
    after = replace(snapshot, **edited)
    before_result, before_dags = _compile_around(snapshot, ref, config)
    after_result, after_dags = _compile_around(after, ref, config)
    dags = sorted(before_dags | after_dags)
    stored = next(
        (r for r in getattr(snapshot, field) if row_ref(ref.table, names, r) == ref), None
    )
    old = set(_problems(before_result, before_dags, ref))
    old |= set(_own_problems(kind, stored, ref, config))
    found = [*_problems(after_result, after_dags, ref), *_own_problems(kind, row, ref, config)]
    new = [p for p in found if p not in old]

    def source(result: CompileResult, dag_id: DagId) -> str | None:
        found = result.dags.get(dag_id)
        return found.source if found else None

    changed = [d for d in dags if source(before_result, d) != source(after_result, d)]
    return EditCheck(tuple(changed), tuple(sorted(set(new))))


def _compile_around(
    snapshot: Snapshot, ref: RowRef, config: CompilerConfig
) -> tuple[CompileResult, set[DagId]]:
    """The compile of the DAGs depending on `ref` (directly, or through a job they trigger)."""
    validated = validate(snapshot, config)
    owners = {r for r, plan in validated.plans.items() if ref in plan.inputs}
    owners |= {r for r, plan in validated.plans.items() if owners & set(plan.inputs)}
    result = compile_dags(snapshot, owners, config, validated)
    return result, {validated.plans[r].dag_id for r in owners}


def _problems(result: CompileResult, dags: set[DagId], ref: RowRef) -> list[Problem]:
    found = [p for d in dags if d in result.dags for p in result.dags[d].problems]
    return found + [p for p in result.unparsable if p.ref == ref]


def _own_problems(
    kind: TableKind, row: Row | None, ref: RowRef, config: CompilerConfig
) -> list[Problem]:
    """The row's problems on its own (a task no job lists is checked too)."""
    if row is None:
        return []
    return _PARSERS[kind](row, ref.table, config)[1]


def _kind(table: str, tables: Any) -> TableKind:
    for kind in _KINDS:
        if table in (kind, getattr(tables, kind), _FILE_KEY[kind]):
            return kind
    known = ", ".join(getattr(tables, kind) for kind in _KINDS)
    fail(f"unknown table {table!r}; expected one of {known} (or task, job, scheduler)", code=2)


def _get(aws: Aws, ref: RowRef) -> Row | None:
    item: Row | None = aws.dynamodb.get_item(
        TableName=ref.table,
        Key={name: {"S": value} for name, value in ref.key},
        ConsistentRead=True,
    ).get("Item")
    return item


def _edit_file(ref: RowRef, file_format: EditFormat) -> Path:
    safe = "-".join("".join(c if c.isalnum() else "_" for c in v)[:40] for _, v in ref.key)
    folder = Path(tempfile.mkdtemp(prefix="dynadag-edit-"))
    return folder / f"{ref.table}-{safe}.{file_format.value}"


def _file_text(kind: TableKind, row: Row, file_format: EditFormat) -> str:
    """A one-row rows file, JSON attributes expanded."""
    file_key = _FILE_KEY[kind]
    if file_format is EditFormat.JSON:
        from lambda_compiler.rows_yaml import expand_json_attributes

        expanded = {file_key: [expand_json_attributes(file_key, row)]}
        return json.dumps(expanded, indent=2, ensure_ascii=False) + "\n"
    from lambda_compiler.rows_yaml import rows_yaml

    return rows_yaml({file_key: [row]})


def _read_edit(
    path: Path, kind: TableKind, ref: RowRef, original: Row
) -> tuple[Row | None, list[str]]:
    """The edited row as it would be stored, or the reasons the file cannot be used."""
    try:
        items = read_rows_file(path)
    except RowsFileError as exc:
        return None, [str(exc)]
    file_key = _FILE_KEY[kind]
    rows = items.get(file_key, [])
    extra = [key for key, listed in items.items() if listed and key != file_key]
    if len(rows) != 1 or extra:
        return None, [f"{path}: expected exactly one {file_key} item, the row being edited"]
    from lambda_compiler.rows_yaml import collapse_json_attributes

    row = collapse_json_attributes(file_key, rows[0], original)
    edited = row_ref(ref.table, _KEY_NAMES[kind], row)
    if edited != ref:
        return None, [f"{path}: the key changed ({ref} became {edited}); edit keeps the key"]
    return row, []


def _remove(path: Path) -> None:
    """Delete the edit file and its private folder."""
    path.unlink()
    path.parent.rmdir()


def _run_editor(editor: list[str], path: Path) -> None:
    try:
        code = subprocess.run([*editor, str(path)], check=False).returncode
    except OSError as exc:
        fail(f"cannot run the editor {editor[0]!r}: {exc.strerror}", hint="check EDITOR")
    if code != 0:
        fail(f"the editor exited with code {code}: nothing written; your edit is in {path}")


def _confirm(question: str) -> bool:
    try:
        return typer.confirm(question, default=True, err=True)
    except click.Abort:
        return False
