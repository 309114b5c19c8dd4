"""`dynadag status`: every DAG the registry knows, with its last outcome and problems."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.text import Text

from lambda_compiler.cli.aws import aws_command, connect
from lambda_compiler.cli.common import FormatOption, OutputFormat, write_json
from lambda_compiler.cli.output import print_table, say
from lambda_compiler.problems import problem_dict

if TYPE_CHECKING:
    from lambda_compiler.registry import DagRecord

FAILED_OUTCOMES = frozenset({"invalid", "error"})
_STYLES = {"invalid": "red", "error": "red", "deleted": "dim", "rolled-back": "yellow"}


@aws_command
def status(output: FormatOption = OutputFormat.TEXT) -> None:
    """Outcome, problems, S3 version and last change of every DAG; exit 1 if any is invalid."""
    from lambda_compiler.registry import Registry

    aws = connect()
    # The registry alone would not notice a wrong bucket: look at the dags prefix first.
    aws.s3.list_objects_v2(Bucket=aws.settings.bucket, Prefix=aws.settings.dags_prefix, MaxKeys=1)
    records = Registry(aws.dynamodb, aws.settings.registry_table).list_dags()
    failed = [r for r in records if r.outcome in FAILED_OUTCOMES]
    if output is OutputFormat.JSON:
        write_json([_as_dict(r) for r in records])
    elif not records:
        say(f"no DAGs in registry table {aws.settings.registry_table}", err=True)
    else:
        _table(records)
        for record in records:
            for problem in (*record.problems, *([record.error] if record.error else [])):
                say(f"{record.dag_id}: {problem}", style="red", err=True)
        say(
            f"{len(records)} DAG(s), {len(failed)} with problems",
            style="red" if failed else None,
            err=True,
        )
    raise typer.Exit(1 if failed else 0)


def _table(records: list[DagRecord]) -> None:
    rows = []
    for record in records:
        outcome = record.outcome or "?"
        if record.rolled_back_from:
            outcome += f" (from {record.rolled_back_from[:8]})"
        rows.append(
            (
                record.dag_id,
                record.kind or "",
                Text(outcome, style=_STYLES.get(record.outcome or "", "green")),
                (record.version_id or "")[:12],
                (record.updated_at or "").replace("T", " ").removesuffix("+00:00"),
            )
        )
    print_table(("DAG", "kind", "outcome", "S3 version", "last change (UTC)"), rows)


def _row_text(address: str) -> str:
    """A stored row address (`mwaa_task/task_id=4`) as users read it: `mwaa_task[task_id='4']`."""
    from lambda_compiler.plan import parse_row_address

    ref = parse_row_address(address)
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
        "updated_at": record.updated_at,
    }
