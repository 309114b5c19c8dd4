"""`dynadag graph`: a DAG as scheduler → jobs → tasks, as a tree, Mermaid or Graphviz DOT."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text
from rich.tree import Tree

from lambda_compiler.cli.aws import aws_command, connect
from lambda_compiler.cli.common import console, fail
from lambda_compiler.cli.compile import compiler_config
from lambda_compiler.cli.lineage import TargetArgument, dag_rows, read_lineage
from lambda_compiler.cli.output import say
from lambda_compiler.diagram import Node, diagram, plain_text, to_dot, to_mermaid
from lambda_compiler.lineage import disabled_reason, lineage
from lambda_compiler.rows_file import load_snapshot
from lambda_compiler.snapshot import RowsFileError


class GraphFormat(StrEnum):
    TEXT = "text"
    MERMAID = "mermaid"
    DOT = "dot"


@aws_command
def graph(
    target: TargetArgument,
    output: Annotated[
        GraphFormat,
        typer.Option("--format", help="text: a tree; mermaid or dot for docs and reviews."),
    ] = GraphFormat.TEXT,
    rows: Annotated[
        Path | None,
        typer.Option("--rows", help="Read this rows file instead of the tables (offline)."),
    ] = None,
) -> None:
    """Draw a DAG from its rows: a scheduler's jobs and their tasks, in run order."""
    aws = connect(needs_bucket=False)
    if rows is None:
        found = read_lineage(aws)
    else:
        try:
            found = lineage(load_snapshot(rows, aws.settings.tables), compiler_config(None))
        except RowsFileError as exc:
            fail(str(exc), code=2)
    dag_id, producers = dag_rows(found, target, aws)
    if not producers:
        fail(f"unknown DAG {dag_id!r}: no row produces it")
    disabled = disabled_reason(producers)
    if disabled:
        fail(f"DAG {dag_id!r} is disabled: {disabled}")
    row = next(row for row in producers if row.enabled)
    if row.problems:
        say(
            f"warning: DAG {dag_id} has {len(row.problems)} problem(s), so it is not built as "
            f"drawn; `dynadag explain {dag_id}` lists them",
            style="yellow",
            err=True,
        )
    root = diagram(found.plans[row.ref])
    if output is GraphFormat.MERMAID:
        sys.stdout.write(to_mermaid(root))
    elif output is GraphFormat.DOT:
        sys.stdout.write(to_dot(root))
    else:
        tree = Tree(_label(root))
        _grow(tree, root)
        console.print(tree, soft_wrap=True)
        for trigger in row.triggered_by:
            say(f"triggered by {found.rows[trigger].dag_id} ({trigger})")


def _grow(tree: Tree, node: Node) -> None:
    for child in node.children:
        _grow(tree.add(_label(child)), child)


def _label(node: Node) -> Text:
    text = Text()
    text.append(plain_text(node.title), style="bold")
    text.append(f"  {plain_text(node.detail)}", style="dim")
    if node.after:
        text.append(f"  after {plain_text(', '.join(node.after))}", style="cyan")
    return text
