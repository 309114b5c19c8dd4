"""`dynadag status`: every DAG the registry knows, with its last outcome and problems."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from lambda_compiler.cli.aws import aws_command, connect
from lambda_compiler.cli.common import FormatOption, OutputFormat, write_json
from lambda_compiler.cli.output import print_table, say
from lambda_compiler.problems import problem_dict

if TYPE_CHECKING:
    from lambda_compiler.cli.aws import Aws
    from lambda_compiler.lineage import Missing
    from lambda_compiler.registry import DagRecord

FAILED_OUTCOMES = frozenset({"invalid", "error"})
_STYLES = {
    "invalid": "red",
    "error": "red",
    "deleted": "dim",
    "rolled-back": "yellow",
    "pinned": "yellow",
}


AllOption = Annotated[
    bool, typer.Option("--all", help="Also list disabled and deleted DAGs, with the reason.")
]


@aws_command
def status(output: FormatOption = OutputFormat.TEXT, all_dags: AllOption = False) -> None:
    """Outcome, problems, S3 version and last change of every DAG; exit 1 if any is invalid.

    Deleted DAGs are left out unless --all, which also lists DAGs of disabled rows. The
    latest fan-out run (batches pending, done, failed) follows on stderr; with --format json
    as one object, ``{"latest_run": ...}``, while stdout holds the list of DAGs.
    """
    from lambda_compiler.cli.lineage import hidden_dags
    from lambda_compiler.registry import Registry

    aws = connect()
    # The registry alone would not notice a wrong bucket: look at the dags prefix first.
    aws.s3.list_objects_v2(Bucket=aws.settings.bucket, Prefix=aws.settings.dags_prefix, MaxKeys=1)
    known = Registry(aws.dynamodb, aws.settings.registry_table).list_dags()
    missing = hidden_dags(aws, known) if all_dags else []
    live = [r for r in known if r.outcome != "deleted"]
    records = known if all_dags else live
    failed = [r for r in records if r.outcome in FAILED_OUTCOMES]
    reasons = {m.dag_id: m for m in missing}
    unbuilt = [m for m in missing if m.dag_id not in {r.dag_id for r in known}]
    if output is OutputFormat.JSON:
        entries = [{**_as_dict(r), **_reason(reasons.get(r.dag_id))} for r in records]
        entries += [{"dag_id": m.dag_id, "kind": m.kind, **_reason(m)} for m in unbuilt]
        entries.sort(key=lambda entry: str(entry["dag_id"]))
        write_json(entries)
    elif not known and not missing:
        say(f"no DAGs in registry table {aws.settings.registry_table}", err=True)
    else:
        _table(records, unbuilt)
        for record in records:
            for problem in (*record.problems, *([record.error] if record.error else [])):
                say(f"{record.dag_id}: {problem}", style="red", err=True)
        for gone in missing:
            say(f"{gone.dag_id}: {gone.reason}", style="dim", err=True)
        summary = f"{len(live)} DAG(s), {len(failed)} with problems"
        if all_dags:
            summary += f", {len(missing)} disabled or deleted"
        elif len(known) > len(live):
            summary += f" ({len(known) - len(live)} deleted not shown: `dynadag status --all`)"
        say(summary, style="red" if failed else None, err=True)
    _latest_run(aws, output)
    raise typer.Exit(1 if failed else 0)


def _latest_run(aws: Aws, output: OutputFormat) -> None:
    """The last fan-out run's batches (pending, done, failed), on stderr."""
    from lambda_compiler.cli.rebuild import run_line
    from lambda_compiler.fanout import Runs

    run = Runs(aws.dynamodb, aws.settings.registry_table).latest()
    if run is None:
        return
    if output is OutputFormat.JSON:
        sys.stderr.write(json.dumps({"latest_run": run.to_dict()}) + "\n")
    else:
        say(run_line(run), style="red" if run.failed else None, err=True)


def _reason(missing: Missing | None) -> dict[str, object]:
    return {"state": missing.state, "reason": missing.reason} if missing else {}


def _table(records: list[DagRecord], unbuilt: list[Missing]) -> None:
    rows: list[tuple[str, str, Text, str, str]] = []
    for record in records:
        outcome: str = record.outcome or "?"
        if record.rolled_back_from:
            outcome += f" (from {record.rolled_back_from[:8]})"
        if record.pinned:
            outcome += f", pinned by {record.pinned_by or '?'} at {record.pinned_at}"
        rows.append(
            (
                record.dag_id,
                record.kind or "",
                Text(outcome, style=_STYLES.get(record.outcome or "", "green")),
                (record.version_id or "")[:12],
                (record.updated_at or "").replace("T", " ").removesuffix("+00:00"),
            )
        )
    rows += [(m.dag_id, m.kind or "", Text(m.state, style="dim"), "", "") for m in unbuilt]
    rows.sort(key=lambda row: row[0])
    print_table(("DAG", "kind", "outcome", "S3 version", "last change (UTC)"), rows)


def _row_text(address: str) -> str:
    """A stored row address (`mwaa_task/task_id=4`) as users read it: `mwaa_task[task_id='4']`."""
    from lambda_compiler.rows import RowRef

    ref = RowRef.from_address(address)
    return str(ref) if ref.key else address  # e.g. "... and 3 more" when the list was capped


def _as_dict(record: DagRecord) -> dict[str, object]:
    return {
        "dag_id": record.dag_id,
        "kind": record.kind,
        "outcome": record.outcome,
        "s3_key": record.s3_key,
        "version_id": record.version_id,
        "sha256": record.sha256,
        "sources": [_row_text(address) for address in record.sources],
        "problems": [problem_dict(problem) for problem in record.problems],
        "error": record.error,
        "rolled_back_from": record.rolled_back_from,
        "pinned_version": record.pinned_version,
        "pinned_by": record.pinned_by,
        "pinned_at": record.pinned_at,
        "pending_sha256": record.pending_sha256,
        "updated_at": record.updated_at,
    }
