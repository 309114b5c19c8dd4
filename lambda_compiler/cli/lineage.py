"""`dynadag uses` and `dynadag explain`: what depends on a row, and what is behind a DAG.

`uses` reads only the registry's reverse index (what the last builds recorded);
`explain` reads every row of the three tables and checks them as the compiler does,
then adds what the registry remembers of the DAG. `read_lineage` and `disabled_reason`
serve `status --all`, `show` and `graph` too.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
import sys
from typing import Annotated, Any

import typer

from lambda_compiler.cli.aws import Aws, aws_command, connect
from lambda_compiler.cli.common import FormatOption, OutputFormat, fail
from lambda_compiler.cli.output import print_table, say
from lambda_compiler.lineage import (
    DagRow,
    Lineage,
    Missing,
    RowReferenceError,
    lineage,
    missing_dags,
    missing_reason,
    parse_row_reference,
    uses,
)
from lambda_compiler.plan import table_kind
from lambda_compiler.registry import DagRecord, Registry
from lambda_compiler.rows import RowRef
from lambda_compiler.source import RowSource

RowArgument = Annotated[
    list[str],
    typer.Argument(
        help="A row: TABLE KEY... (mwaa_task 4, mwaa_job etl 7, mwaa_scheduler 1) "
        "or a reference like \"mwaa_task[task_id='4']\".",
        show_default=False,
    ),
]
TargetArgument = Annotated[
    list[str],
    typer.Argument(
        help="A DAG id, or a job/scheduler row: mwaa_job etl 7, \"mwaa_job[job_type='etl', "
        "job_id='7']\".",
        show_default=False,
    ),
]


def row_reference(words: list[str], aws: Aws) -> RowRef:
    """The row `words` name; a malformed reference is a usage error (exit 2)."""
    try:
        return parse_row_reference(words, aws.settings.tables)
    except RowReferenceError as exc:
        fail(str(exc), code=2)


def source(aws: Aws) -> RowSource:
    """The three source tables of the deployment."""
    settings = aws.settings
    return RowSource(aws.dynamodb, settings.tables, settings.job_id_index)


def read_lineage(aws: Aws) -> Lineage:
    """Every row of the three tables, checked as the compiler checks them."""
    return lineage(source(aws).scan_all(), aws.settings.compiler)


def dag_rows(found: Lineage, target: list[str], aws: Aws) -> tuple[str, list[DagRow]]:
    """The DAG id `target` names and the rows producing it (a row reference names one)."""
    if len(target) == 1 and "[" not in target[0]:
        return target[0], found.for_dag(target[0])
    ref = row_reference(target, aws)
    row = found.rows.get(ref)
    if row is None:
        if table_kind(aws.settings.tables, ref.table) == "task":
            fail(
                f"{ref} is a task row: tasks have no DAG of their own",
                hint=f"`dynadag uses {shlex.join([ref.table, *dict(ref.key).values()])}` "
                "lists the DAGs that run it",
            )
        fail(f"{ref} does not exist in table {ref.table}")
    return row.dag_id, [row]


def disabled_reason(aws: Aws, dag_id: str) -> str | None:
    """``disabled by ...`` when only disabled rows produce `dag_id`, else None."""
    return read_lineage(aws).disabled_reason(dag_id)


def hidden_dags(aws: Aws, records: list[DagRecord]) -> list[Missing]:
    """The DAGs of disabled rows and the registry's deleted DAGs, with the reason."""
    known = {r.dag_id: (r.kind, r.outcome, r.sources) for r in records}
    return missing_dags(read_lineage(aws), known)


@aws_command
def uses_row(row: RowArgument, output: FormatOption = OutputFormat.TEXT) -> None:
    """The DAGs that depend on a row, transitively (task → jobs → schedulers)."""
    aws = connect(needs_bucket=False)
    ref = row_reference(row, aws)
    rows = source(aws)
    if rows.get_rows([ref])[ref] is None:
        fail(f"{ref} does not exist in table {ref.table}")
    registry = Registry(aws.dynamodb, aws.settings.registry_table)
    found = uses(ref, rows.kind(ref), registry.dependents)
    states = registry.row_states(use.ref for use in found)
    dags = [(states[use.ref].dag_id if use.ref in states else None, use) for use in found]
    if output is OutputFormat.JSON:
        entries = [
            {
                "dag_id": dag_id,
                "kind": use.kind,
                "row": str(use.ref),
                "via": str(use.via) if use.via else None,
            }
            for dag_id, use in dags
        ]
        sys.stdout.write(json.dumps({"row": str(ref), "dags": entries}, indent=2) + "\n")
    elif not dags:
        say(f"no DAG uses {ref}")
    else:
        print_table(
            ("DAG", "kind", "row", "via"),
            [
                (
                    dag_id or "(none: disabled or not built)",
                    use.kind,
                    str(use.ref),
                    str(use.via) if use.via else "",
                )
                for dag_id, use in dags
            ],
        )


