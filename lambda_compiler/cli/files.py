"""`dynadag ls`, `show`, `history` and `diff`: the generated files as stored in S3."""

from __future__ import annotations

import difflib
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer

from lambda_compiler.cli.aws import Aws, aws_command, connect
from lambda_compiler.cli.common import FormatOption, OutputFormat, console, fail, write_json
from lambda_compiler.cli.lineage import disabled_reason
from lambda_compiler.cli.output import print_table, say
from lambda_compiler.cli.versions import (
    ObjectSummary,
    Version,
    VersionError,
    current_file,
    current_objects,
    dag_key,
    dag_versions,
    files,
    newest_versions,
    pick,
    read_version,
    source_rows,
    version_metadata,
)
from lambda_compiler.file_metadata import ROLLED_BACK_FROM
from lambda_compiler.registry import DagRecord, Registry

DagIdArgument = Annotated[str, typer.Argument(help="The DAG id (its file name without .py).")]
S3VersionOption = Annotated[
    str | None,
    typer.Option(
        "--s3-version", "-v", help="A number from `dynadag history`, or an S3 version id."
    ),
]


def _when(version: Version) -> str:
    return version.modified.strftime("%Y-%m-%d %H:%M:%S")


@aws_command
def list_files(output: FormatOption = OutputFormat.TEXT) -> None:
    """The files under the dags prefix: every DAG the registry records, and the other files.

    Reads the registry's DAG records and the current objects (one ListObjectsV2 request per
    1,000 files), never old versions: `dynadag history DAG` lists a file's versions.
    """
    aws = connect()
    prefix = aws.settings.dags_prefix
    stored = current_objects(aws.s3, aws.settings.bucket, prefix)
    entries = []
    for record in Registry(aws.dynamodb, aws.settings.registry_table).list_dags():
        key = record.s3_key or dag_key(aws.settings, record.dag_id)
        entries.append(_dag_entry(key.removeprefix(prefix), record, stored.pop(key, None)))
    entries.extend(_other_entry(key.removeprefix(prefix), found) for key, found in stored.items())
    entries.sort(key=lambda e: e["file"])
    if output is OutputFormat.JSON:
        write_json(entries)
        return
    if not entries:
        say(f"no files under s3://{aws.settings.bucket}/{prefix}", err=True)
        return
    rows = [
        (
            e["file"],
            e["kind"] or "",
            e["state"],
            e["outcome"] or "",
            "" if e["size"] is None else str(e["size"]),
            (e["last_change"] or "")[:19].replace("T", " "),
            (e["sha256"] or "")[:12],
        )
        for e in entries
    ]
    print_table(("file", "kind", "state", "outcome", "size", "last change (UTC)", "sha256"), rows)


def _dag_entry(file: str, record: DagRecord, found: ObjectSummary | None) -> dict[str, Any]:
    """A DAG's line of `ls`: the registry's record, with size and time of its current object."""
    if found is not None:
        state = "current"
    else:
        state = "deleted" if record.outcome == "deleted" else "no file"
    return {
        "file": file,
        "dag_id": record.dag_id,
        "kind": record.kind,
        "state": state,
        "outcome": record.outcome,
        "size": found.size if found else None,
        "last_change": found.modified.isoformat() if found else record.written_at,
        "sha256": record.sha256 if found else None,
        "version_id": record.version_id,
        "updated_at": record.updated_at,
    }


def _other_entry(file: str, found: ObjectSummary) -> dict[str, Any]:
    """A current file the registry has no DAG record of (dags_runtime/, .airflowignore, ...)."""
    return {
        "file": file,
        "dag_id": None,
        "kind": None,
        "state": "current",
        "outcome": None,
        "size": found.size,
        "last_change": found.modified.isoformat(),
        "sha256": None,
        "version_id": None,
        "updated_at": None,
    }


@aws_command
def show(
    dag_id: DagIdArgument,
    version: S3VersionOption = None,
    output: FormatOption = OutputFormat.TEXT,
) -> None:
    """Print a DAG file as stored (the current version unless --s3-version)."""
    aws = connect()
    try:
        versions = dag_versions(aws.s3, aws.settings, dag_id)
        chosen = pick(versions, dag_id, version) if version else current_file(versions)
    except VersionError as exc:
        if not version:
            _fail_if_disabled(aws, dag_id)
        fail(str(exc))
    if chosen is None:
        _fail_if_disabled(aws, dag_id)
        fail(
            f"DAG {dag_id!r} is deleted",
            hint=f"see its old versions with `dynadag history {dag_id}`",
        )
    source = read_version(aws.s3, aws.settings, dag_id, chosen)
    if output is OutputFormat.JSON:
        write_json(
            {
                "dag_id": dag_id,
                "number": chosen.number,
                "version_id": chosen.version_id,
                "time": chosen.modified.isoformat(),
                "current": chosen.is_latest,
                "source": source,
            }
        )
    elif console.is_terminal:
        from rich.syntax import Syntax

        console.print(
            Syntax(source.rstrip("\n"), "python", background_color="default"), soft_wrap=True
        )
    else:
        sys.stdout.write(source)


def _fail_if_disabled(aws: Aws, dag_id: str) -> None:
    """One line saying which row disables `dag_id`, when only disabled rows produce it."""
    reason = disabled_reason(aws, dag_id)
    if reason:
        fail(f"DAG {dag_id!r} is disabled: {reason}")


