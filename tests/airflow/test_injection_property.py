"""Arbitrary strings in any string attribute: a clear problem, or a safe file that round-trips.

Values include quotes, triple quotes, backslashes, newlines, Jinja braces, code-looking text,
unicode and NUL. Whatever the compiler writes must compile, pass the AST allowlist and, once
loaded by Airflow, give back exactly the value the row held.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambda_compiler.naming import is_valid_dag_id, is_valid_task_id
from lambda_compiler.safety import check_source
from tests.airflow.dagbag import load_dagbag
from tests.rowkit import allow_any, compile_rows, job, scheduler, task

pytestmark = pytest.mark.airflow

NASTY = st.sampled_from(
    [
        '"""; import os; #',
        "'''",
        "\\",
        "\\n",
        "\n",
        "\r\n",
        "\x00",
        "{{ ds }}",
        "{% raw %}",
        "__import__('os').system('id')",
        '")\nimport os\n("',
        "é",
        "数据",
        "\u2028",
        "\t",
        " ",
        "#",
    ]
)
STRINGS = st.lists(st.one_of(NASTY, st.text(max_size=8)), min_size=1, max_size=6).map("".join)


def _dag(value_rows: dict[str, list[dict]], dag_id_hint: str, tmp_path) -> Any:
    result = compile_rows(
        value_rows.get("tasks", []),
        value_rows.get("jobs", []),
        value_rows.get("schedulers", []),
        # Any value may reach the file here: this is about literals, not the policy.
        config=allow_any(allow_secrets_jinja=True),
    )
    dags = [dag for dag in result.dags.values() if dag.kind == dag_id_hint]
    if not dags:  # the value broke the row's key: reported as an unusable row
        assert result.unparsable
        assert all(p.ref.table.startswith("mwaa_") and p.field for p in result.unparsable)
        return None
    assert len(dags) == 1
    dag = dags[0]
    if not dag.ok:
        for problem in dag.problems:
            # a clear problem: names a table, a key and an attribute
            assert problem.ref.table.startswith("mwaa_") and problem.field and problem.message
        return None
    check_source(dag.source)
    path = tmp_path / f"{dag.dag_id}.py"
    path.write_text(dag.source, encoding="utf-8")
    loaded = load_dagbag(path).dags
    assert list(loaded) == [dag.dag_id]
    return loaded[dag.dag_id]


def _job_with_task(**task_attrs: Any) -> dict[str, list[dict]]:
    return {"tasks": [task("1", "t", **task_attrs)], "jobs": [job("1", "1", name="j")]}


CASES: dict[str, tuple[Callable[[str], dict], str, Callable[[Any, str], bool]]] = {
    "task_params.sql": (
        lambda v: _job_with_task(task_params={"conn_id": "c", "sql": v}),
        "job",
        lambda dag, v: dag.task_dict["t"].sql == v,
    ),
    "task_params.conn_id": (
        lambda v: _job_with_task(task_params={"conn_id": v, "sql": "x"}),
        "job",
        lambda dag, v: dag.task_dict["t"].conn_id == v,
    ),
    "task_name": (
        lambda v: {"tasks": [task("1", v)], "jobs": [job("1", "1", name="j")]},
        "job",
        lambda dag, v: v.strip() in (dag.tasks[0].task_id, dag.tasks[0].task_display_name),
    ),
    "job_name": (
        lambda v: {"tasks": [task("1")], "jobs": [job("1", "1", name=v)]},
        "job",
        lambda dag, v: v.strip() in (dag.dag_display_name, dag.dag_id.removeprefix("job-")),
    ),
    "job_params.description": (
        lambda v: {"tasks": [task("1")], "jobs": [job("1", "1", job_params={"description": v})]},
        "job",
        lambda dag, v: dag.description == (v or None),
    ),
    "job_params.tags": (
        lambda v: {"tasks": [task("1")], "jobs": [job("1", "1", job_params={"tags": [v]})]},
        "job",
        lambda dag, v: v in dag.tags,
    ),
    "job_task_configs.pool": (
        lambda v: {
            "tasks": [task("1", "t")],
            "jobs": [job("1", "1", job_task_configs={"1": {"pool": v}})],
        },
        "job",
        lambda dag, v: dag.task_dict["t"].pool == v,
    ),
    "task_id": (
        lambda v: {"tasks": [task(v, "t")], "jobs": [job("1", [v], name="j")]},
        "job",
        lambda dag, v: dag.task_dict["t"] is not None,
    ),
    "job_type": (
        lambda v: {"tasks": [task("1")], "jobs": [job("1", "1", name="j") | {"job_type": v}]},
        "job",
        lambda dag, v: dag.dag_id == "job-j",
    ),
    "schedule_description": (
        lambda v: {
            "tasks": [task("1")],
            "jobs": [job("1", "1")],
            "schedulers": [scheduler("1", "1", schedule_description=v)],
        },
        "scheduler",
        lambda dag, v: dag.description == (v if v.strip() else None),
    ),
    "schedule_job_configs.conf": (
        lambda v: {
            "tasks": [task("1")],
            "jobs": [job("1", "1")],
            "schedulers": [scheduler("1", "1", schedule_job_configs={"1": {"conf": {v: v}}})],
        },
        "scheduler",
        lambda dag, v: dag.tasks[0].conf == {v: v},
    ),
    "schedule_name": (
        lambda v: {
            "tasks": [task("1")],
            "jobs": [job("1", "1")],
            "schedulers": [scheduler("1", "1", name=v)],
        },
        "scheduler",
        lambda dag, v: v.strip() in (dag.dag_display_name, dag.dag_id.removeprefix("schedule-")),
    ),
}


@pytest.mark.parametrize("attribute", sorted(CASES))
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=STRINGS)
def test_any_string_is_rejected_clearly_or_round_trips(attribute, value, tmp_path):
    build, kind, round_trips = CASES[attribute]
    dag = _dag(build(value), kind, tmp_path)
    if dag is not None:
        assert round_trips(dag, value), f"{attribute}={value!r} did not round-trip"


def test_valid_names_become_ids_and_others_display_names(tmp_path):
    assert is_valid_dag_id("job-daily.sales_v2") and not is_valid_dag_id("job-日次")
    assert is_valid_task_id("load-a_1") and not is_valid_task_id("load a")
