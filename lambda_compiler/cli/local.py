"""`dynadag local`: the whole pipeline on this machine, no AWS account needed."""

from __future__ import annotations

import importlib.util
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lambda_compiler.cli.common import fail
from lambda_compiler.cli.output import say
from lambda_compiler.local.report import ChangeLine
from lambda_compiler.snapshot import RowsFileError

if TYPE_CHECKING:
    from lambda_compiler.local.stack import LocalStack

READY = "dynadag local is ready"
# What the `local` extra adds: the moto server (Flask) and the template reader (PyYAML).
LOCAL_EXTRA_MODULES = ("yaml", "moto", "flask")


def local(
    port: Annotated[
        int,
        typer.Option("--port", envvar="DYNADAG_LOCAL_PORT", help="Port on 127.0.0.1 (0: any)."),
    ] = 5000,
    seed: Annotated[
        Path | None,
        typer.Option("--seed", help="Rows file, or folder of *.json rows files, to load."),
    ] = None,
    dags_folder: Annotated[
        Path, typer.Option("--dags-folder", help="Where the dags prefix is mirrored.")
    ] = Path(".dynadag/dags"),
    bucket: Annotated[
        str | None, typer.Option("--bucket", help="Bucket name (default: the template's).")
    ] = None,
    template: Annotated[
        Path | None,
        typer.Option("--template", help="SAM template with the tables and bucket (default: ours)."),
    ] = None,
) -> None:
    """Run DynamoDB, S3 and the compiler locally: save an item and the DAG appears.

    Starts a moto server on 127.0.0.1, creates the tables and the versioned bucket of
    template.yaml, feeds the tables' streams to the real Lambda handler, and mirrors
    the DAG files into a local Airflow dags folder. Ctrl-C stops everything.
    """
    # Imported here: the local stack needs the `local` extra (moto, PyYAML), other commands not.
    _require_local_extra()
    from lambda_compiler.local.resources import DEFAULT_TEMPLATE, TemplateError
    from lambda_compiler.local.stack import LocalConfig, LocalStack, PortInUseError
    from lambda_compiler.settings import SettingsError

    config = LocalConfig(
        port=port, template=template or DEFAULT_TEMPLATE, bucket=bucket, dags_folder=dags_folder
    )
    stack = LocalStack(
        config,
        on_change=_print_change,
        on_error=_print_error,
    )
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda signum, frame: stack.request_stop())
    try:
        try:
            stack.start()
        except (PortInUseError, TemplateError, SettingsError) as exc:
            fail(str(exc))
        _print_banner(stack)
        if seed is not None:
            try:
                count = stack.seed(seed)
            except RowsFileError as exc:
                fail(str(exc))
            say(f"seeded {count} row(s) from {seed}")
        say(f"{READY}: {stack.endpoint} (Ctrl-C to stop)")
        sys.stdout.flush()
        stack.wait()
    finally:
        stack.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        say("stopped")


def _require_local_extra() -> None:
    """Fail with the install command when a module of the `local` extra is missing."""
    missing = [name for name in LOCAL_EXTRA_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        fail(
            f"dynadag local needs the 'local' extra; missing module(s): {', '.join(missing)}",
            hint='pip install "dynadag[local]" (in a clone of the repository: make install)',
        )


def _print_banner(stack: LocalStack) -> None:
    settings = stack.settings
    tables = settings.tables
    say(f"endpoint     {stack.endpoint}")
    say(f"tables       {tables.task}, {tables.job}, {tables.scheduler} (streams on)")
    say(f"registry     {settings.registry_table}")
    say(f"bucket       s3://{settings.bucket}/{settings.dags_prefix} (versioned)")
    say(f"dags folder  {stack.config.dags_folder}")
    say(f"lambda logs  {stack.handler_log}")
    say("use it from another shell:", style="dim")
    exports = " ".join(f"{name}={value}" for name, value in stack.client_environment().items())
    say(f"  export {exports}", style="dim")


def _print_change(line: ChangeLine) -> None:
    say(line.text(), style="red" if line.failed else None)
    sys.stdout.flush()


def _print_error(what: str, exc: BaseException) -> None:
    say(f"{what}: {type(exc).__name__}: {exc}", style="red", err=True)
