"""The only path from row data to generated source: Python literals and variable names.

Nothing a row contains reaches a generated file except through `to_literal`
(a value that `ast.literal_eval` reads back exactly) or `variable_names` (names
rebuilt from a strict character set); DAG and task ids follow `naming`.
"""

from __future__ import annotations

import ast
import datetime
import keyword
import re
from typing import Any

_PYTHON_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class LiteralError(TypeError):
    """A value that has no safe literal form."""


def to_literal(value: Any) -> str:
    """Python source for `value` such that ``ast.literal_eval(source) == value``.

    Strings with newlines use a triple-quoted form when that form reads back
    exactly; dict keys are sorted so the output does not depend on item order.
    """
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise LiteralError(f"{value!r} has no literal form")
        return repr(value)
    if isinstance(value, str):
        return _string_literal(value)
    if isinstance(value, datetime.timedelta):
        # Only validated schema values are timedeltas; raw row values never are.
        return _duration(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(to_literal(item) for item in value) + "]"
    if isinstance(value, dict):
        items = []
        for key in sorted(value, key=str):
            if not isinstance(key, str):
                raise LiteralError(f"dict key {key!r} is not a string")
            items.append(f"{_string_literal(key)}: {to_literal(value[key])}")
        return "{" + ", ".join(items) + "}"
    raise LiteralError(f"values of type {type(value).__name__} cannot be written to a DAG file")


def _duration(value: datetime.timedelta) -> str:
    """``datetime.timedelta(hours=1, minutes=30)``: the largest units, integer literals only.

    The call reads back exactly (``eval`` with `datetime` gives `value`); a negative
    duration is the negation of its absolute value.
    """
    rest = abs(value) // _MICROSECOND
    parts = []
    for unit, size in _DURATION_UNITS:
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{unit}={count}")
    call = f"datetime.timedelta({', '.join(parts) or 'seconds=0'})"
    return f"-{call}" if value < datetime.timedelta(0) else call


_MICROSECOND = datetime.timedelta(microseconds=1)
_DURATION_UNITS = (
    ("days", 86_400_000_000),
    ("hours", 3_600_000_000),
    ("minutes", 60_000_000),
    ("seconds", 1_000_000),
    ("milliseconds", 1_000),
    ("microseconds", 1),
)


def _string_literal(text: str) -> str:
    plain = repr(text)
    if plain.startswith("'") and '"' not in text:
        # repr chose single quotes and the text has no quote at all: use black's
        # preferred double quotes, so black has nothing to rewrite.
        plain = f'"{plain[1:-1]}"'
    if "\n" in text and _readable_multiline(text):
        candidate = '"""' + text + '"""'
        try:
            if ast.literal_eval(candidate) == text:
                return candidate
        except (SyntaxError, ValueError):
            pass
    return plain


def _readable_multiline(text: str) -> bool:
    """Only plain printable text goes triple-quoted; anything unusual stays escaped."""
    if '"""' in text or "\\" in text or text.endswith('"') or "\r" in text:
        return False
    return all(char.isprintable() or char in "\n\t" for char in text)


def to_kwarg(value: Any, name: str, indent: int) -> str:
    """``name=<literal>,`` at `indent`, laid out as black would lay it out.

    A dict or list that does not fit in black's 88 columns is written one item per line
    with a trailing comma, so black finds nothing to rewrite (rewriting long lines is
    most of black's cost).
    """
    pad = " " * indent
    line = f"{pad}{name}={to_literal(value)},"
    if len(line) <= BLACK_LINE_LENGTH or not value or not isinstance(value, (dict, list)):
        return line
    inner = " " * (indent + 4)
    if isinstance(value, dict):
        items = [f"{inner}{_string_literal(k)}: {to_literal(value[k])}," for k in sorted(value)]
        return "\n".join([f"{pad}{name}={{", *items, f"{pad}}},"])
    items = [f"{inner}{to_literal(item)}," for item in value]
    return "\n".join([f"{pad}{name}=[", *items, f"{pad}],"])


BLACK_LINE_LENGTH = 88


def variable_names(task_ids: list[str]) -> dict[str, str]:
    """Distinct, readable Python variable names for task ids, stable for a given list."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for task_id in task_ids:
        base = re.sub(r"[^A-Za-z0-9_]", "_", task_id).strip("_").lower() or "task"
        if not _PYTHON_NAME.match(base) or keyword.iskeyword(base):
            base = f"task_{base}"
        name, suffix = base, 2
        while name in taken or name in RESERVED_NAMES:
            name, suffix = f"{base}_{suffix}", suffix + 1
        taken.add(name)
        names[task_id] = name
    return names


# Names the templates define themselves; task variables must not shadow them.
RESERVED_NAMES = frozenset({"dag", "datetime", "pendulum", "DAG", "callbacks", "default_args"})
