"""Row values of any type, shape or size: a DAG, or a bounded, redacted problem naming a limit.

One test per limit of `limits.py` (just under it compiles, just over it is a problem naming
it), per kind of value Python or DynamoDB can hold but a DAG file cannot, and per rule of
`redact.py`; and secrets are refused before they can reach a file.
"""

from __future__ import annotations

import ast
import json
from decimal import Decimal
from typing import Any

import pytest

from lambda_compiler.compiler import CompileResult, compile_dags
from lambda_compiler.config import CompilerConfig
from lambda_compiler.graph import find_cycle
from lambda_compiler.limits import (
    EXCERPT_CHARS,
    MAX_DEPTH,
    MAX_KEY_BYTES,
    MAX_MESSAGE_CHARS,
    MAX_NUMBER_DIGITS,
    MAX_PROBLEMS_PER_ATTRIBUTE,
    MAX_VALUE_BYTES,
)
from lambda_compiler.model import Edge
from lambda_compiler.problems import Problem, ProblemCode
from lambda_compiler.redact import excerpt, has_credentials_uri, is_secret_key, redact
from lambda_compiler.rows import RowRef
from lambda_compiler.rows_file import load_snapshot, to_typed
from lambda_compiler.snapshot import RowsFileError, snapshot_from_json
from tests.rowkit import compile_rows, job, scheduler, task

SECRET = "Zq9-planted-s3cr3t"
PROBLEM_CHARS = 1000  # every problem, as users read it, stays under this


def _with_params(**params: Any) -> CompileResult:
    """A job of one SQL task whose `task_params` add `params`, beside a healthy job."""
    rows = [
        task("1", task_params={"conn_id": "redshift_default", "sql": "SELECT 1", **params}),
        task("2"),
    ]
    return compile_rows(rows, [job("1", "1"), job("2", "2", name="bystander")])


def _problems(result: CompileResult, code: ProblemCode) -> list[Problem]:
    found = [p for p in result.problems if p.code == code]
    assert found, f"no {code} problem: {result.problems}"
    assert result.dags["job-bystander"].ok  # a bad value never affects another DAG
    for problem in result.problems:
        assert len(str(problem)) < PROBLEM_CHARS and SECRET not in str(problem)
    return found


def _nested(levels: int, leaf: Any = 1) -> Any:
    value = leaf
    for _ in range(levels):
        value = [value]
    return value


# ---- limits -----------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["native", "json", "typed"])
def test_nesting_up_to_max_depth_compiles_and_one_level_more_is_a_problem(form):
    def rows(levels: int) -> list[dict[str, Any]]:
        # task_params is one level; `parameters` holds the rest
        params = {"conn_id": "redshift_default", "sql": "x", "parameters": _nested(levels - 1)}
        row = task("1", task_params=json.dumps(params) if form == "json" else params)
        return [to_typed(row) if form == "typed" else row]

    assert compile_rows(rows(MAX_DEPTH), [job("1", "1")]).dags["job-job_1"].ok
    result = compile_rows(rows(MAX_DEPTH + 1), [job("1", "1")])
    (problem,) = result.problems
    assert problem.code == ProblemCode.LIMIT_EXCEEDED and "MAX_DEPTH" in problem.message
    assert problem.field.startswith("task_params") and problem.ref.table == "mwaa_task"


@pytest.mark.parametrize("form", ["native", "json", "typed"])
def test_nesting_deeper_than_python_recurses_is_a_problem(form):
    params: Any = {"conn_id": "redshift_default", "sql": "x", "parameters": _nested(5000)}
    if form == "json":
        params = (
            '{"conn_id": "redshift_default", "sql": "x", "parameters": '
            + "[" * 5000
            + "]" * 5000
            + "}"
        )
    row = task("1", task_params=params)
    if form == "typed":
        typed_deep: Any = {"NULL": True}
        for _ in range(5000):
            typed_deep = {"L": [typed_deep]}
        row = to_typed(task("1")) | {"task_params": typed_deep}
    result = compile_rows([row], [job("1", "1")])
    assert [p.code for p in result.problems] == [ProblemCode.LIMIT_EXCEEDED]


