"""Callables that the `PYTHON` task rows of the runtime tests name by dotted path."""

from __future__ import annotations

from pathlib import Path


def write_marker(path: str, text: str) -> str:
    """Write `text` to `path`, so the test can see that the callable ran with its arguments."""
    Path(path).write_text(text, encoding="utf-8")
    return text


def fail_with(message: str) -> None:
    """Always fail, the way a task whose input is missing would."""
    raise RuntimeError(message)
