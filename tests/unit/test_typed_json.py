"""DynamoDB JSON, read two ways: what DynamoDB answers (reads, stream images) by boto3's
`TypeDeserializer` in the adapters (`dynamodb_json.row_of`), typed JSON written by hand
(`snapshot_from_json`'s documents) by the core's total decoder (`rows.decode_value`).

The core keeps its own decoder because it may not import boto3 (STYLE.md layers) and
hand-written input may be malformed (a malformed value becomes an `Unreadable` the row's
check reports). These tests keep the two from drifting apart: both hand the core the same
rows for every well-formed value (sets as sorted lists, numbers as `Decimal`), and binary
values are problems either way.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from hypothesis import given
from hypothesis import strategies as st

from lambda_compiler.compiler import compile_dags
from lambda_compiler.dynamodb_json import row_of
from lambda_compiler.rows import BINARY_REASON, Unreadable, decode_item, decode_value, plain
from lambda_compiler.rows_file import to_typed
from lambda_compiler.snapshot import Snapshot, snapshot_from_json
from tests.rowkit import job, task

# DynamoDB numbers hold at most 38 significant digits; hypothesis bounds them in Decimal's
# default 28-digit context, so stay under 10**24 with 3 places.
_LARGEST = Decimal("9" * 24 + ".999")
_numbers = st.decimals(-_LARGEST, _LARGEST, allow_nan=False, allow_infinity=False, places=3).map(
    str
)
_scalars = st.one_of(
    st.builds(lambda s: {"S": s}, st.text(max_size=8)),
    st.builds(lambda n: {"N": n}, _numbers),
    st.builds(lambda b: {"BOOL": b}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda s: {"SS": sorted(s)}, st.sets(st.text(max_size=4), min_size=1, max_size=4)),
    st.builds(
        lambda s: {"NS": [str(n) for n in s]},
        st.sets(st.integers(-1000, 1000).map(Decimal), min_size=1, max_size=4),
    ),
)
_typed = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.builds(lambda items: {"L": items}, st.lists(inner, max_size=3)),
        st.builds(lambda m: {"M": m}, st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    ),
    max_leaves=12,
)


@given(_typed)
def test_well_formed_values_decode_as_boto3_decodes_them(typed: dict[str, Any]) -> None:
    assert plain(decode_value(typed)) == plain(TypeDeserializer().deserialize(typed))


def test_a_typed_item_decodes_attribute_by_attribute() -> None:
    item = {"task_id": {"S": "4"}, "status": {"N": "1"}, "tags": {"SS": ["b", "a"]}}
    assert decode_item(item) == {"task_id": "4", "status": Decimal(1), "tags": ["a", "b"]}


def test_what_boto3_would_raise_on_becomes_an_unreadable_value() -> None:
    assert isinstance(decode_value({"N": "seven"}), Unreadable)
    assert isinstance(decode_value({"X": "?"}), Unreadable)
    assert isinstance(decode_value({"B": b"\x00"}), Unreadable)


@given(st.dictionaries(st.text(min_size=1, max_size=4), _typed, min_size=1, max_size=3))
def test_the_adapters_hand_the_core_the_rows_its_own_decoder_gives(item: dict[str, Any]) -> None:
    assert row_of(item) == decode_item(item)


def test_binary_values_dynamodb_returns_reach_the_core_as_bytes() -> None:
    item = {"blob": {"B": b"\x00"}, "blobs": {"BS": [b"b", b"a"]}, "ids": {"NS": ["2", "1"]}}
    assert row_of(item) == {"blob": b"\x00", "blobs": [b"a", b"b"], "ids": [Decimal(1), Decimal(2)]}


def test_a_binary_value_read_from_dynamodb_is_the_problem_the_core_decoder_reports() -> None:
    params = {"M": {"conn_id": {"S": "redshift_default"}, "sql": {"S": "x"}, "x": {"B": b"\0"}}}
    typed_task, typed_job = to_typed(task("1")) | {"task_params": params}, to_typed(job("1", "1"))
    via_boto3 = compile_dags(Snapshot([row_of(typed_task)], [row_of(typed_job)]))
    via_core = compile_dags(
        snapshot_from_json({"mwaa_task": [typed_task], "mwaa_job": [typed_job]})
    )
    assert [(p.field, p.message) for p in via_boto3.problems] == [("task_params.x", BINARY_REASON)]
    assert via_boto3.problems == via_core.problems
