"""The `dynadag` command line: this module only wires the commands together."""

from __future__ import annotations

import typer

from lambda_compiler.cli.compile import compile_rows, validate_rows
from lambda_compiler.cli.edit import edit
from lambda_compiler.cli.files import diff, history, list_files, show
from lambda_compiler.cli.graph import graph
from lambda_compiler.cli.lineage import explain, uses_row
from lambda_compiler.cli.local import local
from lambda_compiler.cli.migrate import migrate_check
from lambda_compiler.cli.plan import plan
from lambda_compiler.cli.rebuild import rebuild
from lambda_compiler.cli.rollback import rollback
from lambda_compiler.cli.rows import export_rows, import_rows
from lambda_compiler.cli.runs import runs
from lambda_compiler.cli.status import status

app = typer.Typer(
    name="dynadag",
    help="Compile DynamoDB pipeline rows into Airflow DAG files, and operate the result.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("compile")(compile_rows)
app.command("validate")(validate_rows)
app.command("plan")(plan)
app.command("local")(local)
app.command("status")(status)
app.command("ls")(list_files)
app.command("show")(show)
app.command("history")(history)
app.command("diff")(diff)
app.command("rollback")(rollback)
app.command("rebuild")(rebuild)
app.command("export")(export_rows)
app.command("import")(import_rows)
app.command("edit")(edit)
app.command("runs")(runs)
app.command("migrate-check")(migrate_check)
app.command("uses")(uses_row)
app.command("explain")(explain)
app.command("graph")(graph)


def main() -> None:
    """Entry point of the `dynadag` script."""
    app()
