"""Raw rows as they come from DynamoDB, and the normalisation every parser shares.

Rows may be plain JSON or DynamoDB-typed JSON (``{"S": "x"}``, as ``aws dynamodb
scan`` prints). Ids may be strings or numbers and always compare as strings.

One key model everywhere (the Lambda, the rebuild, offline compiles): a row's key
is the exact string DynamoDB stores (`as_key`: ``" 7 "`` stays ``" 7 "``, only
numbers are written canonically), since the Lambda reads rows back by their key. A
*reference* to a row (``task_list``, ``job_list``, dependencies) drops the spaces
around each id (`as_id`), so a padded key is found by no reference: the referring
row reports that the id does not exist, the same way on every path.
Attributes that hold JSON may be strings (as in the original solution) or native
maps and lists.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

TASK_TABLE = "mwaa_task"
JOB_TABLE = "mwaa_job"
SCHEDULER_TABLE = "mwaa_scheduler"

TASK_KEY = ("task_id",)
JOB_KEY = ("job_type", "job_id")
SCHEDULER_KEY = ("schedule_id",)

Row = dict[str, Any]

_TYPE_TAGS = {"S", "N", "BOOL", "NULL", "M", "L", "SS", "NS", "BS", "B"}


@dataclass(frozen=True, order=True)
class RowRef:
    """Where a row lives: its table and its key values (as strings)."""

    table: str
    key: tuple[tuple[str, str], ...]

    @property
    def key_text(self) -> str:
        return ", ".join(f"{name}={value!r}" for name, value in self.key)

    def __str__(self) -> str:
        return f"{self.table}[{self.key_text}]"

    def to_dict(self) -> dict[str, Any]:
        return {"table": self.table, "key": dict(self.key)}


class RowValueError(ValueError):
    """An attribute value that cannot be normalised; the message says why."""


def is_typed_item(item: Row) -> bool:
    """True when every attribute is a DynamoDB type descriptor like ``{"S": "x"}``."""
    return bool(item) and all(
        isinstance(v, dict) and len(v) == 1 and next(iter(v)) in _TYPE_TAGS for v in item.values()
    )


def decode_value(typed: dict[str, Any]) -> Any:
    """Decode one DynamoDB-typed value; numbers become `Decimal` as boto3 does."""
    ((tag, value),) = typed.items()
    match tag:
        case "S" | "B":
            return value
        case "N":
            return Decimal(value)
        case "BOOL":
            return bool(value)
        case "NULL":
            return None
        case "M":
            return {k: decode_value(v) for k, v in value.items()}
        case "L":
            return [decode_value(v) for v in value]
        case "SS" | "BS":
            return sorted(value)
        case "NS":
            return sorted(Decimal(v) for v in value)
    raise RowValueError(f"unknown DynamoDB type {tag!r}")


def decode_item(item: Row) -> Row:
    """A plain-Python row from either plain or DynamoDB-typed JSON."""
    if is_typed_item(item):
        return {name: decode_value(value) for name, value in item.items()}
    return dict(item)


def as_id(value: Any) -> str:
    """A referenced id as a string: ``" 7"``, ``7`` and ``Decimal("7")`` are all ``"7"``."""
    return as_key(value.strip() if isinstance(value, str) else value)


def as_key(value: Any) -> str:
    """A key value as a string, exactly as stored: ``7`` and ``Decimal("7")`` are ``"7"``."""
    if isinstance(value, bool):
        raise RowValueError(f"expected a string or number id, got {value!r}")
    if isinstance(value, str):
        if not value:
            raise RowValueError("the id is empty")
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (Decimal, float)):
        number = Decimal(str(value))
        if number != number.to_integral_value():
            raise RowValueError(f"a numeric id must be a whole number, got {value}")
        return str(int(number))
    raise RowValueError(f"expected a string or number id, got {type(value).__name__}")


def as_id_list(value: Any) -> list[str]:
    """Ids from ``"1,2"`` or a list; blanks between commas are ignored."""
    if isinstance(value, str):
        return [as_id(part) for part in value.split(",") if part.strip()]
    if isinstance(value, (list, tuple)):
        return [as_id(item) for item in value]
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return [as_id(value)]
    raise RowValueError(f"expected comma-separated ids or a list, got {type(value).__name__}")


def as_json(value: Any, expected: type) -> Any:
    """A JSON attribute from a string holding JSON or from a native map/list.

    An empty string or a missing value stands for an empty container.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return expected()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise RowValueError(
                f"is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
            ) from None
    if not isinstance(value, expected):
        wanted = "an object" if expected is dict else "a list"
        raise RowValueError(f"must be {wanted}, got {_json_type(value)}")
    return plain(value)


def _json_type(value: Any) -> str:
    match value:
        case dict():
            return "an object"
        case list():
            return "a list"
        case str():
            return "a string"
        case bool():
            return "a boolean"
        case None:
            return "null"
        case bytes() | bytearray():
            return "a binary value"
    return "a number"


def plain(value: Any) -> Any:
    """A row value with DynamoDB `Decimal`s turned into ints and floats."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def is_enabled(value: Any) -> bool:
    """The original's rule: a row is enabled when ``status`` is 1; missing means enabled."""
    if value is None:
        return True
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, Decimal, float)):
        return value == 1
    if isinstance(value, str) and value.strip() in {"0", "1"}:
        return value.strip() == "1"
    raise RowValueError(f"must be 1 (enabled) or 0 (disabled), got {value!r}")


def row_ref(table: str, key_names: tuple[str, ...], row: Row) -> RowRef:
    """The `RowRef` of a row, with key values as strings (`as_key`) where possible."""
    parts = []
    for name in key_names:
        try:
            parts.append((name, as_key(row.get(name))))
        except RowValueError:
            parts.append((name, str(row.get(name))))
    return RowRef(table, tuple(parts))
