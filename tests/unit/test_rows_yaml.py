"""`rows_yaml`: JSON attributes expanded only when that cannot change what the compiler sees."""

from __future__ import annotations

import pytest
import yaml

from lambda_compiler.rows_yaml import expand_json_attributes, rows_yaml


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "5",
        '"just text"',
        "{not json",
        '{"sql": "a", "sql": "b"}',
        '{"retries": NaN}',
    ],
)
def test_json_text_that_is_not_one_clean_object_or_list_stays_text(text: str) -> None:
    item = {"task_id": "1", "task_params": text}

    assert expand_json_attributes("mwaa_task", item) == item


def test_only_attributes_that_hold_json_are_expanded() -> None:
    item = {"task_id": "1", "task_name": '{"a": 1}', "task_params": '{"sql": "SELECT 1;"}'}

    expanded = expand_json_attributes("mwaa_task", item)

    assert expanded == {
        "task_id": "1",
        "task_name": '{"a": 1}',
        "task_params": {"sql": "SELECT 1;"},
    }


def test_multi_line_text_is_a_literal_block_that_keeps_every_character() -> None:
    sql = "SELECT 1  \n\tFROM t\n\nWHERE x = 'é'\n"
    data = {"mwaa_task": [{"task_id": "1", "task_params": {"sql": sql, "note": "a: b"}}]}

    text = rows_yaml(data)

    assert yaml.safe_load(text) == data
    assert "é" in text
