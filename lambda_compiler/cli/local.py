"""`dynadag local`: the whole pipeline on this machine, no AWS account needed."""

from __future__ import annotations

import importlib.util
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lambda_compiler.cli.common import fail
from lambda_compiler.cli.discovery import remove_local_record, write_local_record
from lambda_compiler.cli.output import say
from lambda_compiler.snapshot import RowsFileError

if TYPE_CHECKING:
    from lambda_compiler.local.airflow import LocalAirflow
    from lambda_compiler.local.report import ChangeLine
    from lambda_compiler.local.stack import LocalStack

READY = "dynadag local is ready"
# What the `local` extra adds: the moto server (Flask) and the template reader (PyYAML).
LOCAL_EXTRA_MODULES = ("yaml", "moto", "flask", "samtranslator")


def local(
    port: Annotated[
        int,
        typer.Option(
            "--port",
            envvar="DYNADAG_LOCAL_PORT",
            min=0,
            max=65535,
            help="Port on 127.0.0.1 (0: any).",
        ),
    ] = 5000,
    seed: Annotated[
        Path | None,
        typer.Option("--seed", help="Rows file, or folder of rows files (JSON or YAML), to load."),
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
    airflow: Annotated[
        bool,
        typer.Option(
            "--airflow",
            help="Also run Airflow (UI, scheduler, dag-processor, triggerer) on the dags folder.",
        ),
    ] = False,
    airflow_port: Annotated[
        int | None,
        typer.Option(
            "--airflow-port",
            min=0,
            max=65535,
            help="Port of the Airflow UI on 127.0.0.1 (default: 8080 if free, else any).",
        ),
    ] = None,
    queue_workers: Annotated[
        int,
        typer.Option(
            "--queue-workers",
            min=1,
            max=32,
            help="Processes building the fan-out work queue's batches (Lambda's concurrency).",
        ),
    ] = 2,
) -> None:
    """Run DynamoDB, S3 and the compiler locally: save an item and the DAG appears.

    Starts a moto server on 127.0.0.1, creates the tables and the versioned bucket of
    template.yaml, feeds the tables' streams to the real Lambda handler, and mirrors
    the DAG files into a local Airflow dags folder. With --airflow, an Airflow runs on
    that folder (state in .dynadag/airflow beside it) and a saved row is a DAG in its UI
    within seconds. Ctrl-C stops everything.
    """
    # Imported here: the local stack needs the `local` extra (moto, PyYAML, samtranslator), other
    # commands not.
    _require_local_extra()
    from lambda_compiler.local.cfn import TemplateError
    from lambda_compiler.local.children import ChildError
    from lambda_compiler.local.resources import DEFAULT_TEMPLATE
    from lambda_compiler.local.stack import LocalConfig, LocalStack, PortInUseError
    from lambda_compiler.settings import SettingsError

    config = LocalConfig(
        port=port,
        template=template or DEFAULT_TEMPLATE,
        bucket=bucket,
        dags_folder=dags_folder,
        queue_workers=queue_workers,
    )
    stack = LocalStack(
        config,
        on_change=_print_change,
        on_error=_print_error,
    )
    ui: LocalAirflow | None = None

    def request_stop(signum: int, frame: object) -> None:
        stack.request_stop()
        if ui is not None:
            ui.request_stop()

    record = config.dags_folder.parent / "local.json"
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, request_stop)
    try:
        try:
            if airflow:
                port_of_ui = _airflow_port(airflow_port)
            stack.start()
        except (PortInUseError, TemplateError, SettingsError, ChildError) as exc:
            fail(str(exc))
        _print_banner(stack)
        _record(stack)
        if seed is not None:
            try:
                count = stack.seed(seed)
            except RowsFileError as exc:
                fail(str(exc))
            say(f"seeded {count} row(s) from {seed}")
        if airflow:
            ui = _local_airflow(stack, port_of_ui)
            _start_airflow(ui, stack)
        if not stack.stopping:
            say(f"{READY}: {stack.endpoint} (Ctrl-C to stop)")
        sys.stdout.flush()
        stack.wait()
    finally:
        if ui is not None:
            ui.stop()
        stack.stop()
        remove_local_record(record)
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
    say(
        "other shells in this folder need no variables (`dynadag local env`); elsewhere:",
        style="dim",
    )
    exports = " ".join(f"{name}={value}" for name, value in stack.client_environment().items())
    say(f"  export {exports}", style="dim")


def _airflow_port(requested: int | None) -> int:
    """`requested` if free (else fail), or 8080 if free, or any free port."""
    from lambda_compiler.local.airflow import DEFAULT_PORT, free_port
    from lambda_compiler.local.stack import PortInUseError, check_port_free

    if requested:
        try:
            check_port_free("127.0.0.1", requested)
        except PortInUseError:
            fail(f"127.0.0.1:{requested} is already in use", hint="choose --airflow-port")
        return requested
    try:
        check_port_free("127.0.0.1", DEFAULT_PORT)
    except PortInUseError:
        return free_port()
    return DEFAULT_PORT


def _local_airflow(stack: LocalStack, port: int) -> LocalAirflow:
    """Airflow on the stack's dags folder, its state beside it (`.dynadag/airflow`)."""
    from lambda_compiler.local.airflow import LocalAirflow, airflow_environment

    workdir = stack.config.dags_folder.parent
    home = workdir / "airflow"
    environment = airflow_environment(
        home,
        stack.config.dags_folder,
        stack.config.environment(stack.endpoint, stack.settings),
        warehouse=workdir / "warehouse.db",
        run_history_table=stack.settings.run_history_table,
    )
    return LocalAirflow(home, environment, port, on_error=_print_error)


def _start_airflow(ui: LocalAirflow, stack: LocalStack) -> None:
    """Start it and print its address; one error line if it does not start (unless stopping)."""
    from lambda_compiler.local.airflow import AirflowError

    say(f"airflow      starting (state in {ui.home}, logs in {ui.log_folder})")
    sys.stdout.flush()
    try:
        ui.start()
    except AirflowError as exc:
        if stack.stopping:
            return
        logs = f"each component's output is in {ui.log_folder}"
        fail(str(exc), hint=logs if ui.log_folder.exists() else None)
    say(f"airflow UI   {ui.url} (no login: local only, everyone is admin)")


def _record(stack: LocalStack) -> None:
    """Write `.dynadag/local.json`: shells in this folder then find the stack by themselves."""
    write_local_record(
        stack.config.dags_folder.parent,
        stack.endpoint,
        stack.config.environment(stack.endpoint, stack.settings),
        stack.client_environment(),
    )


def _print_change(line: ChangeLine) -> None:
    say(line.text(), style="red" if line.failed else None)
    sys.stdout.flush()


def _print_error(what: str, exc: BaseException) -> None:
    say(f"{what}: {type(exc).__name__}: {exc}", style="red", err=True)
