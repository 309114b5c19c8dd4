"""The `dynadag` command line: this module only wires the commands together."""

from __future__ import annotations

import typer

from lambda_compiler.cli.compile import compile_rows, validate_rows

app = typer.Typer(
    name="dynadag",
    help="Compile DynamoDB pipeline rows into Airflow DAG files, and operate the result.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("compile")(compile_rows)
app.command("validate")(validate_rows)


def main() -> None:
    """Entry point of the `dynadag` script."""
    app()
