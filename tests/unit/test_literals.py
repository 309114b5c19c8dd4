"""`to_literal` is the only path from row data to source: it must read back exactly."""

from __future__ import annotations

import ast
import datetime

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


@given(st.timedeltas())
def test_durations_read_back_exactly_from_integer_literals(value):
    source = to_literal(value)
    assert eval(source, {"datetime": datetime}) == value
    call = ast.parse(source.removeprefix("-"), mode="eval").body
    assert ast.unparse(call.func) == "datetime.timedelta" and not call.args
    written = {keyword.arg: keyword.value.value for keyword in call.keywords}
    # largest units first, each once, each below the next larger unit, integers only
    assert list(written) == sorted(written, key=list(_UNITS).index)
    assert all(type(count) is int for count in written.values())
    assert all(0 < count < _UNITS[unit] for unit, count in written.items()) or not value


# Each unit `to_literal` may write, and how many of it make the next larger unit.
_UNITS = {
    "days": 1_000_000_000,  # timedelta's own limit
    "hours": 24,
    "minutes": 60,
    "seconds": 60,
    "milliseconds": 1000,
    "microseconds": 1000,
}


@pytest.mark.parametrize(
    ("seconds", "source"),
    [
        (21600, "datetime.timedelta(hours=6)"),
        (300, "datetime.timedelta(minutes=5)"),
        (5400, "datetime.timedelta(hours=1, minutes=30)"),
        (90000, "datetime.timedelta(days=1, hours=1)"),
        (0.25, "datetime.timedelta(milliseconds=250)"),
        (0, "datetime.timedelta(seconds=0)"),
    ],
)
def test_durations_are_written_as_a_person_would(seconds, source):
    assert to_literal(datetime.timedelta(seconds=seconds)) == source


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
