"""Files, and blocks of files, generated from the code: one way to write them, one to check them.

A generated block sits between ``<!-- BEGIN name ... -->`` and ``<!-- END name -->``; the
text around it is written by hand. `write` regenerates a file; `stale` tells a test
whether the checked-in copy is what the generator writes (README's environment
variables, ``docs/rows.schema.json``, ``docs/task-types.md``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

Render = Callable[[str], str]
"""The file's fresh text from its current text (a whole-file generator ignores it)."""


def with_block(text: str, name: str, content: str) -> str:
    """`text` with the lines between its `name` markers replaced by `content`."""
    pattern = re.compile(
        rf"(<!-- BEGIN {re.escape(name)}(?: [^\n]*?)?-->\n).*?(<!-- END {re.escape(name)} -->)",
        re.DOTALL,
    )
    if not pattern.search(text):
        raise ValueError(f"no <!-- BEGIN {name} ... --> block")
    return pattern.sub(lambda m: f"{m[1]}\n{content}\n{m[2]}", text, count=1)


def write(path: Path, render: Render) -> None:
    """Regenerate `path` (a missing file starts empty)."""
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    path.write_text(render(current), encoding="utf-8")


def stale(path: Path, render: Render, command: str) -> str | None:
    """None when `path` holds what `render` writes; else a message naming `command`."""
    current = path.read_text(encoding="utf-8")
    if render(current) == current:
        return None
    return f"{path.name} is stale: run `{command}`"
