"""`dynadag plan`: what saving a rows file would do to the DAG files, before saving it.

The planning itself is pure (`lambda_compiler.change_plan`); this module reads the live
tables and the current files in S3 (or, with `--against`, another rows file), and prints.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.syntax import Syntax

from lambda_compiler.change_plan import ChangePlan, CompiledChange, compare, compile_change
from lambda_compiler.cli.aws import Aws, aws_command, connect
from lambda_compiler.cli.common import FormatOption, OutputFormat, console, fail
from lambda_compiler.cli.compile import AirflowVersionOption, RowsArgument, compiler_config
from lambda_compiler.cli.output import say
from lambda_compiler.config import CompilerConfig
from lambda_compiler.model import DagId
from lambda_compiler.rows import Row
from lambda_compiler.rows_file import load_snapshot, read_rows_file
from lambda_compiler.snapshot import RowsFileError
from lambda_compiler.source import RowSource

PruneOption = Annotated[
    bool,
    typer.Option(
        "--prune",
        help="Rows of the file's tables that the file lacks count as deleted "
        "(tables the file does not name are left alone).",
    ),
]
AgainstOption = Annotated[
    Path | None,
    typer.Option(
        "--against",
        help="Plan against this rows file or folder instead of the live tables (no AWS): "
        "its compile stands for the current files, e.g. the main branch's rows in CI.",
        show_default=False,
    ),
]
_STATUS_STYLES = {
    "new": "green",
    "changed": "yellow",
    "deleted": "red",
    "invalid": "red",
    "unchanged": "dim",
}


def read_rows(path: Path, *, code: int = 2) -> dict[str, list[Row]]:
    """The rows of a file or folder; a bad file is one red line and exit `code`."""
    try:
        return read_rows_file(path)
    except RowsFileError as exc:
        fail(str(exc), code=code)


def plan_live(
    aws: Aws, incoming: dict[str, list[Row]], *, prune: bool, config: CompilerConfig
) -> tuple[CompiledChange, ChangePlan]:
    """Plan `incoming` over the live tables, against the current files in S3."""
    settings = aws.settings
    current = RowSource(aws.dynamodb, settings.tables, settings.job_id_index).scan_all()
    compiled = compile_change(current, incoming, prune=prune, config=config)
    from lambda_compiler.publish import DagPublisher

    publisher = DagPublisher(aws.s3, settings.bucket, settings.dags_prefix)
    files: dict[DagId, str | None] = {}
    foreign: set[DagId] = set()
    for dag_id in sorted(compiled.dag_ids):
        found = publisher.read(publisher.key(dag_id))
        files[dag_id] = found[0].decode("utf-8", errors="replace") if found else None
        if not publisher.owns(dag_id, found[1] if found else None):
            foreign.add(dag_id)
    return compiled, compare(compiled, files, prefix=settings.dags_prefix, foreign=foreign)


def plan_offline(
    incoming: dict[str, list[Row]], against: Path, *, prune: bool, config: CompilerConfig
) -> ChangePlan:
    """Plan `incoming` over the rows of `against`, whose compile stands for the files."""
    try:
        current = load_snapshot(against)
    except RowsFileError as exc:
        fail(str(exc), code=2)
    compiled = compile_change(current, incoming, prune=prune, config=config)
    return compare(compiled, {d: r.source for d, r in compiled.old.dags.items()})


@aws_command
def plan(
    rows: RowsArgument,
    prune: PruneOption = False,
    against: AgainstOption = None,
    output: FormatOption = OutputFormat.TEXT,
    airflow_version: AirflowVersionOption = None,
) -> None:
    """Show what saving ROWS would do: per affected DAG, new / changed / deleted /
    unchanged / invalid, the diff against its current file, problems introduced and
    cleared, and warnings. Writes nothing. Exit 1 if the change leaves problems."""
    incoming = read_rows(rows)
    if against is not None:
        result = plan_offline(
            incoming, against, prune=prune, config=compiler_config(airflow_version)
        )
    else:
        aws = connect()
        config = compiler_config(airflow_version, aws.settings.compiler)
        _, result = plan_live(aws, incoming, prune=prune, config=config)
    print_plan(result, output)
    raise typer.Exit(1 if result.problems else 0)


def print_plan(result: ChangePlan, output: OutputFormat) -> None:
    """The plan as JSON on stdout, or for people: rows, each DAG with its diff, warnings."""
    if output is OutputFormat.JSON:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
        return
    rows = result.rows
    counts = {s: sum(1 for r in rows if r.status == s) for s in _STATUS_STYLES if s != "invalid"}
    say("rows: " + ", ".join(f"{n} {s}" for s, n in counts.items()), style="bold")
    for row in rows:
        if row.status != "unchanged":
            say(f"  {row.status:<9} {row.ref}", style=_STATUS_STYLES[row.status])
    for dag in result.dags:
        say("")
        say(f"{dag.dag_id} ({dag.kind}): {dag.status}", style=_STATUS_STYLES[dag.status])
        if dag.status == "invalid":
            say("  its current file, if any, stays in place", style="dim")
        _print_diff(dag.diff)
        for problem in dag.introduced:
            say(f"  + problem: {problem}", style="red")
        for problem in dag.cleared:
            say(f"  - problem cleared: {problem}", style="green")
        for problem in sorted(set(dag.problems) - set(dag.introduced)):
            say(f"  problem (already there): {problem}", style="red")
    if result.row_problems or result.row_problems_cleared:
        say("")
        say("rows that build no DAG:", style="bold")
        for problem in result.row_problems:
            say(f"  + problem: {problem}", style="red")
        for problem in result.row_problems_cleared:
            say(f"  - problem cleared: {problem}", style="green")
    if result.warnings:
        say("")
        for warning in result.warnings:
            say(f"warning: {warning.message} [{warning.code}]", style="yellow")
    say("")
    dag_counts = ", ".join(f"{result.count(s)} {s}" for s in _STATUS_STYLES)
    say(f"plan: {dag_counts} DAG(s); {len(result.problems)} problem(s)", style="bold")


def _print_diff(text: str) -> None:
    if not text:
        return
    if console.is_terminal:
        console.print(Syntax(text, "diff", background_color="default"), soft_wrap=True)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
