"""Output for people on a terminal, and plain lines for pipes and scripts."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text  # loaded by rich.console anyway

from lambda_compiler.cli.common import console, err_console

if TYPE_CHECKING:
    from rich.progress import Progress

Cell = str | Text


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> None:
    """A rich table on a terminal; otherwise a header line and one tab-separated line per row."""
    if console.is_terminal:
        from rich.table import Table

        table = Table(box=None)
        for header in headers:
            table.add_column(header, overflow="fold")  # never cut an id short
        for row in rows:
            table.add_row(*(Text(cell) if isinstance(cell, str) else cell for cell in row))
        console.print(table)
        return
    lines = ["\t".join(headers)]
    lines.extend("\t".join(_plain(cell) for cell in row) for row in rows)
    sys.stdout.write("\n".join(lines) + "\n")


def _plain(cell: Cell) -> str:
    text = cell.plain if isinstance(cell, Text) else cell
    return text.replace("\n", ", ").replace("\t", " ")


def say(text: str, *, style: str | None = None, err: bool = False) -> None:
    """One line of plain text (no markup, never wrapped), on stderr when `err`."""
    (err_console if err else console).print(
        text, style=style, markup=False, highlight=False, soft_wrap=True
    )


def progress_bar(label: str, *, transient: bool = True) -> Progress:
    """A progress bar on stderr, shown only on a terminal: label, bar, done/total, time."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=transient,
        disable=not err_console.is_terminal,
    )
