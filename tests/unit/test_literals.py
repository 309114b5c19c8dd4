"""`to_literal` is the only path from row data to source: it must read back exactly."""

from __future__ import annotations

import ast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambda_compiler.literals import LiteralError, to_literal, variable_names

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(json_values)
def test_every_json_value_round_trips(value):
    assert ast.literal_eval(to_literal(value)) == value


@given(st.text())
def test_strings_stay_one_expression(text):
    tree = ast.parse(to_literal(text), mode="eval")
    assert isinstance(tree.body, ast.Constant)


def test_multiline_sql_is_written_readably():
    sql = "SELECT *\nFROM t\nWHERE d = '{{ ds }}'"
    assert to_literal(sql) == '"""SELECT *\nFROM t\nWHERE d = \'{{ ds }}\'"""'


@pytest.mark.parametrize("text", ['a\n"""b', "a\nb\\", 'a\nb"', "a\r\nb", "a\n\x00"])
def test_risky_multiline_strings_stay_escaped(text):
    literal = to_literal(text)
    assert not literal.startswith('"""')
    assert ast.literal_eval(literal) == text


def test_dict_keys_are_sorted_so_item_order_does_not_matter():
    assert to_literal({"b": 1, "a": 2}) == to_literal({"a": 2, "b": 1}) == '{"a": 2, "b": 1}'


@pytest.mark.parametrize("value", [object(), {1: "x"}, float("nan"), b"bytes"])
def test_values_without_a_literal_form_are_refused(value):
    with pytest.raises(LiteralError):
        to_literal(value)


def test_variable_names_are_distinct_and_valid():
    names = variable_names(["load-a", "load_a", "1st", "class", "dag", "Load-A"])
    assert len(set(names.values())) == 6
    for name in names.values():
        assert name.isidentifier() and name not in {"class", "dag"}
