"""`dynadag compile` and `dynadag validate`: rows file → DAG files, offline."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from lambda_compiler.cli.common import (
    FormatOption,
    OutputFormat,
    err_console,
    fail,
    report_problems,
)
from lambda_compiler.compiler import CompileResult, compile_dags
from lambda_compiler.config import CompilerConfig, ConfigError
from lambda_compiler.rows_file import load_snapshot
from lambda_compiler.snapshot import RowsFileError

RowsArgument = Annotated[
    Path,
    typer.Argument(
        help='JSON file: {"mwaa_task": [...], "mwaa_job": [...], "mwaa_scheduler": [...]}'
    ),
]


def _compile(rows: Path) -> CompileResult:
    try:
        config = CompilerConfig.from_env(os.environ)
    except ConfigError as exc:
        fail(str(exc), code=2)
    try:
        return compile_dags(load_snapshot(rows), config=config)
    except RowsFileError as exc:
        fail(str(exc), code=2)


def compile_rows(
    rows: RowsArgument,
    out: Annotated[Path, typer.Option("--out", help="Directory for the {dag_id}.py files.")],
    output: FormatOption = OutputFormat.TEXT,
) -> None:
    """Write one DAG file per valid DAG; exit 1 if any DAG had problems."""
    result = _compile(rows)
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


def validate_rows(rows: RowsArgument, output: FormatOption = OutputFormat.TEXT) -> None:
    """Check the rows without writing anything; exit 1 if any DAG had problems."""
    result = _compile(rows)
    problems = result.problems
    report_problems(problems, output)
    if output is OutputFormat.TEXT:
        err_console.print(
            f"{len(result.dags)} DAG(s) checked, {len(problems)} problem(s)", highlight=False
        )
    raise typer.Exit(1 if problems else 0)
