"""Rows files (what `compile`, `validate`, `plan`, `import` and `local --seed` read) and items.

A rows file is ``{"mwaa_task": [...], "mwaa_job": [...], "mwaa_scheduler": [...]}`` in UTF-8,
as JSON (``*.json``) or YAML (``*.yaml``/``*.yml``), with items as plain values or as
DynamoDB-typed JSON (``{"S": "x"}``, as ``aws dynamodb scan`` prints); a folder of such
files is read as one (files in name order, a row in two files refused). In YAML a JSON
attribute can be written as a map and multi-line SQL as a block scalar (``sql: |``); the
YAML is read as plain data, like JSON: numbers only in JSON's notation (``1:30`` or
``0x1F`` stay text), booleans only ``true``/``false``, dates stay text, and tags, anchors
and aliases are refused. `read_rows_file` is the one reader: it refuses, with one message
naming the file (and the item and attribute where there is one), anything DynamoDB would
not store or that a later step would choke on: other encodings, duplicate keys, malformed
typed JSON, binary values, items over DynamoDB's 400 KB, nesting deeper than DynamoDB's
32 levels. Items are written to the tables as they are (a JSON string attribute stays a
string, a map stays a map), so the tables look like the original solution's.
"""

from __future__ import annotations

import codecs
import functools
import json
import re
from collections.abc import Iterator
from decimal import Decimal, DecimalException
from pathlib import Path
from typing import Any

from lambda_compiler.dynamodb_json import deserialize, row_value
from lambda_compiler.limits import MAX_DEPTH
from lambda_compiler.rows import (
    JOB_KEY,
    JOB_TABLE,
    SCHEDULER_KEY,
    SCHEDULER_TABLE,
    TASK_KEY,
    TASK_TABLE,
    Row,
    RowRef,
    plain,
    row_ref,
)
from lambda_compiler.snapshot import (
    FILE_KEYS,
    RowsFileError,
    Snapshot,
    TableNames,
    file_items,
)

MAX_ITEM_BYTES = 400 * 1024
"""DynamoDB's limit on the size of an item."""
_TABLES = TableNames()
_KEYS = dict(zip(FILE_KEYS, (TASK_KEY, JOB_KEY, SCHEDULER_KEY), strict=True))
_TAG = re.compile(r"[A-Z]{1,4}")
_OTHER_ENCODINGS = {
    codecs.BOM_UTF32_LE: "UTF-32",
    codecs.BOM_UTF32_BE: "UTF-32",
    codecs.BOM_UTF16_LE: "UTF-16",
    codecs.BOM_UTF16_BE: "UTF-16",
}
_YAML_SUFFIXES = (".yaml", ".yml")
_SUFFIXES = (".json", *_YAML_SUFFIXES)


@functools.cache
def _boto3_types() -> Any:
    """boto3's DynamoDB type module, imported on first use (the CLI starts without boto3)."""
    from boto3.dynamodb import types

    return types


