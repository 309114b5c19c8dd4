"""The `dynadag` command line: this module only wires the commands together.

Importing it must stay cheap (no boto3, black, jinja2): commands import what they
need when they run, so `dynadag --help` and shell completion start fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from lambda_compiler import __version__
from lambda_compiler.cli.common import (
    LOCAL_PANEL,
    OFFLINE_PANEL,
    OPERATE_PANEL,
    OPTIONS,
    group_callback,
    guarded,
    run,
)
from lambda_compiler.cli.compile import compile_rows, validate_rows
from lambda_compiler.cli.discovery import local_env
from lambda_compiler.cli.edit import edit
from lambda_compiler.cli.files import diff, history, list_files, show
from lambda_compiler.cli.graph import graph
from lambda_compiler.cli.lineage import explain, uses_row
from lambda_compiler.cli.local import local
from lambda_compiler.cli.migrate import migrate_check
from lambda_compiler.cli.plan import plan
from lambda_compiler.cli.rebuild import rebuild
from lambda_compiler.cli.redrive import redrive
from lambda_compiler.cli.rollback import rollback
from lambda_compiler.cli.rows import export_rows, import_rows
from lambda_compiler.cli.runs import runs
from lambda_compiler.cli.status import status

OFFLINE_ENV = (
    "DYNADAG_AIRFLOW_VERSION, and the policy: DYNADAG_ALLOW_BASH, "
    "DYNADAG_PYTHON_MODULE_PREFIXES, DYNADAG_ALLOWED_* (see the README)"
)
OPERATE_ENV = (
    "DYNADAG_STACK (or DYNADAG_BUCKET, DYNADAG_DAGS_PREFIX, DYNADAG_*_TABLE), "
    "AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL; in a folder where `dynadag local` runs, none"
)
LOCAL_ENV = "DYNADAG_LOCAL_PORT, DYNADAG_ALLOW_BASH, DYNADAG_PYTHON_MODULE_PREFIXES"

# name, function, panel, example, environment variables read
COMMANDS: list[tuple[str, Callable[..., Any], str, str, str]] = [
    (
        "compile",
        compile_rows,
        OFFLINE_PANEL,
        "dynadag compile examples/rows.json --out dags/",
        OFFLINE_ENV,
    ),
    (
        "validate",
        validate_rows,
        OFFLINE_PANEL,
        "dynadag validate examples/rows.json --format json",
        OFFLINE_ENV,
    ),
    (
        "plan",
        plan,
        OFFLINE_PANEL,
        "dynadag plan rows/ --format json  (or --against main-rows/ offline)",
        f"{OPERATE_ENV}; {OFFLINE_ENV}",
    ),
    ("graph", graph, OFFLINE_PANEL, "dynadag graph schedule-daily --format mermaid", OPERATE_ENV),
    ("status", status, OPERATE_PANEL, "dynadag --stack dynadag-prod status", OPERATE_ENV),
    ("ls", list_files, OPERATE_PANEL, "dynadag ls --format json", OPERATE_ENV),
    ("show", show, OPERATE_PANEL, "dynadag show job-daily_sales --s3-version 2", OPERATE_ENV),
    ("history", history, OPERATE_PANEL, "dynadag history job-daily_sales", OPERATE_ENV),
    ("diff", diff, OPERATE_PANEL, "dynadag diff job-daily_sales 1 2", OPERATE_ENV),
    ("rollback", rollback, OPERATE_PANEL, "dynadag rollback job-daily_sales --to 1", OPERATE_ENV),
    (
        "rebuild",
        rebuild,
        OPERATE_PANEL,
        "dynadag --profile prod rebuild",
        f"{OPERATE_ENV}; {OFFLINE_ENV}",
    ),
    ("redrive", redrive, OPERATE_PANEL, "dynadag redrive --here", OPERATE_ENV),
    (
        "import",
        import_rows,
        OPERATE_PANEL,
        "dynadag import examples/rows.json",
        f"{OPERATE_ENV}; {OFFLINE_ENV}",
    ),
    ("export", export_rows, OPERATE_PANEL, "dynadag export rows.json", OPERATE_ENV),
    ("runs", runs, OPERATE_PANEL, "dynadag runs job-daily_sales -n 5", OPERATE_ENV),
    ("edit", edit, OPERATE_PANEL, "dynadag edit task 3", f"{OPERATE_ENV}; VISUAL, EDITOR"),
    ("uses", uses_row, OPERATE_PANEL, "dynadag uses mwaa_task 4", OPERATE_ENV),
    ("explain", explain, OPERATE_PANEL, "dynadag explain job-daily_sales", OPERATE_ENV),
    (
        "migrate-check",
        migrate_check,
        OPERATE_PANEL,
        "dynadag migrate-check rows.json --airflow-version 2.10",
        f"{OPERATE_ENV}; {OFFLINE_ENV}",
    ),
]


def epilog(example: str, environment: str) -> str:
    """The end of a command's `--help`: an example and the variables it reads."""
    return f"Example: {example}\n\nEnvironment: {environment}"


app = typer.Typer(
    name="dynadag",
    help="Compile DynamoDB pipeline rows into Airflow DAG files, and operate the result.",
    epilog=epilog(
        "dynadag --stack dynadag-prod status",
        "see each command's --help; exit codes: 0 ok, 1 problems or failure, 2 usage",
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        print(f"dynadag {__version__}")
        raise typer.Exit()


@app.callback()
def global_options(
    stack: Annotated[
        str | None,
        typer.Option(
            "--stack",
            envvar="DYNADAG_STACK",
            help="CloudFormation stack of the deployment: bucket, prefix and tables come from "
            "its outputs.",
            show_default=False,
        ),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option("--profile", help="AWS profile (default: AWS_PROFILE).", show_default=False),
    ] = None,
    region: Annotated[
        str | None,
        typer.Option("--region", help="AWS region (default: AWS_REGION).", show_default=False),
    ] = None,
    endpoint_url: Annotated[
        str | None,
        typer.Option(
            "--endpoint-url",
            help="AWS endpoint, e.g. a `dynadag local` (default: AWS_ENDPOINT_URL).",
            show_default=False,
        ),
    ] = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of an unexpected error.")
    ] = False,
    version: Annotated[
        bool | None,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = None,
) -> None:
    """Options that come before the command, as with the AWS CLI."""
    OPTIONS.stack = stack
    OPTIONS.profile = profile
    OPTIONS.region = region
    OPTIONS.endpoint_url = endpoint_url
    OPTIONS.debug = debug


for _name, _function, _panel, _example, _environment in COMMANDS:
    app.command(_name, rich_help_panel=_panel, epilog=epilog(_example, _environment))(
        guarded(_function)
    )


local_app = typer.Typer(
    epilog=epilog(
        "dynadag local --seed examples/rows.json  (then, in another shell here: dynadag status)",
        LOCAL_ENV,
    ),
)
local_app.callback(invoke_without_command=True)(group_callback(local))
local_app.command("env", epilog=epilog('eval "$(dynadag local env)"; aws s3 ls', "none"))(
    guarded(local_env)
)
app.add_typer(local_app, name="local", rich_help_panel=LOCAL_PANEL)


def main() -> None:
    """Entry point of the `dynadag` script."""
    run(app)
