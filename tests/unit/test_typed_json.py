"""The core's DynamoDB-JSON decoder (`rows.decode_value`) reads every well-formed value
exactly as boto3's `TypeDeserializer` does, sets aside: the core gives them as sorted lists.

The core keeps its own decoder because it may not import boto3 (STYLE.md layers) and must
never raise on a stream image (a malformed value becomes an `Unreadable` the row's check
reports); this test keeps the two from drifting apart.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from hypothesis import given
from hypothesis import strategies as st

from lambda_compiler.rows import Unreadable, decode_item, decode_value, plain

_numbers = st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str)
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
