"""One converter from DynamoDB's `Decimal` numbers to plain JSON values (`rows.plain`)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from lambda_compiler.rows import plain, plain_number


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (Decimal("7"), 7),
        (Decimal("7.0"), 7),
        (Decimal("1E+2"), 100),
        (Decimal("-2.5"), -2.5),
        (Decimal("12345678901234567890123"), 12345678901234567890123),
    ],
)
def test_whole_numbers_become_int_and_others_float(number: Decimal, expected: float) -> None:
    converted = plain_number(number)
    assert converted == expected and type(converted) is type(expected)


def test_nested_values_are_walked_and_sets_become_sorted_lists() -> None:
    value = {"n": Decimal("3"), "xs": [Decimal("0.5"), "a", None, True], "ss": {"b", "a"}}
    converted = plain(value)
    assert converted == {"n": 3, "xs": [0.5, "a", None, True], "ss": ["a", "b"]}
    assert json.dumps(converted) == '{"n": 3, "xs": [0.5, "a", null, true], "ss": ["a", "b"]}'


def test_values_without_a_json_form_are_refused() -> None:
    with pytest.raises(TypeError, match="bytes"):
        plain({"blob": b"\x00"})