def test_a_value_over_max_value_bytes_is_a_problem_counted_in_utf8_bytes():
    assert _with_params(parameters={"d": "x" * (MAX_VALUE_BYTES - 100)}).dags["job-job_1"].ok
    # under the limit in characters, over it in bytes ('é' is two bytes)
    (problem,) = _problems(
        _with_params(parameters={"d": "é" * (MAX_VALUE_BYTES // 2 + 1)}),
        ProblemCode.LIMIT_EXCEEDED,
    )
    assert "MAX_VALUE_BYTES" in problem.message and problem.field == "task_params.parameters.d"


def test_json_text_over_max_value_bytes_is_a_problem_before_it_is_parsed():
    params = json.dumps({"conn_id": "redshift_default", "sql": "x" * MAX_VALUE_BYTES})
    result = compile_rows([task("1", task_params=params)], [job("1", "1")])
    (problem,) = result.problems
    assert problem.field == "task_params" and "MAX_VALUE_BYTES" in problem.message


def test_a_350_kb_value_yields_a_short_problem_quoting_an_excerpt():
    big = "SELECT " + "x" * 350_000 + f" -- password={SECRET}"
    (problem,) = _problems(_with_params(sql=big), ProblemCode.LIMIT_EXCEEDED)
    assert len(problem.message) <= MAX_MESSAGE_CHARS
    assert "'SELECT xxx" in problem.message and "…" in problem.message
    assert f"({len(big):,} characters)" in problem.message


def test_keys_up_to_max_key_bytes_are_ids_and_longer_ones_are_problems():
    fits, too_long = "k" * MAX_KEY_BYTES, "k" * (MAX_KEY_BYTES + 1)
    assert _with_params(parameters={fits: 1}).dags["job-job_1"].ok
    (problem,) = _problems(_with_params(parameters={too_long: 1}), ProblemCode.LIMIT_EXCEEDED)
    assert "MAX_KEY_BYTES" in problem.message and problem.field.startswith("task_params.")
    # the same limit for a row key and for an id in a list
    result = compile_rows([task(too_long)], [job("1", too_long)])
    limited = [p for p in result.problems if p.code == ProblemCode.LIMIT_EXCEEDED]
    assert {(p.ref.table, p.field) for p in limited} == {
        ("mwaa_task", "task_id"),
        ("mwaa_job", "task_list"),
    }
    assert all("MAX_KEY_BYTES" in p.message for p in limited)


@pytest.mark.parametrize(
    "number",
    [
        10**MAX_NUMBER_DIGITS,  # one digit too many
        10**5000,  # more digits than Python turns into text by default
        Decimal("1E+999999999"),  # would need gigabytes as an int
        Decimal("1." + "1" * MAX_NUMBER_DIGITS),
    ],
    ids=["39-digits", "5001-digits", "huge-exponent", "39-significant"],
)
def test_numbers_over_max_number_digits_are_problems(number):
    assert _with_params(parameters=[10**MAX_NUMBER_DIGITS - 1]).dags["job-job_1"].ok
    (problem,) = _problems(_with_params(parameters=[number]), ProblemCode.LIMIT_EXCEEDED)
    assert "MAX_NUMBER_DIGITS" in problem.message and problem.field == "task_params.parameters[0]"


@pytest.mark.parametrize(
    "text", ["[" + "9" * 5000 + "]", "[1e400]", "[-1" + "0" * 60 + "]"], ids=["int", "float", "neg"]
)
def test_json_numbers_over_max_number_digits_are_problems(text):
    params = '{"conn_id": "redshift_default", "sql": "x", "parameters": ' + text + "}"
    result = compile_rows([task("1", task_params=params)], [job("1", "1")])
    assert [(p.field, p.code) for p in result.problems] == [
        ("task_params.parameters[0]", ProblemCode.LIMIT_EXCEEDED)
    ]


def test_an_attribute_reports_at_most_max_problems_per_attribute():
    result = _with_params(parameters=[float("nan")] * 1000)
    assert len(result.problems) == MAX_PROBLEMS_PER_ATTRIBUTE + 1
    assert any("only the first" in p.message for p in result.problems)


def test_rows_files_with_huge_numbers_or_deep_nesting_never_crash(tmp_path):
    rows = tmp_path / "rows.json"
    params = '{"conn_id": "redshift_default", "sql": "x", "parameters": [' + "9" * 5000 + "]}"
    rows.write_text(
        '{"mwaa_task": [{"task_id": 1, "task_name": "t", "task_type": "SQL", '
        f'"task_params": {params}}}], "mwaa_job": []}}'
    )
    problems = compile_dags(load_snapshot(rows)).problems
    assert problems == [] or all(p.code == ProblemCode.LIMIT_EXCEEDED for p in problems)
    rows.write_text('{"mwaa_task": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(RowsFileError, match="nested too deeply"):
        load_snapshot(rows)


# ---- values a DAG file cannot hold --------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        float("nan"),
        float("inf"),
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("-Infinity"),
        b"\x00\x01",
        bytearray(b"x"),
        {b"a", b"b"},
        {"a", 1},
        object(),
        {1: "non-text key"},
    ],
    ids=["nan", "inf", "dec-nan", "dec-snan", "dec-inf", "bytes", "bytearray", "bytes-set",
         "mixed-set", "object", "int-key"],
)  # fmt: skip
def test_values_with_no_literal_form_are_wrong_type_problems(value):
    (problem,) = _problems(_with_params(parameters={"v": value}), ProblemCode.WRONG_TYPE)
    assert problem.field.startswith("task_params.parameters")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_in_json_text_are_problems(constant):
    params = '{"conn_id": "redshift_default", "sql": "x", "parameters": {"v": ' + constant + "}}"
    result = compile_rows([task("1", task_params=params)], [job("1", "1")])
    (problem,) = result.problems
    assert problem.field == "task_params.parameters.v" and "not a finite number" in problem.message


@pytest.mark.parametrize(
    "typed",
    [
        {"B": "AAE="},
        {"BS": ["AAE="]},
        {"M": {"inner": {"B": b"\x00"}}},
        {"N": "NaN"},
        {"NS": ["1", "Infinity"]},
        {"N": "not a number"},
        {"S": 7},
    ],
    ids=["B", "BS", "B-in-M", "N-nan", "NS-inf", "N-text", "S-number"],
)
def test_typed_values_a_dag_file_cannot_hold_are_problems(typed):
    row = to_typed(task("1")) | {
        "task_params": {"M": {"conn_id": {"S": "redshift_default"}, "x": typed}}
    }
    result = compile_rows([row], [job("1", "1")])
    assert [p.code for p in result.problems if p.field.startswith("task_params.x")] in (
        [ProblemCode.WRONG_TYPE],
        [ProblemCode.LIMIT_EXCEEDED],
    )
    assert all(p.ref.table == "mwaa_task" and p.field for p in result.problems)


def test_sets_where_lists_are_expected_are_read_as_sorted_lists():
    tasks = [to_typed(task(i)) for i in ("1", "2")]
    typed_job = to_typed(job("1", "")) | {"task_list": {"SS": ["2", "1"]}}
    assert compile_rows(tasks, [typed_job]).dags["job-job_1"].ok
    native = compile_rows([task("1"), task("2")], [job("1", frozenset({"2", "1"}))])
    assert native.dags["job-job_1"].ok
    source = _with_params(parameters={"ns": {Decimal(3), Decimal("1.5")}}).dags["job-job_1"].source
    assert 'parameters={"ns": [1.5, 3]}' in source


def test_a_lone_surrogate_in_json_text_is_a_problem():
    params = '{"conn_id": "redshift_default", "sql": "\\ud800"}'
    (problem,) = compile_rows([task("1", task_params=params)], [job("1", "1")]).problems
    assert problem.field == "task_params.sql" and "surrogate" in problem.message


def test_attributes_the_compiler_does_not_read_are_left_alone():
    row = task("1") | {"audit_blob": b"\x00" * 10, "owner_notes": float("nan")}
    assert compile_rows([row], [job("1", "1")]).dags["job-job_1"].ok


def test_a_dependency_chain_of_thousands_of_tasks_has_no_cycle():
    nodes = [str(i) for i in range(5000)]
    chain = [Edge(downstream=nodes[i + 1], upstream=nodes[i]) for i in range(4999)]
    assert find_cycle(nodes, chain) is None
    assert find_cycle(nodes, [*chain, Edge(downstream="0", upstream="4999")]) == [*nodes, "0"]


# ---- redaction ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    ["password", "DB_PASSWORD", "pgPassword", "db_passwd", "client_secret", "api_token",
     "apiKey", "X-Api-Key", "apikey", "aws_access_key", "accessKey", "private_key",
     "slack_webhook_url", "credentials", "Credential", "Authorization"],
)  # fmt: skip
def test_secret_looking_keys(key):
    assert is_secret_key(key)


