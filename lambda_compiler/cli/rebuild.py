"""`dynadag rebuild`: recompile every DAG from the tables, writing only what changed."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from lambda_compiler.cli.aws import aws_command, connect
from lambda_compiler.cli.common import FormatOption, OutputFormat
from lambda_compiler.cli.output import progress_bar, say
from lambda_compiler.problems import problem_dict

if TYPE_CHECKING:
    from rich.progress import TaskID

    from lambda_compiler.rebuild import RebuildReport


@aws_command
def rebuild(
    output: FormatOption = OutputFormat.TEXT,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Parallel S3 and registry requests.")
    ] = 8,
) -> None:
    """Recompile every DAG from the tables, writing only what changed.

    Also deletes DAGs that no longer exist and rebuilds the registry's index. Exit 1
    if a DAG could not be built (AWS errors) or is invalid; invalid DAGs keep their
    last good file, if they had one, and are listed.
    """
    from lambda_compiler.rebuild import run_rebuild
    from lambda_compiler.sync import build_sync

    aws = connect()
    sync = build_sync(aws.settings, session=aws.session)
    with progress_bar("{task.description:<16}", transient=output is OutputFormat.JSON) as progress:
        bars: dict[str, TaskID] = {}

        def tick(phase: str, done: int, total: int) -> None:
            if phase not in bars:
                bars[phase] = progress.add_task(phase, total=total)
            progress.update(bars[phase], completed=done, total=total)

        report = run_rebuild(aws.settings, sync=sync, progress=tick, workers=workers)
    if output is OutputFormat.JSON:
        sys.stdout.write(json.dumps(_as_dict(report), indent=2) + "\n")
    else:
        _print(report, f"s3://{aws.settings.bucket}/{aws.settings.dags_prefix}")
    raise typer.Exit(0 if report.ok and not report.crashed and not report.invalid else 1)


def _print(report: RebuildReport, dags_uri: str) -> None:
    from lambda_compiler.migration import ORIGINAL_DAG_FILES, ORIGINAL_HELPER_FOLDERS

    for dag_id, problems in sorted(report.invalid.items()):
        for problem in problems:
            say(f"{dag_id}: {problem}", style="red")
    for dag_id, error in sorted({**report.failed, **report.crashed}.items()):
        say(f"{dag_id}: could not be built: {error}", style="red")
    for dag_id in report.pinned:
        say(
            f"{dag_id}: pinned by a rollback; its file stays "
            f"(`dynadag rollback --release {dag_id}` publishes its rows)",
            style="yellow",
        )
    for dag_id in report.foreign_files:
        if dag_id in ORIGINAL_DAG_FILES:
            say(
                f"{dag_id}.py: the original solution's DAG file; it defines the same DAG ids as "
                f"dynadag's {ORIGINAL_DAG_FILES[dag_id]} files, so Airflow sees each DAG twice. "
                f"Remove it and its helpers to switch over: aws s3 rm {dags_uri}{dag_id}.py; "
                + "; ".join(
                    f"aws s3 rm --recursive {dags_uri}{folder}"
                    for folder in ORIGINAL_HELPER_FOLDERS
                ),
                style="yellow",
            )
        else:
            say(f"{dag_id}: not written by dynadag; left in place", style="yellow")
    say(
        f"{len(report.written)} written, {len(report.unchanged)} unchanged, "
        f"{len(report.deleted)} deleted, {len(report.invalid)} invalid, "
        f"{len(report.failed) + len(report.crashed)} failed; reverse index +{report.index_added} "
        f"-{report.index_removed}; runtime files written: "
        f"{', '.join(report.runtime_files_written) or 'none'}",
        style="red" if report.failed or report.crashed else None,
    )


def _as_dict(report: RebuildReport) -> dict[str, object]:
    from lambda_compiler.migration import ORIGINAL_DAG_FILES

    return {
        "written": report.written,
        "unchanged": report.unchanged,
        "deleted": report.deleted,
        "invalid": {
            dag_id: [problem_dict(problem) for problem in problems]
            for dag_id, problems in report.invalid.items()
        },
        "failed": {**report.failed, **report.crashed},
        "pinned": report.pinned,
        "foreign_files": [d for d in report.foreign_files if d not in ORIGINAL_DAG_FILES],
        "original_solution_files": [
            f"{d}.py" for d in report.foreign_files if d in ORIGINAL_DAG_FILES
        ],
        "runtime_files_written": report.runtime_files_written,
        "index_added": report.index_added,
        "index_removed": report.index_removed,
        "rows": report.rows,
    }
