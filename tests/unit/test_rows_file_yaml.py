"""YAML rows files and folders of rows files: read as JSON would be, compiled to the same bytes."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from lambda_compiler.compiler import compile_dags
from lambda_compiler.rows_file import load_snapshot, read_rows_file
from lambda_compiler.snapshot import RowsFileError
from tests.conftest import EXAMPLE_ROWS, REPO_ROOT

_JSON_ATTRIBUTES = {
    "task_params",
    "job_params",
    "job_task_dependencies",
    "job_task_configs",
    "schedule_params",
    "schedule_job_dependencies",
    "schedule_job_configs",
}


class _Readable(yaml.SafeDumper):
    """Multi-line text as block scalars, as a person would write it."""


_Readable.add_representer(
    str,
    lambda dumper, text: dumper.represent_scalar(
        "tag:yaml.org,2002:str", text, style="|" if "\n" in text else None
    ),
)


def with_multiline_sql(rows: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The rows with each SQL statement broken over lines (still JSON-string attributes)."""
    changed = json.loads(json.dumps(rows))
    for item in changed.get("mwaa_task", []):
        text = item.get("task_params")
        params = json.loads(text) if isinstance(text, str) and text.startswith("{") else text
        if isinstance(params, dict) and isinstance(params.get("sql"), str):
            params["sql"] = params["sql"].replace(" ", "\n", 1)
            item["task_params"] = json.dumps(params) if isinstance(text, str) else params
    return changed


def as_readable_yaml(rows: dict[str, list[dict[str, Any]]]) -> str:
    """Rows with JSON-string attributes expanded to maps (so SQL is a block scalar)."""
    readable = {
        table: [
            {
                name: json.loads(value)
                if name in _JSON_ATTRIBUTES
                and isinstance(value, str)
                and value.startswith(("[", "{"))
                else value
                for name, value in item.items()
            }
            for item in items
        ]
        for table, items in rows.items()
    }
    return yaml.dump(readable, Dumper=_Readable, sort_keys=False, allow_unicode=True)


@pytest.mark.parametrize("name", ["rows.json", "rows-all-types.json"])
def test_yaml_and_json_rows_compile_to_identical_bytes(tmp_path: Path, name: str) -> None:
    # GIVEN rows with multi-line SQL as JSON, and the same rows as readable YAML
    rows = with_multiline_sql(json.loads((REPO_ROOT / "examples" / name).read_text()))
    as_json = tmp_path / "rows.json"
    as_json.write_text(json.dumps(rows, indent=2))
    text = as_readable_yaml(rows)
    assert "sql: |" in text
    assert '"sql"' not in text
    as_yaml = tmp_path / "rows.yaml"
    as_yaml.write_text(text)
    # WHEN both are compiled
    from_json = compile_dags(load_snapshot(as_json))
    from_yaml = compile_dags(load_snapshot(as_yaml))
    # THEN every DAG file is byte for byte the same, and so are the problems
    assert {d: r.source for d, r in from_yaml.dags.items()} == {
        d: r.source for d, r in from_json.dags.items()
    }
    assert from_yaml.problems == from_json.problems
    assert any(dag.ok for dag in from_json.dags.values())


def test_yaml_rows_with_json_attributes_as_maps_compile_like_json_strings(tmp_path: Path) -> None:
    rows = json.loads(EXAMPLE_ROWS.read_text())
    maps_only = as_readable_yaml(rows)
    assert "task_params: '{" not in maps_only
    path = tmp_path / "rows.yml"
    path.write_text(maps_only)

    from_yaml = compile_dags(load_snapshot(path))
    from_json = compile_dags(load_snapshot(EXAMPLE_ROWS))

    assert {d: r.source for d, r in from_yaml.dags.items()} == {
        d: r.source for d, r in from_json.dags.items()
    }
    assert all(dag.ok for dag in from_json.dags.values())


def test_yaml_is_read_as_plain_data_not_yaml_1_1_guesses(tmp_path: Path) -> None:
    path = tmp_path / "rows.yaml"
    path.write_text(
        "mwaa_task:\n"
        "  - task_id: 7\n"
        "    ratio: 1.50\n"
        "    start: 2024-01-01\n"
        "    at: 10:30\n"
        "    hex: 0x1F\n"
        "    answer: yes\n"
        "    on: true\n"
        "    none: null\n"
        "    sql: |\n"
        "      SELECT 1\n"
        "      FROM t\n"
    )

    (row,) = read_rows_file(path)["mwaa_task"]

    assert row == {
        "task_id": Decimal("7"),
        "ratio": Decimal("1.50"),
        "start": "2024-01-01",
        "at": "10:30",
        "hex": "0x1F",
        "answer": "yes",
        "on": True,
        "none": None,
        "sql": "SELECT 1\nFROM t\n",
    }


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("mwaa_task:\n  - task_id: '1'\n    task_id: '2'\n", "key 'task_id' appears twice"),
        ("mwaa_task:\n  - &a {task_id: '1'}\n  - *a\n", "anchors and aliases"),
        ("mwaa_task:\n  - task_id: !!binary aGk=\n", "bytes value at mwaa_task item 1"),
        ("mwaa_task:\n  - task_id: !!timestamp 2024-01-01\n", "date value at mwaa_task item 1"),
        ("mwaa_task: [\n", "not valid YAML"),
        ("mwaa_task: x\n", "'mwaa_task' must be a list of items"),
        ("- 1\n", "must hold a JSON object keyed by table name"),
    ],
    ids=["duplicate-key", "alias", "binary", "timestamp", "syntax", "shape", "top-level"],
)
def test_a_bad_yaml_file_is_one_error_naming_the_file(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "rows.yaml"
    path.write_text(text)

    with pytest.raises(RowsFileError) as raised:
        read_rows_file(path)

    assert str(raised.value).startswith(f"{path}: ")
    assert says in str(raised.value)


def test_a_folder_is_read_as_one_file_in_name_order(tmp_path: Path) -> None:
    rows = json.loads(EXAMPLE_ROWS.read_text())
    (tmp_path / "1-tasks.json").write_text(json.dumps({"mwaa_task": rows["mwaa_task"]}))
    (tmp_path / "2-jobs.yaml").write_text(yaml.dump({"mwaa_job": rows["mwaa_job"]}))
    (tmp_path / "3-schedulers.yml").write_text(
        yaml.dump({"mwaa_scheduler": rows["mwaa_scheduler"]})
    )
    (tmp_path / "notes.txt").write_text("not rows")

    from_folder = compile_dags(load_snapshot(tmp_path))
    from_file = compile_dags(load_snapshot(EXAMPLE_ROWS))

    assert {d: r.source for d, r in from_folder.dags.items()} == {
        d: r.source for d, r in from_file.dags.items()
    }
    assert set(read_rows_file(tmp_path / "2-jobs.yaml")) == {"mwaa_job"}


def test_a_row_in_two_files_of_a_folder_names_both(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('{"mwaa_task": [{"task_id": "1"}]}')
    (tmp_path / "b.yaml").write_text("mwaa_task:\n  - task_id: 1\n")

    with pytest.raises(RowsFileError) as raised:
        read_rows_file(tmp_path)

    assert str(raised.value) == (
        f"{tmp_path / 'b.yaml'}: mwaa_task[task_id='1'] is also in {tmp_path / 'a.json'}; "
        "keep each row once"
    )