@pytest.mark.parametrize(
    "key", ["secret_arn", "token_conn_id", "secretName", "sql", "conn_id", "description", "pool"]
)
def test_keys_that_name_where_a_secret_is_kept_are_not_secrets(key):
    assert not is_secret_key(key)


@pytest.mark.parametrize(
    "text",
    [
        f"password={SECRET}",
        f"mysql --password={SECRET}",
        f"PASSWD: {SECRET}",
        f'{{"api_key": "{SECRET} with spaces"}}',
        f"{{'client_secret': '{SECRET}'}}",
        f"Authorization: Bearer {SECRET}",
        f"curl -H 'authorization: basic {SECRET}' x",
        f"postgres://bob:{SECRET}@db:5432/x",
        f"redis://:{SECRET}@cache",
        f"https://bob:{SECRET}@with@at.example.com/",
        f"token={SECRET}&next=1",
    ],
)
def test_redact_hides_secret_values_in_text(text):
    redacted = redact(text)
    assert "***" in redacted
    assert SECRET not in redacted


def test_redact_keeps_ordinary_text():
    text = "SELECT * FROM t WHERE d = '{{ ds }}'; s3://bucket/key ssh://git@host x=1"
    assert redact(text) == text
    assert not has_credentials_uri(text) and has_credentials_uri("jdbc:mysql://u:p@h/db")