HISTORY_LIMIT = 20
"""Versions `dynadag history` shows by default (its S3 metadata is read one request each)."""


@aws_command
def history(
    dag_id: DagIdArgument,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit", "-n", min=1, help=f"Show the newest N versions (default {HISTORY_LIMIT})."
        ),
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Show every version.")] = False,
    output: FormatOption = OutputFormat.TEXT,
) -> None:
    """A DAG's newest versions: time, size, sha256 and the rows it came from.

    Reads the versions newest first and stops after --limit (default 20); --all reads
    them all. A copy made by `dynadag rollback` says which version it restored, and the
    file a rollback pinned says so.
    """
    if every and limit is not None:
        fail("--all takes no --limit", code=2)
    aws = connect()
    wanted = None if every else (limit or HISTORY_LIMIT)
    try:
        versions, complete = newest_versions(aws.s3, aws.settings, dag_id, wanted)
    except VersionError as exc:
        fail(str(exc))
    if not complete:
        say(
            f"the newest {len(versions)} versions; older ones exist. Numbers count from the "
            "oldest, so they are shown with --all only: use version ids meanwhile",
            style="yellow",
            err=True,
        )
    elif versions[0].number > 1:
        say(
            f"the newest {len(versions)} versions; #1..#{versions[0].number - 1} are older "
            "(--all shows them)",
            err=True,
        )
    record = Registry(aws.dynamodb, aws.settings.registry_table).get_dag(dag_id)
    pinned = record.pinned_version if record else None
    numbers = {v.version_id: v.number for v in versions} if complete else {}
    rows = []
    entries = []
    for version in versions:
        meta = {} if version.deleted else version_metadata(aws.s3, aws.settings, dag_id, version)
        notes = []
        if ROLLED_BACK_FROM in meta:
            restored = numbers.get(meta[ROLLED_BACK_FROM])
            notes.append(f"rollback of #{restored}" if restored else "rollback")
        if version.is_latest and not version.deleted:
            notes.append("current")
        if version.version_id == pinned:
            notes.append("pinned")
        entries.append(
            {
                "number": version.number if complete else None,
                "time": version.modified.isoformat(),
                "size": None if version.deleted else version.size,
                "sha256": meta.get("sha256"),
                "deleted": version.deleted,
                "current": version.is_latest and not version.deleted,
                "pinned": version.version_id == pinned,
                "rollback_of": numbers.get(meta[ROLLED_BACK_FROM])
                if ROLLED_BACK_FROM in meta
                else None,
                "version_id": version.version_id,
                "source_rows": source_rows(meta),
            }
        )
        sha = "deleted" if version.deleted else (meta.get("sha256") or "")[:12]
        rows.append(
            (
                str(version.number) if complete else "",
                _when(version),
                "" if version.deleted else str(version.size),
                sha + (f" ({', '.join(notes)})" if notes else ""),
                version.version_id,
                "\n".join(source_rows(meta)),
            )
        )
    if output is OutputFormat.JSON:
        write_json(entries)
    elif console.is_terminal:
        _print_history_blocks(rows)
    else:
        print_table(("#", "time (UTC)", "size", "sha256", "version id", "source rows"), rows)


def _print_history_blocks(rows: Sequence[tuple[str, ...]]) -> None:
    """One block per version: long ids and row lists read better than in narrow columns."""
    for number, when, size, sha, version_id, sources in rows:
        what = f"{size} bytes  sha256 {sha}" if size else sha
        say(f"{f'#{number}  ' if number else ''}{when}  {what}", style="bold")
        say(f"    version id   {version_id}")
        if sources:
            say(f"    source rows  {', '.join(sources.splitlines())}")


@aws_command
def diff(
    dag_id: DagIdArgument,
    old: Annotated[str | None, typer.Argument(help="Older version (default: previous).")] = None,
    new: Annotated[str | None, typer.Argument(help="Newer version (default: current).")] = None,
) -> None:
    """Unified diff between two versions of a DAG file (default: previous vs current)."""
    aws = connect()
    try:
        versions = dag_versions(aws.s3, aws.settings, dag_id)
        stored = files(versions)
        if not stored:
            raise VersionError(f"DAG {dag_id!r} has no stored file, only delete markers")
        after = pick(versions, dag_id, new) if new else stored[-1]
        if old:
            before = pick(versions, dag_id, old)
        else:
            earlier = [v for v in stored if v.number < after.number]
            if not earlier:
                raise VersionError(f"DAG {dag_id!r} has no version before #{after.number}")
            before = earlier[-1]
    except VersionError as exc:
        fail(str(exc))
    lines = difflib.unified_diff(
        read_version(aws.s3, aws.settings, dag_id, before).splitlines(keepends=True),
        read_version(aws.s3, aws.settings, dag_id, after).splitlines(keepends=True),
        fromfile=f"{dag_id}.py #{before.number} ({_when(before)})",
        tofile=f"{dag_id}.py #{after.number} ({_when(after)})",
    )
    text = "".join(lines)
    if not text:
        say(f"versions #{before.number} and #{after.number} are identical")
    elif console.is_terminal:
        from rich.syntax import Syntax

        console.print(Syntax(text, "diff", background_color="default"), soft_wrap=True)
    else:
        sys.stdout.write(text)