@aws_command
def explain(target: TargetArgument, output: FormatOption = OutputFormat.TEXT) -> None:
    """The rows behind a DAG, enabled or not, why it has its id, its last outcome,
    problems, S3 version, rollback state and the schedulers that trigger it."""
    aws = connect(needs_bucket=False)
    found = read_lineage(aws)
    dag_id, rows = dag_rows(found, target, aws)
    record = Registry(aws.dynamodb, aws.settings.registry_table).get_dag(dag_id)
    if not rows and record is None:
        fail(
            f"unknown DAG {dag_id!r}: no row produces it and the registry never saw it",
            hint="`dynadag status --all` lists every DAG, disabled and deleted ones too",
        )
    missing = (
        None
        if any(row.enabled for row in rows)
        else missing_reason(dag_id, record.sources if record else (), found)
    )
    if output is OutputFormat.JSON:
        report = {
            "dag_id": dag_id,
            "rows": [_row_dict(row, found) for row in rows],
            "missing": missing,
            "registry": _record_dict(record) if record else None,
        }
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
        return
    say(dag_id, style="bold")
    if missing:
        say(f"  not built    {missing}", style="yellow")
    for row in rows:
        _print_row(row, found)
    _print_record(record)


def _row_dict(row: DagRow, found: Lineage) -> dict[str, Any]:
    triggers = [found.rows[ref] for ref in row.triggered_by]
    return {
        "row": str(row.ref),
        "kind": row.kind,
        "enabled": row.enabled,
        "disabled_by": row.disabled_by,
        "lists_disabled": list(row.blocked_by),
        "dag_id_reason": row.id_reason,
        "fallback_id": row.fallback,
        "problems": [problem.to_dict() for problem in row.problems],
        "triggered_by": [
            {"dag_id": s.dag_id, "row": str(s.ref), "enabled": s.enabled} for s in triggers
        ],
    }


def _record_dict(record: DagRecord) -> dict[str, Any]:
    """What the registry holds, with its pin fields (`_pins`)."""
    return {
        "outcome": record.outcome,
        "updated_at": record.updated_at,
        "s3_key": record.s3_key,
        "version_id": record.version_id,
        "problems": list(record.problems),
        "error": record.error,
        "rolled_back_from": record.rolled_back_from,
        **_pins(record),
    }


def _pins(record: DagRecord) -> dict[str, Any]:
    """The record's set pin fields, whatever they are named (rollback pins may add them)."""
    values = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    return {
        name: value
        for name, value in values.items()
        if "pin" in name and value not in (None, False, (), "")
    }


def _print_row(row: DagRow, found: Lineage) -> None:
    say(f"  row          {row.ref} ({row.kind}, {'enabled' if row.enabled else 'disabled'})")
    say(f"  DAG id       {row.dag_id}, {row.id_reason}")
    for blocked in row.blocked_by:
        say(f"  lists        {blocked}: disabled, so this DAG cannot be built", style="red")
    for problem in row.problems:
        say(f"  problem      {problem}", style="red")
    for ref in row.triggered_by:
        trigger = found.rows[ref]
        off = "" if trigger.enabled else f", disabled by {trigger.disabled_by}"
        say(f"  triggered by {trigger.dag_id} ({ref}{off})")


def _print_record(record: DagRecord | None) -> None:
    if record is None:
        say("  registry     never built")
        return
    say(f"  outcome      {record.outcome} at {record.updated_at}")
    say(f"  S3 version   {record.version_id or '(none)'} of {record.s3_key or '(no key)'}")
    if record.error:
        say(f"  error        {record.error}", style="red")
    if record.rolled_back_from:
        say(f"  rollback     restored from S3 version {record.rolled_back_from}", style="yellow")
    for name, value in _pins(record).items():
        say(f"  {name:<12} {value}", style="yellow")