@pytest.mark.parametrize(
    "text",
    [
        "x" * (EXCERPT_CHARS - 15) + f" password={SECRET}",
        "x" * (EXCERPT_CHARS - 20) + f" postgres://bob:{SECRET}@db/x",
        "x" * (EXCERPT_CHARS - 5) + f" token: '{SECRET} more'",
    ],
    ids=["key-value", "uri", "quoted"],
)
def test_an_excerpt_cut_inside_a_secret_shows_none_of_it(text):
    shown = excerpt(text)
    assert SECRET[:4] not in shown
    assert shown.endswith(f"({len(text):,} characters)") and "…" in shown


def test_excerpts_of_structures_hide_secret_keys_and_stay_short():
    value = {"user": "bob", "password": SECRET, "rows": list(range(10_000)), "n": 10**10_000}
    shown = excerpt(value)
    assert SECRET not in shown and "'password': '***'" in shown
    assert len(shown) <= EXCERPT_CHARS + 20 and shown.endswith("(4 items)")
    assert excerpt({"n": 10**10_000}) == "{'n': <an integer of about 10,001 digits>}"
    assert excerpt(b"\x00" * 9) == "<9 bytes>"


def test_problems_are_bounded_and_redacted_when_made():
    ref = RowRef("mwaa_task", (("task_id", "k" * 300),))
    message = "y" * 350_000 + f" password={SECRET}"
    problem = Problem(ref, "x" * 1000, ProblemCode.WRONG_TYPE, message)
    assert len(problem.message) <= MAX_MESSAGE_CHARS
    assert problem.message.endswith(f"… ({len(message):,} characters in all)")
    assert len(str(problem)) < PROBLEM_CHARS and len(json.dumps(problem.to_dict())) < PROBLEM_CHARS
    short = Problem(ref, "f", ProblemCode.WRONG_TYPE, f"bad: postgres://u:{SECRET}@h")
    assert short.message == "bad: postgres://***@h"


