"""Any value in any attribute of any row: `compile_dags` answers, never raises.

Values are DynamoDB-typed (every type, with NaN and huge numbers, binary, sets, deep maps),
native Python (what boto3 or a test may hand over), or JSON text with NaN, Infinity, deep
nesting and huge numbers. Whatever the value, each problem names a table, a key and an
attribute, stays short, and never quotes a planted secret; no file ever holds a secret.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambda_compiler.compiler import CompileResult
from lambda_compiler.rows_file import to_typed
from tests.rowkit import compile_rows, job, scheduler, task

FILE_SECRET = "Zq9-file-s3cr3t"  # under a secret key or in a URI: refused, never in a file
TEXT_SECRET = "Zq9-text-s3cr3t"  # `password=...` in text: may reach a file, never a problem
PROBLEM_CHARS = 1000

ATTRIBUTES = {
    "mwaa_task": ["task_id", "task_name", "task_type", "task_params", "status", "other"],
    "mwaa_job": ["job_type", "job_id", "job_name", "task_list", "job_task_dependencies",
                 "job_params", "job_task_configs", "status"],
    "mwaa_scheduler": ["schedule_id", "schedule_name", "schedule_description", "job_list",
                       "schedule_job_dependencies", "schedule_params", "schedule_job_configs",
                       "status"],
}  # fmt: skip

texts = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "1",
            "1,2",
            "@daily",
            "NaN",
            "{{ ds }}",
            f"postgres://bob:{FILE_SECRET}@db/x",
            f"SELECT 1 -- password={TEXT_SECRET}",
            f"Authorization: Bearer {TEXT_SECRET}",
            '{"sql": "x", "conn_id": "redshift_default"}',
            "[" * 40 + "]" * 40,
        ]
    ),
    st.text(max_size=8).map(lambda s: "a b " * 18_000 + s + f" password={TEXT_SECRET}"),
)
number_texts = st.one_of(
    st.sampled_from(
        ["NaN", "Infinity", "-Infinity", "sNaN", "1e400", "1E+999999999", "-0", "x", "9" * 5000]
    ),
    st.integers().map(str),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
)
secret_keys = st.sampled_from(["password", "apiKey", "DB_TOKEN", "Authorization", "webhook"])
keys = st.one_of(st.text(max_size=8), st.just("k" * 300), secret_keys)


def _deep(levels: int, wrap) -> Any:  # type: ignore[no-untyped-def]
    value: Any = None
    for _ in range(levels):
        value = wrap(value)
    return value


typed_leaves = st.one_of(
    texts.map(lambda s: {"S": s}),
    number_texts.map(lambda n: {"N": n}),
    st.booleans().map(lambda b: {"BOOL": b}),
    st.just({"NULL": True}),
    st.binary(max_size=4).map(lambda b: {"B": b}),
    st.lists(st.binary(max_size=3), max_size=3).map(lambda bs: {"BS": bs}),
    st.lists(texts, max_size=3).map(lambda ss: {"SS": ss}),
    st.lists(number_texts, max_size=3).map(lambda ns: {"NS": ns}),
    st.sampled_from([31, 33, 1500]).map(
        lambda n: _deep(n, lambda v: {"M": {"a": v or {"NULL": True}}})
    ),
)
typed_values = st.recursive(
    typed_leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda items: {"L": items}),
        st.dictionaries(keys, inner, max_size=3).map(lambda items: {"M": items}),
    ),
    max_leaves=8,
)

native_leaves = st.one_of(
    st.none(),
    st.booleans(),
    texts,
    st.integers(),
    st.sampled_from([39, 5000]).map(lambda digits: 10**digits),
    st.floats(),
    st.decimals(),
    st.sampled_from([Decimal("NaN"), Decimal("sNaN"), Decimal("-Infinity"), Decimal("1E+99")]),
    st.binary(max_size=4),
    st.binary(max_size=4).map(bytearray),
    st.frozensets(st.text(max_size=3), max_size=3),
    st.frozensets(st.binary(max_size=3), max_size=3),
    st.sampled_from([31, 33, 1500]).map(lambda n: _deep(n, lambda v: {"a": v})),
)
native_values = st.recursive(
    native_leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(keys, inner, max_size=3),
        st.just({"password": FILE_SECRET}),
    ),
    max_leaves=8,
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), texts, st.integers(), st.floats()),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=8,
)
json_texts = st.one_of(
    json_values.map(json.dumps),  # floats may be NaN or Infinity: json.dumps writes them
    st.sampled_from(
        [
            '{"conn_id": "redshift_default", "sql": "x", "parameters": [NaN, Infinity, -Infinity]}',
            '{"conn_id": "redshift_default", "sql": "x", "parameters": '
            + "[" * 3000
            + "]" * 3000
            + "}",
            '{"conn_id": "redshift_default", "sql": "x", "parameters": [' + "7" * 4500 + "]}",
            '{"conn_id": "redshift_default", "sql": "x", "parameters": {"v": 1e999}}',
            '{"conn_id": "redshift_default", "sql": "x", "parameters": {"token": "'
            + FILE_SECRET
            + '"}}',
            '{"schedule": "@daily", "tags": ["\\ud800"]}',
            '[{"task_id": "1", "pid": ' + "9" * 400 + "}]",
            '{"1": {"conf": {"x": NaN}}}',
            "{bad json",
        ]
    ),
)


def _compile_with(table: str, attribute: str, value: Any, *, typed: bool) -> CompileResult:
    """A valid task, job and scheduler, with `value` as `attribute` of the `table` row."""
    rows = {"mwaa_task": [task("1")], "mwaa_job": [job("1", "1")]}
    rows["mwaa_scheduler"] = [scheduler("1", "1")]
    if typed:
        rows = {name: [to_typed(row) for row in items] for name, items in rows.items()}
    rows[table][0][attribute] = value
    return compile_rows(rows["mwaa_task"], rows["mwaa_job"], rows["mwaa_scheduler"])


def _check(result: CompileResult, *, refused: bool = True) -> None:
    """Problems name where and why, briefly and without secrets; files hold no secret.

    `refused` is false when `FILE_SECRET` sits in JSON text given to an attribute that
    holds plain text: there it is text like ``password=x``, which files may hold.
    """
    for problem in [*result.problems, *result.unparsable]:
        text = str(problem)
        assert problem.ref.table in ATTRIBUTES and problem.ref.key and problem.field
        assert all(name for name, _ in problem.ref.key)
        assert len(text) < PROBLEM_CHARS and len(json.dumps(problem.to_dict())) < PROBLEM_CHARS
        assert FILE_SECRET not in text and TEXT_SECRET not in text
        assert FILE_SECRET not in json.dumps(problem.to_dict())
    for dag in result.dags.values():
        assert dag.ok or dag.problems
        assert not refused or FILE_SECRET not in (dag.source or "")


places = st.sampled_from([(t, a) for t, names in ATTRIBUTES.items() for a in names])
FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(places, typed_values)
def test_any_typed_value_in_any_attribute_compiles_or_is_a_problem(place, value):
    table, attribute = place
    _check(_compile_with(table, attribute, value, typed=True))


@FAST
@given(places, native_values)
def test_any_native_value_in_any_attribute_compiles_or_is_a_problem(place, value):
    table, attribute = place
    _check(_compile_with(table, attribute, value, typed=False))


@FAST
@given(places, json_texts)
def test_any_json_text_in_any_attribute_compiles_or_is_a_problem(place, text):
    table, attribute = place
    holds_json = attribute.endswith(("_params", "_configs", "_dependencies"))
    _check(_compile_with(table, attribute, text, typed=False), refused=holds_json)
