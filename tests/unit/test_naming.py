"""The naming rules: which DAG id and Airflow task id a row gets."""

from __future__ import annotations

import pytest

from lambda_compiler.naming import (
    DAG_ID_PREFIX,
    dag_id_for,
    is_valid_dag_id,
    is_valid_task_id,
    task_id_for,
)
from lambda_compiler.problems import ProblemCode
from tests.rowkit import compile_rows, job, scheduler, task


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("job-daily.sales_v2", True),
        ("a" * 250, True),
        ("a" * 251, False),
        ("", False),
        ("job-日次", False),
        ("job daily", False),
        ("job/daily", False),
    ],
)
def test_dag_ids_follow_airflows_rule(text: str, valid: bool) -> None:
    assert is_valid_dag_id(text) is valid


@pytest.mark.parametrize(
    ("text", "valid"),
    [("load-orders_2", True), ("group.task", False), ("t" * 251, False), ("", False)],
)
def test_task_ids_follow_airflows_rule_without_the_group_dot(text: str, valid: bool) -> None:
    assert is_valid_task_id(text) is valid


def test_a_valid_name_makes_the_dag_id_and_needs_no_display_name() -> None:
    assert dag_id_for(DAG_ID_PREFIX["job"], "daily", "etl", "7") == ("job-daily", None)
    assert dag_id_for(DAG_ID_PREFIX["scheduler"], "nightly", "3") == ("schedule-nightly", None)


@pytest.mark.parametrize("name", ["日次 sales", "x" * 250])
def test_an_invalid_name_falls_back_to_the_key_and_is_kept_for_display(name: str) -> None:
    assert dag_id_for("job", name, "etl", "7") == ("job-etl-7", name)


def test_no_name_falls_back_to_the_key_without_a_display_name() -> None:
    assert dag_id_for("schedule", None, "3") == ("schedule-3", None)


def test_task_ids_come_from_names_or_fall_back_to_the_task_key() -> None:
    assert task_id_for("load_orders", "4") == ("load_orders", None)
    assert task_id_for("load orders", "4") == ("task-4", "load orders")
    assert task_id_for(None, "4") == ("task-4", None)


def test_compiled_dags_are_named_by_the_rule() -> None:
    result = compile_rows(
        tasks=[task("1", name="extract")],
        jobs=[job("7", "1", name="daily sales")],
        schedulers=[scheduler("3", "etl:7", name="nightly")],
    )
    assert set(result.dags) == {"job-etl-7", "schedule-nightly"}
    assert ProblemCode.INVALID_IDENTIFIER not in {p.code for p in result.problems}
