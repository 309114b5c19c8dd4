"""What a generated DAG file says: edges grouped by downstream, no Airflow defaults repeated."""

from __future__ import annotations

import ast
import random

import black
import pytest

from lambda_compiler.context import edge_statements
from lambda_compiler.model import Edge
from lambda_compiler.render import _BLACK_MODE
from tests.rowkit import compile_rows, job, scheduler, task


def _edges(*pairs: str) -> list[Edge]:
    return [Edge(upstream=p[0], downstream=p[1]) for p in pairs]


NAMES = {t: t for t in "abcdef"}


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        (["ab"], ["a >> b"]),
        (["ac", "bc"], ["[a, b] >> c"]),
        (["ab", "ac"], ["a >> [b, c]"]),
        (["ab", "bc", "cd"], ["a >> b >> c >> d"]),
        # c waits for a and b; d and e wait only for c; f only for a.
        (["ac", "bc", "cd", "ce", "af"], ["[a, b] >> c >> [d, e]", "a >> f"]),
        # b and c both wait for a, so the chain stops at the list
        (["ab", "ac", "cd"], ["a >> [b, c]", "c >> d"]),
    ],
)
def test_edges_are_grouped_by_downstream_and_chained(pairs, expected):
    assert edge_statements(_edges(*pairs), NAMES) == [f"    {line}" for line in expected]


def test_edge_order_follows_the_tasks_not_the_rows():
    pairs = ["ac", "bc", "cd", "ce", "af", "be"]
    shuffled = pairs[:]
    random.Random(7).shuffle(shuffled)
    assert edge_statements(_edges(*shuffled), NAMES) == edge_statements(_edges(*pairs), NAMES)
    # e waits for b and c: its own line, placed by e's position
    assert edge_statements(_edges(*pairs), NAMES) == [
        "    [a, b] >> c >> d",
        "    [b, c] >> e",
        "    a >> f",
    ]


@pytest.mark.parametrize("pairs", [["af", "bf", "cf", "df", "ef"], ["af", "ab", "ac", "ad", "ae"]])
def test_long_edge_lines_are_laid_out_as_black_lays_them_out(pairs):
    names = {t: f"{t}_" + "long_task_name" * 2 for t in "abcdef"}
    body = "\n".join(edge_statements(_edges(*pairs), names))
    source = f"with dag:\n{body}\n"
    assert "\n" in body  # exploded, one task per line
    assert black.format_str(source, mode=_BLACK_MODE) == source


def test_a_chain_stops_where_the_line_would_not_fit():
    names = {t: f"{t}_" + "long_task_name" * 2 for t in "abcdef"}
    assert edge_statements(_edges("ab", "bc", "cd"), names) == [
        f"    {names['a']} >> {names['b']}",
        f"    {names['b']} >> {names['c']}",
        f"    {names['c']} >> {names['d']}",
    ]


def test_a_job_file_groups_edges_and_keeps_task_groups():
    result = compile_rows(
        [task("1", "extract"), task("2", "clean"), task("3", "load"), task("4", "report")],
        [
            job(
                "1",
                "1,2,3,4",
                job_task_dependencies=[
                    {"task_id": "3", "pid": "1"},
                    {"task_id": "3", "pid": "2"},
                    {"task_id": "4", "pid": "3"},
                ],
                job_task_configs={"1": {"task_group": "ingest"}, "2": {"task_group": "ingest"}},
            )
        ],
    )
    source = result.dags["job-job_1"].source
    assert source.endswith("\n    [extract, clean] >> load >> report\n")
    assert 'TaskGroup(group_id="ingest")' in source


def test_job_dags_carry_nothing_that_only_applies_to_schedules():
    source = compile_rows([task("1")], [job("1", "1")]).dags["job-job_1"].source
    dag = next(
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "DAG"
    )
    assert {k.arg for k in dag.keywords} >= {"dag_id", "schedule", "max_active_runs"}
    assert not {"start_date", "catchup"} & {k.arg for k in dag.keywords}
    assert "import pendulum" not in source


def test_trigger_arguments_are_written_only_when_they_differ_from_airflow():
    rows = compile_rows(
        [task("1")],
        [job("1", "1"), job("2", "1")],
        [
            scheduler(
                "1",
                "1,2",
                schedule_params={"schedule_interval": "@daily", "poke_interval": 30},
                schedule_job_configs={"2": {"conf": {"region": "eu"}}},
            ),
            scheduler("2", "1", schedule_params={"schedule_interval": "@daily"}),
        ],
    )
    tree = ast.parse(rows.dags["schedule-sched_1"].source)
    triggers = [
        {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg != "logical_date"}
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "TriggerDagRunOperator"
    ]
    assert [t.get("conf") for t in triggers] == [None, {"region": "eu"}]
    assert all(t["poke_interval"] == 30 and t["reset_dag_run"] is True for t in triggers)
    assert not any({"allowed_states", "failed_states"} & t.keys() for t in triggers)
    assert "poke_interval" not in rows.dags["schedule-sched_2"].source
