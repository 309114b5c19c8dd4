"""Nasty rows files: every command that reads one gives one `error:` line naming the file
(and the item and attribute where there is one), exit 1 or 2, and never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambda_compiler.rows_file import read_rows_file
from lambda_compiler.snapshot import RowsFileError

TASK = '{"task_id": {"S": "1"}, '


def _typed_task(attribute: str) -> bytes:
    return ('{"mwaa_task": [' + TASK + f'"extra": {attribute}' + "}]}").encode()


def _nested(depth: int) -> bytes:
    value = "[" * depth + "]" * depth
    return ('{"mwaa_task": [{"task_id": "1", "task_params": ' + value + "}]}").encode()


# name: (file bytes, or None for a directory / a missing file; what the error line says)
CORPUS: dict[str, tuple[bytes | str, str]] = {
    "not-json": (b"{not json", "not valid JSON: Expecting property name"),
    "empty": (b"  \n", "is empty"),
    "json-list": (b"[]", "must hold a JSON object keyed by table name"),
    "json-string": (b'"rows"', "must hold a JSON object keyed by table name"),
    "bad-utf8": (b'{"mwaa_task": [{"task_id": "\xff"}]}', "is not UTF-8 (byte 0xff at offset"),
    "utf16-bom": ('{"mwaa_task": []}'.encode("utf-16"), "is UTF-16-encoded; save it as UTF-8"),
    "directory": ("directory", "is a directory with no *.json, *.yaml or *.yml rows files"),
    "missing": ("missing", "no such file or directory"),
    "duplicate-attribute": (
        b'{"mwaa_task": [{"task_id": "1"}, {"task_id": "2", "task_name": "a", "task_name": "b"}]}',
        "key 'task_name' appears twice in the same object, at mwaa_task item 2",
    ),
    "duplicate-nested": (
        b'{"mwaa_job": [{"job_id": "1", "job_params": {"a": 1, "a": 2}}]}',
        "key 'a' appears twice in the same object, at mwaa_job item 1, ['job_params']",
    ),
    "duplicate-table": (
        b'{"mwaa_task": [], "mwaa_task": []}',
        "key 'mwaa_task' appears twice in the same object, at the top level",
    ),
    "typed-bad-number": (
        _typed_task('{"N": "abc"}'),
        "mwaa_task item 1 (task_id='1'): attribute 'extra': 'N' must hold a number",
    ),
    "typed-map-not-object": (
        _typed_task('{"M": "x"}'),
        "attribute 'extra': 'M' must hold an object of typed values",
    ),
    "typed-list-not-list": (_typed_task('{"L": 5}'), "attribute 'extra': 'L' must hold a list"),
    "typed-unknown-tag": (
        _typed_task('{"Q": "1"}'),
        "attribute 'extra': unknown DynamoDB type 'Q'",
    ),
    "typed-nested-bad": (
        _typed_task('{"M": {"k": {"L": [{"S": 1}]}}}'),
        "attribute 'extra'['k'][0]: 'S' must hold a string",
    ),
    "typed-binary": (
        _typed_task('{"B": "AAE="}'),
        "attribute 'extra': binary values ('B') are not supported in rows",
    ),
    "typed-binary-set": (
        _typed_task('{"BS": ["AAE="]}'),
        "attribute 'extra': binary values ('BS') are not supported in rows",
    ),
    "five-megabytes": (
        json.dumps({"mwaa_task": [{"task_id": "1", "task_params": "x" * 5_000_000}]}).encode(),
        "mwaa_task item 1 (task_id='1'): the item is 5.0 MB (attribute 'task_params': 5.0 MB)",
    ),
    "nan": (b'{"mwaa_task": [{"task_id": "1", "status": NaN}]}', "NaN is not a number"),
    "nested-5000": (_nested(5000), "nested too deeply"),
    "nested-40": (_nested(40), "attribute 'task_params': nested more than 32 levels deep"),
    "typed-nested-40": (
        _typed_task('{"L": [' * 40 + "]}" * 40),
        "attribute 'extra'" + "[0]" * 32 + ": nested more than 32 levels deep",
    ),
}


def write_case(tmp_path: Path, name: str, content: bytes | str) -> Path:
    """Corpus case `name` as a file (or a directory, or nothing) under `tmp_path`."""
    path = tmp_path / f"{name}.json"
    if content == "directory":
        path.mkdir()
    elif content != "missing":
        assert isinstance(content, bytes)
        path.write_bytes(content)
    return path


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_the_reader_names_the_file_and_the_place(tmp_path: Path, name: str) -> None:
    content, says = CORPUS[name]
    path = write_case(tmp_path, name, content)
    with pytest.raises(RowsFileError) as raised:
        read_rows_file(path)
    assert str(raised.value).startswith(f"{path}: ")
    assert says in str(raised.value)
    assert "\n" not in str(raised.value)


def test_typed_json_is_decoded_by_dynamodb_rules(tmp_path: Path) -> None:
    path = tmp_path / "typed.json"
    item = {
        "task_id": {"N": "7"},
        "tags": {"SS": ["b", "a"]},
        "task_params": {"M": {"sql": {"S": "SELECT 1"}, "n": {"N": "1.50"}}},
        "status": {"NULL": True},
    }
    path.write_text(json.dumps({"mwaa_task": [item]}))
    (task,) = read_rows_file(path)["mwaa_task"]
    assert task["task_id"] == 7 and str(task["task_params"]["n"]) == "1.50"
    assert task["tags"] == {"a", "b"} and task["status"] is None
