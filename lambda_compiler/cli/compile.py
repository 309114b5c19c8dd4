"""`dynadag compile` and `dynadag validate`: rows file → DAG files, offline."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lambda_compiler.cli.common import (
    FormatOption,
    OutputFormat,
    err_console,
    fail,
    report_problems,
    warn,
)
from lambda_compiler.config import CompilerConfig, ConfigError
from lambda_compiler.snapshot import RowsFileError
from lambda_compiler.targets import TargetError, target_for

if TYPE_CHECKING:
    from lambda_compiler.compiler import CompileResult

RowsArgument = Annotated[
    Path,
    typer.Argument(
        help='Rows file (JSON or YAML: {"mwaa_task": [...], "mwaa_job": [...], '
        '"mwaa_scheduler": [...]}) or a folder of them.'
    ),
]
AirflowVersionOption = Annotated[
    str | None,
    typer.Option(
        "--airflow-version",
        help="The MWAA environment's Airflow release: 2.10, 2.11, 3.0, 3.1, 3.2, 3.3 or a newer "
        "3.x (default: DYNADAG_AIRFLOW_VERSION, else 3.3).",
        show_default=False,
    ),
]


def compiler_config(
    airflow_version: str | None, base: CompilerConfig | None = None
) -> CompilerConfig:
    """`base` (default: from the environment) with `--airflow-version` applied; exit 2 if bad."""
    try:
        config = base or CompilerConfig.from_env(os.environ)
        if airflow_version is not None:
            config = dataclasses.replace(config, airflow=target_for(airflow_version))
    except TargetError as exc:
        fail(f"--airflow-version: {exc}", code=2)
    except ConfigError as exc:
        fail(str(exc), code=2)
    return config


def _compile(rows: Path, airflow_version: str | None, output: OutputFormat) -> CompileResult:
    from lambda_compiler.compiler import compile_dags
    from lambda_compiler.rows_file import load_snapshot

    config = compiler_config(airflow_version)
    try:
        result = compile_dags(load_snapshot(rows), config=config)
    except RowsFileError as exc:
        fail(str(exc))
    if output is OutputFormat.TEXT:
        from lambda_compiler.validate import unused_warning

        for ref in result.unused:
            warn(unused_warning(ref))
    return result


def compile_rows(
    rows: RowsArgument,
    out: Annotated[Path, typer.Option("--out", help="Directory for the {dag_id}.py files.")],
    output: FormatOption = OutputFormat.TEXT,
    airflow_version: AirflowVersionOption = None,
) -> None:
    """Write one DAG file per valid DAG; exit 1 if any DAG had problems."""
    if out.exists() and not out.is_dir():
        fail(f"--out {out} is a file, not a folder", code=2)
    result = _compile(rows, airflow_version, output)
    out.mkdir(parents=True, exist_ok=True)
    written = 0
    for dag_id, dag in result.dags.items():
        if dag.source is not None:
            (out / f"{dag_id}.py").write_text(dag.source, encoding="utf-8")
            written += 1
    problems = result.problems
    report_problems(problems, output)
    failed = sum(1 for dag in result.dags.values() if not dag.ok)
    err_console.print(
        f"wrote {written} DAG file(s) to {out}; {failed} DAG(s) with problems", highlight=False
    )
    raise typer.Exit(1 if problems else 0)


def validate_rows(
    rows: RowsArgument,
    output: FormatOption = OutputFormat.TEXT,
    airflow_version: AirflowVersionOption = None,
) -> None:
    """Check the rows without writing anything; exit 1 if any DAG had problems."""
    result = _compile(rows, airflow_version, output)
    problems = result.problems
    report_problems(problems, output)
    if output is OutputFormat.TEXT:
        err_console.print(
            f"{len(result.dags)} DAG(s) checked, {len(problems)} problem(s)", highlight=False
        )
    raise typer.Exit(1 if problems else 0)
