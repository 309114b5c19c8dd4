"""Options and error handling shared by the CLI commands."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from lambda_compiler.problems import Problem

console = Console()
err_console = Console(stderr=True)


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


FormatOption = Annotated[
    OutputFormat, typer.Option("--format", help="text for people, json for tools.")
]


def fail(message: str, *, code: int = 1, hint: str | None = None) -> NoReturn:
    """Print one red line (and an optional hint) to stderr and exit with `code`."""
    err_console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    if hint:
        err_console.print(f"[dim]hint: {escape(hint)}[/dim]", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def warn(message: str) -> None:
    """One yellow ``warning:`` line on stderr: worth reading, never a failure."""
    err_console.print(
        f"[yellow]warning:[/yellow] {escape(message)}", highlight=False, soft_wrap=True
    )


def report_problems(problems: list[Problem], output: OutputFormat) -> None:
    """Problems one per line on stderr, or as a JSON list on stdout for tools."""
    if output is OutputFormat.JSON:
        sys.stdout.write(json.dumps([p.to_dict() for p in problems], indent=2) + "\n")
        return
    for problem in problems:
        sys.stderr.write(f"{problem}\n")
