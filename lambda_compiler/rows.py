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

Reading is total: `decode_value` turns what it cannot decode into an `Unreadable`
value instead of raising, and `clean_value` turns any value of any type or size into
plain Python within the limits of `limits.py`, or into the reasons it cannot be used.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote, unquote

from lambda_compiler.limits import (
    EXCERPT_CHARS,
    MAX_DEPTH,
    MAX_KEY_BYTES,
    MAX_NUMBER_DIGITS,
    MAX_PROBLEMS_PER_ATTRIBUTE,
    MAX_VALUE_BYTES,
    over_limit,
)
from lambda_compiler.problems import ProblemCode
from lambda_compiler.redact import excerpt, has_credentials_uri, is_secret_key

TASK_TABLE = "mwaa_task"
JOB_TABLE = "mwaa_job"
SCHEDULER_TABLE = "mwaa_scheduler"

TASK_KEY = ("task_id",)
JOB_KEY = ("job_type", "job_id")
SCHEDULER_KEY = ("schedule_id",)

Row = dict[str, Any]

_TYPE_TAGS = {"S", "N", "BOOL", "NULL", "M", "L", "SS", "NS", "BS", "B"}

BINARY_REASON = (
    "is binary (a DynamoDB B or BS value); a DAG file holds only text, numbers, "
    "booleans, null, maps and lists"
)
_SURROGATE = "holds a lone surrogate (like \\ud800), which is not valid text"
SECRET_HINT = (
    "keep credentials in an Airflow connection or AWS Secrets Manager and refer to "
    "them by id, never in a row (rows are copied into DAG files)"
)


@dataclass(frozen=True, order=True)
class RowRef:
    """Where a row lives: its table and its key values (as strings)."""

    table: str
    key: tuple[tuple[str, str], ...]

    @property
    def key_text(self) -> str:
        return ", ".join(f"{name}={value!r}" for name, value in self.key)

    @property
    def brief_key_text(self) -> str:
        """`key_text` with each value cut to an excerpt, for problem text."""
        return ", ".join(f"{name}={excerpt(value)}" for name, value in self.key)

    def __str__(self) -> str:
        """The text people read: ``mwaa_task[task_id='4']``."""
        return f"{self.table}[{self.key_text}]"

    @property
    def address(self) -> str:
        """The text stored in the registry: compact, reversible, ASCII, e.g.
        ``mwaa_job/job_type=etl/job_id=7`` (each part percent-encoded)."""
        parts = [quote(self.table, safe="")]
        parts.extend(f"{quote(name, safe='')}={quote(value, safe='')}" for name, value in self.key)
        return "/".join(parts)

    @classmethod
    def from_address(cls, text: str) -> RowRef:
        """The row an `address` names."""
        table, *pairs = text.split("/")
        split = (pair.partition("=") for pair in pairs)
        key = tuple((unquote(name), unquote(value)) for name, _, value in split)
        return cls(unquote(table), key)

    def to_dict(self) -> dict[str, Any]:
        return {"table": self.table, "key": dict(self.key)}


class RowValueError(ValueError):
    """An attribute value that cannot be used: why (the message), its code and where.

    `path` continues the attribute name: ``""`` for the value itself, ``.sql`` or
    ``[2].pid`` for a part of it.
    """

    def __init__(
        self, message: str, code: ProblemCode = ProblemCode.WRONG_TYPE, path: str = ""
    ) -> None:
        super().__init__(message)
        self.code = code
        self.path = path


@dataclass(frozen=True)
class Unreadable:
    """A value decoding could not read, kept in place so the row's check reports it."""

    reason: str
    code: ProblemCode = ProblemCode.WRONG_TYPE


def is_typed_item(item: Row) -> bool:
    """True when every attribute is a DynamoDB type descriptor like ``{"S": "x"}``."""
    return bool(item) and all(
        isinstance(v, dict) and len(v) == 1 and next(iter(v)) in _TYPE_TAGS for v in item.values()
    )