class _Object(dict[str, Any]):
    """A decoded JSON object that remembers the keys it held more than once."""

    duplicates: tuple[str, ...] = ()


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    found = _Object(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        repeated = []
        for key, _ in pairs:
            if key in seen:
                repeated.append(key)
            seen.add(key)
        found.duplicates = tuple(repeated)
    return found


def rows_files(path: Path) -> list[Path]:
    """`path` itself, or the ``*.json``/``*.yaml``/``*.yml`` files of a directory in name order."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in _SUFFIXES and p.is_file())
        if not files:
            raise RowsFileError(
                f"{path}: is a directory with no *.json, *.yaml or *.yml rows files"
            )
        return files
    if not path.exists():
        raise RowsFileError(f"{path}: no such file or directory")
    return [path]


def read_rows_file(path: Path) -> dict[str, list[Row]]:
    """The items of a rows file (or of a folder of them) per table key, decoded.

    Numbers are `Decimal`. Only the tables the file(s) name are keys of the answer, so a
    caller can tell "no rows of this table" from "this table is not in the file".
    `RowsFileError` names the file, and the item and attribute where there is one.
    """
    merged: dict[str, list[Row]] = {}
    seen: dict[RowRef, Path] = {}
    for file in rows_files(path):
        for key, items in _read_one(file).items():
            for item in items:
                ref = row_ref(key, _KEYS[key], item)
                if ref in seen and seen[ref] != file:
                    raise RowsFileError(f"{file}: {ref} is also in {seen[ref]}; keep each row once")
                seen[ref] = file
            merged.setdefault(key, []).extend(items)
    return merged


def _read_one(path: Path) -> dict[str, list[Row]]:
    try:
        data = _parse(path)
        return {
            key: _decode_items(key, items) for key, items in file_items(data).items() if key in data
        }
    except RowsFileError as exc:
        raise RowsFileError(f"{path}: {exc}") from None


def load_snapshot(path: Path, tables: TableNames = _TABLES) -> Snapshot:
    """Read a rows file or folder as a snapshot; `RowsFileError` names the file on any problem."""
    return snapshot_of(read_rows_file(path), tables)


def snapshot_of(rows: dict[str, list[Row]], tables: TableNames = _TABLES) -> Snapshot:
    """A snapshot of decoded rows; sets (``SS``/``NS``) become sorted lists, as from a stream."""
    lists = {key: [row_value(item) for item in rows.get(key, [])] for key in FILE_KEYS}
    return Snapshot(lists[TASK_TABLE], lists[JOB_TABLE], lists[SCHEDULER_TABLE], tables)


def _parse(path: Path) -> Any:
    text = _text(path)
    if path.suffix in _YAML_SUFFIXES:
        from lambda_compiler.rows_file_yaml import parse_yaml

        data = parse_yaml(text)
        for place, value in _walk(data):
            if not isinstance(value, _PLAIN_TYPES):
                raise RowsFileError(
                    f"{type(value).__name__} value at {_where(place)} has no JSON form; "
                    "quote it to keep it as text"
                )
        return data
    try:
        data = json.loads(
            text,
            parse_float=Decimal,
            parse_int=Decimal,
            parse_constant=_no_constant,
            object_pairs_hook=_object,
        )
    except json.JSONDecodeError as exc:
        raise RowsFileError(
            f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise RowsFileError(f"nested too deeply (DynamoDB allows {MAX_DEPTH} levels)") from None
    duplicate = _first_duplicate(data)
    if duplicate:
        where, key = duplicate
        raise RowsFileError(f"key {key!r} appears twice in the same object, at {where}")
    return data


def _text(path: Path) -> str:
    """The file's text, refused unless it is non-empty UTF-8."""
    if path.is_dir():
        raise RowsFileError("is a directory, not a rows file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RowsFileError(f"cannot read: {exc.strerror}") from None
    for bom, encoding in _OTHER_ENCODINGS.items():
        if raw.startswith(bom):
            raise RowsFileError(f"is {encoding}-encoded; save it as UTF-8")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RowsFileError(
            f"is not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); save it as UTF-8"
        ) from None
    if not text.strip():
        raise RowsFileError('is empty; expected {"mwaa_task": [...], "mwaa_job": [...], ...}')
    return text


_PLAIN_TYPES = (dict, list, str, Decimal, bool, type(None))


def _no_constant(name: str) -> Any:
    raise RowsFileError(f"{name} is not a number JSON or DynamoDB allows")


def _walk(value: Any) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """Every JSON value under `value` with its path, depth-first, without recursion."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), value)]
    while stack:
        path, node = stack.pop()
        yield path, node
        if isinstance(node, dict):
            stack.extend(((*path, k), v) for k, v in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend(((*path, i), v) for i, v in reversed(list(enumerate(node))))


def _first_duplicate(data: Any) -> tuple[str, str] | None:
    for path, node in _walk(data):
        if isinstance(node, _Object) and node.duplicates:
            return _where(path), node.duplicates[0]
    return None


def _where(path: tuple[str | int, ...]) -> str:
    """A path in the file as people read it: ``mwaa_job item 2, ['job_params']``."""
    if not path:
        return "the top level"
    parts = list(path)
    if parts[0] in FILE_KEYS and len(parts) > 1 and parts[1] == "Items":
        del parts[1]
    if parts[0] in FILE_KEYS and len(parts) > 1 and isinstance(parts[1], int):
        head = f"{parts[0]} item {parts[1] + 1}"
        rest = parts[2:]
    else:
        head, rest = "", parts
    if not rest:
        return head
    attribute = "".join(f"[{p!r}]" for p in rest)
    return f"{head}, {attribute}" if head else attribute


def _decode_items(key: str, items: list[Row]) -> list[Row]:
    decoded = []
    for number, item in enumerate(items, 1):
        label = f"{key} item {number}{_key_text(key, item)}"
        try:
            decoded.append(_decode_item(item))
        except RowsFileError as exc:
            raise RowsFileError(f"{label}: {exc}") from None
    return decoded


def _key_text(key: str, item: Row) -> str:
    """`` (job_type='etl', job_id='7')`` from a plain or typed item, for messages."""
    parts = []
    for name in _KEYS[key]:
        value = item.get(name)
        if isinstance(value, dict) and len(value) == 1:
            value = next(iter(value.values()))
        if isinstance(value, (str, int, Decimal)) and not isinstance(value, bool):
            parts.append(f"{name}={str(value)[:60]!r}")
    return f" ({', '.join(parts)})" if parts else ""


def _decode_item(item: Row) -> Row:
    typed = bool(item) and all(
        isinstance(v, dict) and len(v) == 1 and _TAG.fullmatch(next(iter(v))) for v in item.values()
    )
    decoded: Row = {}
    for name, value in item.items():
        if typed:
            _check_typed(value, name)
            decoded[name] = deserialize(value)
        else:
            _check_depth(value, name)
            decoded[name] = value
    size = sum(len(name.encode()) + _size(value) for name, value in item.items())
    if size > MAX_ITEM_BYTES:
        largest = max(item, key=lambda name: _size(item[name]))
        raise RowsFileError(
            f"the item is {size / 1e6:.1f} MB (attribute {largest!r}: "
            f"{_size(item[largest]) / 1e6:.1f} MB); a DynamoDB item holds at most 400 KB"
        )
    return decoded


def _size(value: Any) -> int:
    return len(json.dumps(value, default=str, ensure_ascii=False).encode())


def _check_depth(value: Any, name: str) -> None:
    for path, _ in _walk(value):
        if len(path) >= MAX_DEPTH:
            raise RowsFileError(
                f"attribute {name!r}: nested more than {MAX_DEPTH} levels deep (DynamoDB's limit)"
            )


def _check_typed(value: Any, name: str) -> None:
    """Raise unless `value` is DynamoDB-typed JSON that DynamoDB would store (no binary)."""
    stack: list[tuple[str, Any, int]] = [("", value, 1)]
    while stack:
        path, node, depth = stack.pop()
        where = f"attribute {name!r}{path}"
        if depth > MAX_DEPTH:
            raise RowsFileError(f"{where}: nested more than {MAX_DEPTH} levels deep")
        if not (isinstance(node, dict) and len(node) == 1):
            raise RowsFileError(f'{where}: expected a typed value like {{"S": "text"}}')
        ((tag, payload),) = node.items()
        problem = _typed_problem(tag, payload)
        if problem:
            raise RowsFileError(f"{where}: {problem}")
        if tag == "M":
            stack.extend((f"{path}[{k!r}]", v, depth + 1) for k, v in payload.items())
        elif tag == "L":
            stack.extend((f"{path}[{i}]", v, depth + 1) for i, v in enumerate(payload))


def _typed_problem(tag: str, payload: Any) -> str | None:
    """Why ``{tag: payload}`` is not a storable DynamoDB value, or None."""
    match tag:
        case "S":
            ok, wanted = isinstance(payload, str), "a string"
        case "N":
            ok, wanted = _is_number(payload), 'a number written as a string, like "7"'
        case "BOOL":
            ok, wanted = isinstance(payload, bool), "true or false"
        case "NULL":
            ok, wanted = payload is True, "true"
        case "M":
            ok, wanted = isinstance(payload, dict), "an object of typed values"
        case "L":
            ok, wanted = isinstance(payload, list), "a list of typed values"
        case "SS":
            ok = isinstance(payload, list) and all(isinstance(v, str) for v in payload)
            wanted = "a list of strings"
        case "NS":
            ok = isinstance(payload, list) and all(_is_number(v) for v in payload)
            wanted = 'a list of numbers written as strings, like ["7"]'
        case "B" | "BS":
            return f"binary values ({tag!r}) are not supported in rows"
        case _:
            return f"unknown DynamoDB type {tag!r} (expected S, N, BOOL, NULL, M, L, SS or NS)"
    return None if ok else f"{tag!r} must hold {wanted}"


def _is_number(text: Any) -> bool:
    """True for a string DynamoDB accepts as a number."""
    if not isinstance(text, str):
        return False
    try:
        number: Decimal = _boto3_types().DYNAMODB_CONTEXT.create_decimal(text)
    except DecimalException:
        return False
    return number.is_finite()


def to_typed(item: Row) -> Row:
    """A decoded item as DynamoDB-typed JSON, ready for `PutItem`."""
    return {name: _boto3_types().TypeSerializer().serialize(value) for name, value in item.items()}


def to_plain(item: Row) -> Row:
    """A typed item as plain JSON values (whole numbers as `int`, others as `float`).

    Raises `RowsFileError` naming the first binary attribute (binary has no JSON form).
    """
    converted = {}
    for name, value in item.items():
        try:
            converted[name] = plain(deserialize(value))
        except TypeError:
            raise RowsFileError(
                f"attribute {name!r}: binary values have no plain-JSON form; rows never need them"
            ) from None
    return converted


def table_items(rows: dict[str, list[Row]], tables: TableNames) -> Iterator[tuple[str, Row]]:
    """``(table name, typed item)`` for every decoded item of a rows file, tasks first."""
    names = dict(zip(FILE_KEYS, (tables.task, tables.job, tables.scheduler), strict=True))
    for key in FILE_KEYS:
        for item in rows.get(key, []):
            yield names[key], to_typed(item)


def put_rows(dynamodb: Any, rows: dict[str, list[Row]], tables: TableNames) -> int:
    """Write every item with `PutItem` (one stream record each); returns how many."""
    count = 0
    for table, item in table_items(rows, tables):
        dynamodb.put_item(TableName=table, Item=item)
        count += 1
    return count
