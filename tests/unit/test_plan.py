"""Planning: stream records → changed rows, reverse-index keys and DAG id hints."""

from __future__ import annotations

from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer
from hypothesis import given
from hypothesis import strategies as st

from lambda_compiler.compiler import compile_dags
from lambda_compiler.dynamodb_json import row_of
from lambda_compiler.plan import (
    UnknownTableError,
    change_from_record,
    dag_id_of,
    index_keys,
)
from lambda_compiler.rows import RowRef
from lambda_compiler.rows_file import load_snapshot
from lambda_compiler.snapshot import TableNames
from tests.conftest import EXAMPLE_ROWS
from tests.rowkit import job, scheduler, task

TABLES = TableNames()
_serialize = TypeSerializer().serialize


def record(table: str, keys: dict[str, Any], old: dict | None, new: dict | None) -> dict:
    """A stream record as Lambda delivers it (DynamoDB-typed images)."""
    body: dict[str, Any] = {"Keys": {k: _serialize(v) for k, v in keys.items()}}
    if old is not None:
        body["OldImage"] = {k: _serialize(v) for k, v in old.items()}
    if new is not None:
        body["NewImage"] = {k: _serialize(v) for k, v in new.items()}
    name = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
    arn = f"arn:aws:dynamodb:us-east-1:123456789012:table/{table}/stream/2024-01-01T00:00:00"
    return {"eventName": name, "eventSourceARN": arn, "dynamodb": body}


def test_a_task_change_looks_up_the_jobs_listing_the_task_and_rebuilds_nothing_directly():
    change = change_from_record(
        record("mwaa_task", {"task_id": "7"}, task("7"), task("7", name="renamed")), TABLES, row_of
    )
    assert change.kind == "task"
    assert change.owners == frozenset()
    assert change.lookups == {"taskref#7"}


def test_a_renamed_job_rebuilds_itself_hints_both_dag_ids_and_looks_up_its_schedulers():
    change = change_from_record(
        record(
            "mwaa_job",
            {"job_type": "etl", "job_id": "3"},
            job("3", "1", name="old"),
            job("3", "1", name="new"),
        ),
        TABLES,
        row_of,
    )
    ref = RowRef("mwaa_job", (("job_type", "etl"), ("job_id", "3")))
    assert change.owners == {ref}
    assert change.hints == {ref: {"job-old", "job-new"}}
    assert change.lookups == {"jobref#3", "jobref#etl:3"}


def test_a_removed_scheduler_hints_the_dag_id_of_its_old_image():
    change = change_from_record(
        record("mwaa_scheduler", {"schedule_id": "9"}, scheduler("9", "1", name="nightly"), None),
        TABLES,
        row_of,
    )
    ref = RowRef("mwaa_scheduler", (("schedule_id", "9"),))
    assert change.owners == {ref}
    assert change.hints == {ref: {"schedule-nightly"}}
    assert change.lookups == frozenset()


def test_a_record_from_another_table_is_refused_with_its_name():
    with pytest.raises(UnknownTableError, match="'orders'"):
        change_from_record(record("orders", {"id": "1"}, None, {"id": "1"}), TABLES, row_of)


def test_numeric_keys_in_images_compare_as_strings():
    change = change_from_record(
        record("mwaa_task", {"task_id": 12}, None, task("12")), TABLES, row_of
    )
    assert change.lookups == {"taskref#12"}


def test_index_keys_name_listed_tasks_and_jobs_as_written_and_nothing_for_disabled_rows():
    assert index_keys("job", job("1", "4,5"), TABLES) == {"taskref#4", "taskref#5"}
    assert index_keys("scheduler", scheduler("1", "2, etl:3"), TABLES) == {
        "jobref#2",
        "jobref#etl:3",
    }
    assert index_keys("job", job("1", "4", status=0), TABLES) == frozenset()
    assert index_keys("job", None, TABLES) == frozenset()


def test_dag_ids_of_rows_agree_with_the_full_compile_of_the_examples():
    snapshot = load_snapshot(EXAMPLE_ROWS)
    produced = {dag.ref: dag_id for dag_id, dag in compile_dags(snapshot).dags.items()}
    assert produced
    for kind, rows, key in (
        ("job", snapshot.jobs, ("job_type", "job_id")),
        ("scheduler", snapshot.schedulers, ("schedule_id",)),
    ):
        for row in rows:
            ref = RowRef(getattr(TABLES, kind), tuple((k, str(row[k])) for k in key))
            assert dag_id_of(kind, row, TABLES) == produced.get(ref)


def test_a_disabled_job_produces_no_dag_id():
    assert dag_id_of("job", job("1", "1", status=0), TABLES) is None
    assert dag_id_of("job", job("1", "1", name="x"), TABLES) == "job-x"
    assert dag_id_of("job", job("1", "1", name="no spaces allowed"), TABLES) == "job-etl-1"


@given(
    st.text(min_size=1, max_size=12),
    st.lists(st.tuples(st.text(min_size=1, max_size=8), st.text(max_size=12)), max_size=3),
)
def test_row_addresses_are_ascii_and_read_back_exactly(table: str, key: list[tuple[str, str]]):
    ref = RowRef(table, tuple(key))
    address = ref.address
    assert address.isascii()
    assert RowRef.from_address(address) == ref
