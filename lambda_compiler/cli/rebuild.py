"""`dynadag rebuild`: recompile every DAG (or some) from the tables, writing only what changed.

The fan-out engine (`lambda_compiler.fanout`): the runtime files first, then the rows as
keys, in batches built by `--workers` processes here, or, with `--queue`, by the
deployment's fan-out workers (`--wait` follows the run). `dynadag redrive` replays
batches that failed for good.
"""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING, Annotated

import typer

from lambda_compiler.cli.aws import aws_command, connect
from lambda_compiler.cli.common import FormatOption, OutputFormat, fail
from lambda_compiler.cli.output import progress_bar, say
from lambda_compiler.problems import problem_dict

if TYPE_CHECKING:
    from lambda_compiler.fanout import RunRecord, Runs, Work
    from lambda_compiler.rebuild import RebuildReport
    from lambda_compiler.sync import DagSync

WAIT_POLL_SECONDS = 1.0


@aws_command
def rebuild(
    output: FormatOption = OutputFormat.TEXT,
    workers: Annotated[
        int,
        typer.Option(
            min=1, max=64, help="Worker processes on this machine, each building batches of rows."
        ),
    ] = 1,
    dags: Annotated[
        list[str] | None,
        typer.Option("--dag", help="Rebuild only this DAG (repeat for more).", metavar="DAG_ID"),
    ] = None,
    queue: Annotated[
        bool,
        typer.Option("--queue", help="Hand the batches to the deployment's fan-out workers."),
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="With --queue: follow the run until it ends.")
    ] = False,
) -> None:
    """Recompile every DAG from the tables, writing only what changed.

    Also deletes DAGs that no longer exist and brings the registry's index up to date.
    Exit 1 if a DAG could not be built (AWS errors) or is invalid; invalid DAGs keep their
    last good file, if they had one, and are listed.
    """
    from lambda_compiler.fanout import Fanout, Runs, prepare_rebuild
    from lambda_compiler.fanout_worker import build_here
    from lambda_compiler.rebuild import RebuildReport, _count
    from lambda_compiler.sync import build_sync

    aws = connect()
    sync = build_sync(aws.settings, session=aws.session)
    runs = Runs(aws.dynamodb, aws.settings.registry_table)
    runtime: list[str] = []
    if dags:
        work = _named(sync, dags)
    else:
        work, runtime = prepare_rebuild(sync)
    if queue:
        if not aws.settings.fanout.queue_url:
            fail(
                "DYNADAG_WORK_QUEUE_URL is not set: no fan-out queue to hand the batches to",
                hint="deploy the stack's WorkQueue, or build here without --queue",
            )
        from lambda_compiler.fanout import WorkQueue

        sqs = WorkQueue(aws.client("sqs"), aws.settings.fanout.queue_url)
        fanout = Fanout(sqs, runs, aws.settings.fanout.batch_rows)
        run = fanout.start(work, "rebuild")
        say(f"run {run.run_id}: {run.total} batch(es) queued", err=True)
        if wait:
            run = follow(runs, run.run_id, transient=output is OutputFormat.JSON)
        if output is OutputFormat.JSON:
            sys.stdout.write(json.dumps(run.to_dict(), indent=2) + "\n")
        else:
            say(run_line(run), style="red" if run.failed else None)
        raise typer.Exit(1 if run.failed else 0)
    run, items = Fanout(None, runs, aws.settings.fanout.batch_rows).plan(work, "rebuild")
    runs.start(run)
    report = RebuildReport(runtime_files_written=runtime)
    with progress_bar("{task.description:<16}", transient=output is OutputFormat.JSON) as bar:
        task = bar.add_task("DAG batches", total=len(items))

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        results = build_here(aws.settings, [item.body() for item in items], workers, tick)
    for result in results:
        for outcome in result.dags.values():
            _count(report, outcome)
        for name in result.failed:
            report.failed.setdefault(name, "not built after retries")  # type: ignore[arg-type]
    report.rows = len(work.owners)
    for names in (report.written, report.unchanged, report.deleted, report.pinned):
        names.sort()
    if output is OutputFormat.JSON:
        sys.stdout.write(json.dumps(_as_dict(report), indent=2) + "\n")
    else:
        _print(report, f"s3://{aws.settings.bucket}/{aws.settings.dags_prefix}")
    raise typer.Exit(0 if report.ok and not report.crashed and not report.invalid else 1)


def _named(sync: DagSync, dag_ids: list[str]) -> Work:
    """The rows claiming each DAG id (from the registry), and the ids no row claims."""
    from lambda_compiler.fanout import Work
    from lambda_compiler.model import DagId
    from lambda_compiler.rows import RowRef

    work = Work()
    for dag_id in dict.fromkeys(dag_ids):
        record = sync.registry.get_dag(dag_id)
        if record is None:
            fail(
                f"DAG {dag_id!r} is not in registry table {sync.registry.table}",
                hint="`dynadag status --all` lists the DAGs dynadag knows",
            )
        refs = sorted(RowRef.from_address(address) for address in record.claims)
        work.owners += refs
        work.dag_ids.update(dict.fromkeys(refs, dag_id))
        if not refs:
            work.gone.append(DagId(dag_id))
    return work


def follow(runs: Runs, run_id: str, *, transient: bool = False) -> RunRecord:
    """Show a run's done/failed/pending batches until it ends; the run at the end."""
    with progress_bar("{task.description:<16}", transient=transient) as bar:
        task = None
        while True:
            run = runs.get(run_id)
            if run is None:
                fail(f"run {run_id} is not in the registry")
            if task is None:
                task = bar.add_task("batches", total=run.total)
            bar.update(task, completed=run.done + run.failed, total=run.total)
            if run.finished:
                return run
            time.sleep(WAIT_POLL_SECONDS)


def run_line(run: RunRecord) -> str:
    """One line about a run: its batches and, if any failed, their DAGs."""
    line = (
        f"{run.origin} run {run.run_id} (started {run.started_at}): {run.total} batch(es), "
        f"{run.done} done, {run.failed} failed, {run.pending} pending"
    )
    if run.failed_dags:
        line += f"; not built: {', '.join(run.failed_dags)} (`dynadag redrive`)"
    return line


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