def decode_value(typed: Any, level: int = 0) -> Any:
    """Decode one DynamoDB-typed value as boto3 does (numbers as `Decimal`); never raises.

    Sets become sorted lists; binary values, malformed descriptors and nesting deeper
    than `MAX_DEPTH` become `Unreadable`. For typed JSON written by hand (documents given
    to `snapshot.snapshot_from_json`), which may be malformed: what DynamoDB answers is
    read by boto3 in the adapters (`dynamodb_json`). tests/unit/test_typed_json.py checks
    that both read every well-formed value alike.
    """
    if not (isinstance(typed, dict) and len(typed) == 1):
        return Unreadable('is not a DynamoDB-typed value like {"S": "text"}')
    ((tag, value),) = typed.items()
    if tag in ("M", "L") and level >= MAX_DEPTH:
        return _too_deep()
    match tag, value:
        case "S", str():
            return value
        case "N", str():
            return _decimal(value)
        case "BOOL", bool():
            return value
        case "NULL", _:
            return None
        case "M", dict():
            return {k: decode_value(v, level + 1) for k, v in value.items()}
        case "L", list():
            return [decode_value(v, level + 1) for v in value]
        case "SS", list() if all(isinstance(v, str) for v in value):
            return sorted(value)
        case "NS", list() if all(isinstance(v, str) for v in value):
            numbers = [_decimal(v) for v in value]
            bad = [n for n in numbers if isinstance(n, Unreadable) or not n.is_finite()]
            return bad[0] if bad else sorted(numbers)
        case "B" | "BS", _:
            return Unreadable(BINARY_REASON)
    return Unreadable(f"is a malformed DynamoDB {tag} value ({excerpt(value)})")


def _decimal(text: str) -> Decimal | Unreadable:
    try:
        return Decimal(text)
    except InvalidOperation:
        return Unreadable(f"{excerpt(text)} is not a number")


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
    if isinstance(value, (int, float, Decimal)):
        number = clean_number(value)
        if isinstance(number, float):
            if not number.is_integer():
                raise RowValueError(f"a numeric id must be a whole number, got {number}")
            number = int(number)
        return str(number)
    if not isinstance(value, str):
        raise RowValueError(f"expected a string or number id, got {type(value).__name__}")
    if not value:
        raise RowValueError("the id is empty")
    size = _utf8_size(value)
    if size is None:
        raise RowValueError(f"the id {_SURROGATE}")
    if size > MAX_KEY_BYTES:
        raise RowValueError(
            f"the id {excerpt(value)} has {size:,} bytes, {over_limit('MAX_KEY_BYTES', 'bytes')}",
            ProblemCode.LIMIT_EXCEEDED,
        )
    return value


def as_id_list(value: Any) -> list[str]:
    """Ids from ``"1,2"`` or a list; blanks between commas are ignored."""
    if isinstance(value, str):
        return [as_id(part) for part in value.split(",") if part.strip()]
    if isinstance(value, (list, tuple)):
        return [as_id(item) for item in value]
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return [as_id(value)]
    raise RowValueError(f"expected comma-separated ids or a list, got {type(value).__name__}")


def json_type(value: Any) -> str:
    """What a plain value is, in JSON's words (``an object``, ``a list``, ``a string``...)."""
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


def clean_value(value: Any, *, json_text: bool = False) -> tuple[Any, list[RowValueError]]:
    """An attribute value as plain Python within the limits, and the reasons it is not.

    With `json_text`, a string is JSON to parse (blank means no value). The result holds
    only `str`, `int`, finite `float`, `bool`, `None`, `dict` with `str` keys and `list`:
    numbers become `int` when whole, sets sorted lists. When the reasons are not empty
    the value must not be used; each reason's `path` says where in the value it lies.
    """
    cleaner = _Cleaner()
    try:
        if json_text and isinstance(value, str):
            value = cleaner.json(value)
        value = cleaner.value(value, "", 0)
    except _Stop as stop:
        if stop.more:
            cleaner.issues.append(
                RowValueError(
                    f"has more problems; only the first {MAX_PROBLEMS_PER_ATTRIBUTE} are reported",
                    cleaner.issues[0].code,
                )
            )
    return value, cleaner.issues


