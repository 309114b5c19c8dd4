"""`dynadag migrate-check`: what moving from the original solution changes, per DAG."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lambda_compiler.cli.aws import aws_command, connect
from lambda_compiler.cli.common import FormatOption, OutputFormat, fail, write_json
from lambda_compiler.cli.compile import AirflowVersionOption, compiler_config
from lambda_compiler.cli.output import say
from lambda_compiler.snapshot import RowsFileError, Snapshot

if TYPE_CHECKING:
    from lambda_compiler.migration import DagMigration


@aws_command
def migrate_check(
    rows: Annotated[
        Path | None,
        typer.Argument(help="A rows file (`dynadag export`); default: the live tables."),
    ] = None,
    airflow_version: AirflowVersionOption = None,
    output: FormatOption = OutputFormat.TEXT,
) -> None:
    """Check the original solution's rows against dynadag, DAG by DAG; exit 1 if any fails.

    Per DAG: compiles or not, DAG id kept, task ids that change, connections to create,
    what the schedule's `{{ ds }}` means, and the Airflow release compiled for.
    """
    from lambda_compiler.migration import migration_report

    config = compiler_config(airflow_version)
    report = migration_report(_snapshot(rows), config)
    if output is OutputFormat.JSON:
        write_json(
            {"airflow": config.airflow.version, "dags": [entry.to_dict() for entry in report]}
        )
    else:
        for entry in report:
            _print(entry)
        failing = sum(1 for entry in report if not entry.compiles)
        kept = sum(1 for entry in report if entry.dag_id_kept)
        say(
            f"{len(report)} DAG(s) for Airflow {config.airflow.version}: "
            f"{len(report) - failing} compile, {failing} with problems; "
            f"{kept} keep the original's DAG id",
            style="red" if failing else None,
            err=True,
        )
    raise typer.Exit(1 if any(not entry.compiles for entry in report) else 0)


def _snapshot(rows: Path | None) -> Snapshot:
    from lambda_compiler.rows_file import load_snapshot
    from lambda_compiler.source import RowSource

    if rows is not None:
        try:
            return load_snapshot(rows)
        except RowsFileError as exc:
            fail(str(exc))
    aws = connect(needs_bucket=False)
    return RowSource(aws.dynamodb, aws.settings.tables, None).scan_all()


def _print(entry: DagMigration) -> None:
    verdict = "compiles" if entry.compiles else "does not compile"
    kept = "DAG id kept" if entry.dag_id_kept else f"DAG id was {entry.original_dag_id}"
    say(
        f"{entry.dag_id} ({entry.kind}, {entry.row}): {verdict}; {kept}",
        style=None if entry.compiles else "red",
    )
    for problem in entry.problems:
        say(f"  problem: {problem}", style="red")
    for old, new in entry.changed_task_ids.items():
        say(f"  task id: {old} -> {new or '(removed)'}")
    for connection in entry.connections:
        say(f"  connection: {connection}")
    if entry.schedule:
        say(f"  schedule: {entry.schedule}")
    for note in entry.notes:
        say(f"  note: {note}")
