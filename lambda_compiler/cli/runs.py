"""`dynadag runs DAG_ID`: recent runs of a DAG, from the run history `dags_runtime` writes.

The table is keyed by ``dag_id`` and ``{run_id}#{task_id}#{try:03d}``; there is no
index by time, so the command reads a DAG's items (at most ``--max-items``) and
orders runs by their earliest start.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Annotated, Any

import typer

from lambda_compiler.cli.aws import aws_command, connect
from lambda_compiler.cli.common import FormatOption, OutputFormat, fail
from lambda_compiler.cli.output import print_table, say
from lambda_compiler.dynamodb_json import deserialize
from lambda_compiler.rows import plain

DagIdArgument = Annotated[str, typer.Argument(help="The DAG id, e.g. job-daily_sales.")]
_DONE_WELL = {"success", "skipped"}


@dataclass(frozen=True)
class RunSummary:
    """One DAG run as the history shows it: its tasks' latest tries."""

    run_id: str
    state: str
    start: str | None
    end: str | None
    tasks: int
    tries: int
    failed_tasks: list[str]


def summarize_runs(items: list[dict[str, Any]]) -> list[RunSummary]:
    """Runs from history items, most recent start first.

    A run is ``failed`` when a task's latest try failed, ``success`` when every
    task's latest try succeeded or was skipped, and ``running`` otherwise.
    """
    by_run: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        by_run[item["run_id"]].append(item)
    runs = []
    for run_id, tries in by_run.items():
        latest: dict[str, dict[str, Any]] = {}
        for attempt in sorted(tries, key=lambda i: int(i.get("try_number", 0))):
            latest[attempt["task_id"]] = attempt
        failed = sorted(t for t, attempt in latest.items() if attempt["state"] == "failed")
        states = {attempt["state"] for attempt in latest.values()}
        state = "failed" if failed else "success" if states <= _DONE_WELL else "running"
        starts = [str(i["start"]) for i in tries if i.get("start")]
        ends = [str(i["end"]) for i in tries if i.get("end")]
        runs.append(
            RunSummary(
                run_id=run_id,
                state=state,
                start=min(starts) if starts else None,
                end=max(ends) if ends else None,
                tasks=len(latest),
                tries=len(tries),
                failed_tasks=failed,
            )
        )
    return sorted(runs, key=lambda run: run.start or "", reverse=True)


def _history_items(dynamodb: Any, table: str, dag_id: str, max_items: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "dag_id = :d",
        "ExpressionAttributeValues": {":d": {"S": dag_id}},
    }
    while len(items) < max_items:
        page = dynamodb.query(**kwargs)
        items.extend(
            {key: deserialize(value) for key, value in item.items()} for item in page["Items"]
        )
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return items[:max_items]


@aws_command
def runs(
    dag_id: DagIdArgument,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Runs to show.")] = 10,
    run_id: Annotated[
        str | None, typer.Option("--run", help="Show every task try of this run instead.")
    ] = None,
    max_items: Annotated[
        int, typer.Option("--max-items", min=1, help="Read at most this many history items.")
    ] = 5000,
    output: FormatOption = OutputFormat.TEXT,
) -> None:
    """Recent runs of a DAG (state, start, end, failed tasks), newest first."""
    aws = connect(needs_bucket=False)
    table = aws.settings.run_history_table
    items = _history_items(aws.dynamodb, table, dag_id, max_items)
    if not items:
        where = aws.dynamodb.meta.endpoint_url
        fail(
            f"no run history for {dag_id!r} in table {table!r} at {where}",
            hint=f"has {dag_id} run yet (Airflow UI, or `airflow dags list-runs {dag_id}`)? "
            f"Its tasks record tries in the table Airflow's [dynadag] run_history_table names "
            f"(AIRFLOW__DYNADAG__RUN_HISTORY_TABLE={table}), through its aws_default "
            f"connection, which must reach {where}; to read another table here, set "
            "DYNADAG_RUN_HISTORY_TABLE",
        )
    if run_id is not None:
        _print_tries([i for i in items if i["run_id"] == run_id], run_id, output)
        return
    summaries = summarize_runs(items)[:limit]
    if output is OutputFormat.JSON:
        sys.stdout.write(json.dumps([asdict(s) for s in summaries], indent=2) + "\n")
        return
    print_table(
        ("run", "state", "start", "end", "tasks", "tries", "failed tasks"),
        [
            (s.run_id, s.state, s.start or "", s.end or "", str(s.tasks), str(s.tries),
             ", ".join(s.failed_tasks))
            for s in summaries
        ],
    )  # fmt: skip


def _print_tries(items: list[dict[str, Any]], run_id: str, output: OutputFormat) -> None:
    if not items:
        fail(f"run {run_id!r} is not in the history", hint="list the runs without --run")
    items.sort(key=lambda i: (str(i.get("start", "")), i["task_id"], int(i["try_number"])))
    fields = ("task_id", "try_number", "state", "start", "end", "duration_seconds", "error")
    if output is OutputFormat.JSON:
        rows = [{f: plain(item.get(f)) for f in (*fields, "task_row")} for item in items]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    print_table(
        ("task", "try", "state", "start", "end", "seconds", "error"),
        [
            tuple("" if item.get(f) is None else str(plain(item[f])) for f in fields)
            for item in items
        ],
    )
    say(f"{len(items)} tries in run {run_id}", err=True)