def clean_number(value: int | float | Decimal) -> int | float:
    """A finite number within `MAX_NUMBER_DIGITS` as `int` (whole) or `float`, else raises."""
    if isinstance(value, int):
        if value.bit_length() > 127 or len(str(abs(value))) > MAX_NUMBER_DIGITS:
            raise _too_many_digits(value)
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise RowValueError(f"{value} is not a finite number")
        if abs(value) >= 10.0**MAX_NUMBER_DIGITS:
            raise _too_many_digits(value)
        return value
    if not value.is_finite():
        raise RowValueError(f"{value} is not a finite number; JSON has no NaN or Infinity")
    if len(value.as_tuple().digits) > MAX_NUMBER_DIGITS or value.adjusted() >= MAX_NUMBER_DIGITS:
        raise _too_many_digits(value)
    return plain_number(value)


def plain_number(value: Decimal) -> int | float:
    """A `Decimal` (as DynamoDB and rows files give numbers) as `int` when whole, else `float`."""
    return int(value) if value == value.to_integral_value() else float(value)


def plain(value: Any) -> Any:
    """A decoded DynamoDB value as plain JSON values: `Decimal` numbers by `plain_number`,
    sets as sorted lists, maps and lists walked; raises `TypeError` on any other type
    (binary has no JSON form)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, Decimal):
        return plain_number(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return [plain(v) for v in sorted(value)]
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    raise TypeError(f"{type(value).__name__} values have no plain-JSON form")


def _too_many_digits(value: int | float | Decimal) -> RowValueError:
    return RowValueError(
        f"the number {excerpt(value)} has too many digits, "
        f"{over_limit('MAX_NUMBER_DIGITS', 'digits')}",
        ProblemCode.LIMIT_EXCEEDED,
    )


def _too_deep() -> Unreadable:
    return Unreadable(
        f"is nested too deeply, {over_limit('MAX_DEPTH', 'levels')}", ProblemCode.LIMIT_EXCEEDED
    )


def _utf8_size(text: str) -> int | None:
    """UTF-8 bytes of `text`, or None when it holds a lone surrogate (not valid text)."""
    if text.isascii():
        return len(text)
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError:
        return None


class _Stop(Exception):
    """Stop walking an attribute: it is too big, or has enough problems (`more`)."""

    def __init__(self, *, more: bool) -> None:
        super().__init__()
        self.more = more


class _Cleaner:
    """One attribute's walk: the plain value, its problems, and the bytes seen so far."""

    def __init__(self) -> None:
        self.issues: list[RowValueError] = []
        self.size = 0

    def add(self, path: str, message: str, code: ProblemCode = ProblemCode.WRONG_TYPE) -> None:
        if len(self.issues) >= MAX_PROBLEMS_PER_ATTRIBUTE:
            raise _Stop(more=True)
        self.issues.append(RowValueError(message, code, path))

    def json(self, text: str) -> Any:
        """Parse JSON text: NaN, Infinity and out-of-range numbers come back as `Decimal`."""
        if not text.strip():
            return None
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > MAX_VALUE_BYTES:
            self.add("", _too_big(text, size), ProblemCode.LIMIT_EXCEEDED)
            return None
        try:
            return json.loads(
                text, parse_int=Decimal, parse_float=_json_float, parse_constant=Decimal
            )
        except json.JSONDecodeError as exc:
            self.add(
                "",
                f"is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})",
                ProblemCode.MALFORMED_JSON,
            )
        except RecursionError:
            self.add("", _too_deep().reason, ProblemCode.LIMIT_EXCEEDED)
        return None

    def value(self, value: Any, path: str, level: int) -> Any:
        """`value` made plain; problems are recorded, never raised."""
        if isinstance(value, (dict, list, tuple, set, frozenset)) and level >= MAX_DEPTH:
            value = _too_deep()
        match value:
            case None | bool():
                return value
            case str():
                return self.text(value, path)
            case int() | float() | Decimal():
                try:
                    return clean_number(value)
                except RowValueError as exc:
                    self.add(path, str(exc), exc.code)
                    return None
            case dict():
                return self.mapping(value, path, level)
            case list() | tuple():
                return [self.value(item, f"{path}[{i}]", level + 1) for i, item in enumerate(value)]
            case set() | frozenset():
                return self.set(value, path, level)
            case bytes() | bytearray() | memoryview():
                self.add(path, BINARY_REASON)
            case Unreadable():
                self.add(path, value.reason, value.code)
            case _:
                self.add(
                    path,
                    f"is a {type(value).__name__}; a DAG file holds only text, numbers, "
                    "booleans, null, maps and lists",
                )
        return None

    def text(self, text: str, path: str) -> str:
        size = _utf8_size(text)
        if size is None:
            self.add(path, _SURROGATE)
            return text
        self.size += size
        if size > MAX_VALUE_BYTES or self.size > MAX_VALUE_BYTES:
            self.add(path, _too_big(text, size), ProblemCode.LIMIT_EXCEEDED)
            raise _Stop(more=False)
        if has_credentials_uri(text):
            self.add(
                path,
                f"holds a URI with a user and password; {SECRET_HINT}",
                ProblemCode.SECRET_IN_ROW,
            )
        return text

    def mapping(self, value: dict[Any, Any], path: str, level: int) -> dict[str, Any]:
        plain = {}
        for key, item in value.items():
            if not isinstance(key, str):
                self.add(path, f"has a {type(key).__name__} key {excerpt(key)}; keys must be text")
                continue
            where = f"{path}.{key if len(key) <= EXCERPT_CHARS else excerpt(key)}"
            size = _utf8_size(key)
            if size is not None and size > MAX_KEY_BYTES:
                self.add(
                    where,
                    f"the key has {size:,} bytes, {over_limit('MAX_KEY_BYTES', 'bytes')}",
                    ProblemCode.LIMIT_EXCEEDED,
                )
                continue
            if is_secret_key(key):
                self.add(where, f"looks like a secret; {SECRET_HINT}", ProblemCode.SECRET_IN_ROW)
                continue
            plain[self.text(key, where)] = self.value(item, where, level + 1)
        return plain

    def set(self, value: set[Any] | frozenset[Any], path: str, level: int) -> list[Any]:
        known = len(self.issues)
        items = [self.value(item, path, level + 1) for item in value]
        if all(isinstance(item, str) for item in items):
            return sorted(items)
        if all(isinstance(item, (int, float)) and not isinstance(item, bool) for item in items):
            return sorted(items)
        if len(self.issues) == known:
            self.add(path, "is a set of mixed values; use a list")
        return []


def _json_float(text: str) -> float | Decimal:
    """A JSON fraction as `float`; one too large for a float stays `Decimal` to be reported."""
    number = float(text)
    return number if math.isfinite(number) else Decimal(text)


def _too_big(text: str, size: int) -> str:
    return (
        f"has {size:,} bytes, {over_limit('MAX_VALUE_BYTES', 'bytes')}; it starts {excerpt(text)}"
    )


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
    raise RowValueError(f"must be 1 (enabled) or 0 (disabled), got {excerpt(value)}")


def row_ref(table: str, key_names: tuple[str, ...], row: Row) -> RowRef:
    """The `RowRef` of a row, with key values as strings (`as_key`) where possible.

    A key that is not a usable id keeps its text (so the row can still be found) or,
    when it is not text, a short description of it.
    """
    parts = []
    for name in key_names:
        value = row.get(name)
        try:
            parts.append((name, as_key(value)))
        except RowValueError:
            parts.append((name, value if isinstance(value, str) else excerpt(value)))
    return RowRef(table, tuple(parts))