# ---- secrets never reach a DAG file ---------------------------------------------------------

SQL = {"conn_id": "redshift_default", "sql": "x"}
SECRET_CASES = [
    ("task-params", [task("1", task_params=SQL | {"password": SECRET})],
     [job("1", "1")], [], "mwaa_task", "task_params.password"),
    ("nested-task-params",
     [task("1", task_params=SQL | {"parameters": {"a": [{"apiKey": SECRET}]}})],
     [job("1", "1")], [], "mwaa_task", "task_params.parameters.a[0].apiKey"),
    ("json-text-task-params",
     [task("1", task_params=json.dumps(SQL | {"parameters": {"token": SECRET}}))],
     [job("1", "1")], [], "mwaa_task", "task_params.parameters.token"),
    ("uri-in-sql", [task("1", task_params={"conn_id": "redshift_default", "sql": f"COPY x FROM 'mysql://u:{SECRET}@h'"})],
     [job("1", "1")], [], "mwaa_task", "task_params.sql"),
    ("job-params", [task("1")], [job("1", "1", job_params={"webhook": SECRET})], [],
     "mwaa_job", "job_params.webhook"),
    ("job-task-configs", [task("1")],
     [job("1", "1", job_task_configs={"1": {"credentials": {"k": SECRET}}})], [],
     "mwaa_job", "job_task_configs.1.credentials"),
    ("job-description-uri", [task("1")],
     [job("1", "1", job_params={"description": f"see https://a:{SECRET}@h/x"})], [],
     "mwaa_job", "job_params.description"),
    ("scheduler-conf", [task("1")], [job("1", "1")],
     [scheduler("1", "1", schedule_job_configs={"1": {"conf": {"db_password": SECRET}}})],
     "mwaa_scheduler", "schedule_job_configs.1.conf.db_password"),
    ("scheduler-params", [task("1")], [job("1", "1")],
     [scheduler("1", "1", schedule_params={"schedule": "@daily", "Authorization": SECRET})],
     "mwaa_scheduler", "schedule_params.Authorization"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("tasks", "jobs", "schedulers", "table", "field"),
    [case[1:] for case in SECRET_CASES],
    ids=[case[0] for case in SECRET_CASES],
)
def test_secrets_in_rows_are_refused_with_a_hint(tasks, jobs, schedulers, table, field):
    # GIVEN a secret in a row, beside a healthy job
    result = compile_rows([*tasks, task("2")], [*jobs, job("2", "2", name="bystander")], schedulers)

    # THEN the row is refused: table, key and attribute named, the secret not quoted
    (problem,) = [p for p in result.problems if p.code == ProblemCode.SECRET_IN_ROW]
    assert (problem.ref.table, problem.field) == (table, field)
    assert "Airflow connection" in problem.message and "Secrets Manager" in problem.message
    assert all(SECRET not in str(p) for p in result.problems)
    # AND no file holds it; the unrelated job still compiles
    assert all(SECRET not in (dag.source or "") for dag in result.dags.values())
    assert result.dags["job-bystander"].ok


def test_doc_md_and_the_file_agree_on_every_parameter():
    params = {"bash_command": "echo $REGION ", "env": {"REGION": "eu-west-1"}}
    rows = {"mwaa_task": [task("1", "t", task_type="BASH", task_params=params)]}
    rows["mwaa_job"] = [job("1", "1")]
    config = CompilerConfig(allow_bash=True)
    source = compile_dags(snapshot_from_json(rows), config=config).dags["job-job_1"].source
    assert source is not None and 'env={"REGION": "eu-west-1"}' in source
    doc = next(
        ast.literal_eval(kw.value)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        for kw in node.keywords
        if kw.arg == "doc_md"
    )
    assert '"env": {"REGION": "eu-west-1"}' in doc and "***" not in doc
