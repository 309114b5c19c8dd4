"""Rows written for the original solution compile to the same DAG ids and structure."""

from __future__ import annotations

import ast

from lambda_compiler.compiler import compile_dags
from lambda_compiler.snapshot import snapshot_from_json
from tests.rowkit import compile_rows, job, scheduler, task


def _calls(source: str, name: str) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == name
    ]


def _literal(node: ast.expr) -> object:
    """The literal value of `node`; dict entries that are not literals (callbacks) are left out."""
    if isinstance(node, ast.Dict):
        pairs = [(k, v) for k, v in zip(node.keys, node.values, strict=True) if k is not None]
        return {ast.literal_eval(k): _literal(v) for k, v in pairs if _is_literal(v)}
    return ast.literal_eval(node)


def _is_literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except ValueError:
        return isinstance(node, ast.Dict)
    return True


def _kwargs(call: ast.Call) -> dict[str, object]:
    return {kw.arg: _literal(kw.value) for kw in call.keywords if _is_literal(kw.value)}


def _edges(source: str) -> set[tuple[str, str]]:
    edges = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.RShift):
            targets = node.right.elts if isinstance(node.right, ast.List) else [node.right]
            edges.update((node.left.id, t.id) for t in targets)
    return edges


def test_pid_is_the_upstream_task():
    result = compile_rows(
        [task("1", "load"), task("2", "extract")],
        [job("1", "1,2", job_task_dependencies='[{"task_id":"1","pid":"2"}]')],
    )
    assert _edges(result.dags["job-job_1"].source) == {("extract", "load")}


def test_no_upstream_spellings():
    deps = [
        {"task_id": "1", "pid": ""},
        {"task_id": "2", "pid": None},
        {"task_id": "3", "pid": 0},
        {"task_id": "4", "pid": "0"},
    ]
    result = compile_rows(
        [task(i) for i in "1234"], [job("1", "1,2,3,4", job_task_dependencies=deps)]
    )
    assert result.dags["job-job_1"].ok
    assert _edges(result.dags["job-job_1"].source) == set()


def test_string_zero_is_a_real_task_when_task_zero_is_listed():
    result = compile_rows(
        [task("0", "first"), task("1", "second")],
        [job("1", "0,1", job_task_dependencies=[{"task_id": "1", "pid": "0"}])],
    )
    assert _edges(result.dags["job-job_1"].source) == {("first", "second")}


def test_task_list_absent_takes_tasks_from_dependencies():
    result = compile_rows(
        [task("1", "a"), task("2", "b")],
        [job("1", None, job_task_dependencies='[{"task_id":"2","pid":"1"}]') | {"task_list": None}],
    )
    source = result.dags["job-job_1"].source
    assert [_kwargs(c)["task_id"] for c in _calls(source, "SQLExecuteQueryOperator")] == ["a", "b"]


def test_task_list_as_list_and_numeric_ids():
    result = compile_rows([task(7, "seven"), task("8", "eight")], [job(3, [7, "8"])])
    assert "job-job_3" in result.dags and result.dags["job-job_3"].ok


def test_dynamodb_typed_json_rows():
    data = {
        "mwaa_task": [
            {
                "task_id": {"N": "1"},
                "task_name": {"S": "t"},
                "task_type": {"S": "SQL"},
                "task_params": {
                    "M": {"conn_id": {"S": "redshift_default"}, "sql": {"S": "SELECT 1"}}
                },
                "status": {"N": "1"},
            }
        ],
        "mwaa_job": {
            "Items": [
                {
                    "job_type": {"S": "etl"},
                    "job_id": {"S": "1"},
                    "job_name": {"S": "typed"},
                    "task_list": {"L": [{"N": "1"}]},
                    "status": {"N": "1"},
                }
            ]
        },
    }
    result = compile_dags(snapshot_from_json(data))
    assert result.dags["job-typed"].ok


def test_status_missing_means_enabled_and_zero_means_no_dag():
    result = compile_rows(
        [task("1")],
        [job("1", "1", name="on") | {"status": None}, job("2", "1", name="off", status=0)],
    )
    assert "job-on" in result.dags
    assert "job-off" not in result.dags
    assert [ref.key_text for ref in result.disabled] == ["job_type='etl', job_id='2'"]


def test_disabled_task_is_an_error_for_that_job_only():
    result = compile_rows(
        [task("1"), task("2", status="0")],
        [job("1", "1,2", name="uses_off"), job("2", "1", name="fine")],
    )
    assert not result.dags["job-uses_off"].ok
    assert result.dags["job-fine"].ok


def test_scheduler_resolves_bare_and_qualified_job_ids():
    result = compile_rows(
        [task("1")],
        [job("1", "1", name="a"), job("2", "1", name="b") | {"job_type": "ml"}],
        [scheduler("1", "1, ml:2", schedule_job_dependencies='[{"job_id":"ml:2","pid":"1"}]')],
    )
    source = result.dags["schedule-sched_1"].source
    triggers = [_kwargs(c)["trigger_dag_id"] for c in _calls(source, "TriggerDagRunOperator")]
    assert triggers == ["job-a", "job-b"]
    assert _edges(source) == {("job_a", "job_b")}


def test_non_english_names_fall_back_to_key_ids_with_display_names():
    result = compile_rows(
        [task("1", "清洗数据")],
        [job("1", "1", name="每日销售")],
        [scheduler("1", "1", name="每天")],
    )
    job_source = result.dags["job-etl-1"].source
    assert _kwargs(_calls(job_source, "DAG")[0])["dag_display_name"] == "每日销售"
    operator = _kwargs(_calls(job_source, "SQLExecuteQueryOperator")[0])
    assert operator["task_id"] == "task-1" and operator["task_display_name"] == "清洗数据"
    assert _kwargs(_calls(result.dags["schedule-1"].source, "DAG")[0])["dag_display_name"] == "每天"


def test_schedule_interval_is_trimmed_and_schedule_is_accepted():
    result = compile_rows(
        [task("1")],
        [job("1", "1")],
        [
            scheduler("1", "1", name="a", schedule_params='{"schedule_interval":"0 0 12 * * "}'),
            scheduler("2", "1", name="b", schedule_params={"schedule": "@daily"}),
            scheduler("3", "1", name="c", schedule_params={"schedule_interval": None}),
        ],
    )
    sources = {dag_id: r.source for dag_id, r in result.dags.items() if r.kind == "scheduler"}
    # Airflow 2 semantics by default: a data-interval timetable, as the original had.
    assert (
        'schedule=CronDataIntervalTimetable("0 0 12 * *", timezone="UTC"),' in sources["schedule-a"]
    )
    assert 'schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),' in sources["schedule-b"]
    assert _kwargs(_calls(sources["schedule-c"], "DAG")[0])["schedule"] is None


def test_scheduler_fixes_of_the_original():
    result = compile_rows(
        [task("1")],
        [job("1", "1"), job("2", "1")],
        [
            scheduler(
                "1",
                "1,2",
                schedule_job_dependencies=[{"job_id": "2", "pid": "1"}],
                schedule_job_configs={"2": {"conf": {"region": "eu"}}},
            )
        ],
    )
    source = result.dags["schedule-sched_1"].source
    dag_args = _kwargs(_calls(source, "DAG")[0])
    assert dag_args["is_paused_upon_creation"] is False
    first, second = (_kwargs(c) for c in _calls(source, "TriggerDagRunOperator"))
    for trigger in (first, second):
        assert trigger["wait_for_completion"] is True and trigger["deferrable"] is True
        # A cleared or backfilled scheduler run reruns its own job run (and only its own).
        assert trigger["reset_dag_run"] is True
        assert trigger["logical_date"].startswith("{{ (logical_date or dag_run.run_after) + ")
        assert trigger["trigger_run_id"] == "schedule-sched_1__{{ run_id }}"
        # Airflow's defaults on every target release ("failed" fails the wait) are not repeated.
        assert not {"allowed_states", "failed_states", "poke_interval"} & trigger.keys()
    assert "conf" not in first and second["conf"] == {"region": "eu"}
    job_args = _kwargs(_calls(result.dags["job-job_1"].source, "DAG")[0])
    assert job_args["schedule"] is None and job_args["is_paused_upon_creation"] is False
    assert job_args["max_active_runs"] == 1
    # A job DAG only runs when triggered: no start date or catch-up applies.
    assert not {"start_date", "catchup"} & job_args.keys()


def test_job_params_and_task_configs_reach_the_operators():
    result = compile_rows(
        [task("1", "a"), task("2", "b")],
        [
            job(
                "1",
                "1,2",
                job_params={"retries": 2, "max_active_runs": 3, "tags": ["fin"]},
                job_task_configs=[
                    {
                        "task_id": "2",
                        "pool": "redshift",
                        "trigger_rule": "all_done",
                        "priority_weight": 5,
                        "queue": "q",
                    }
                ],
            )
        ],
    )
    source = result.dags["job-job_1"].source
    dag_args = _kwargs(_calls(source, "DAG")[0])
    assert dag_args["default_args"] == {"retries": 2}
    assert dag_args["max_active_runs"] == 3 and dag_args["tags"] == ["dynadag", "job", "fin"]
    b = _kwargs(_calls(source, "SQLExecuteQueryOperator")[1])
    assert (b["pool"], b["trigger_rule"], b["priority_weight"], b["queue"]) == (
        "redshift",
        "all_done",
        5,
        "q",
    )


def test_run_ids_given_to_jobs_are_unique_per_scheduler_and_fit_airflows_limit():
    from lambda_compiler.context import run_id_prefix

    long_a, long_b = "schedule-" + "a" * 240, "schedule-" + "a" * 239 + "b"
    assert run_id_prefix("schedule-daily") == "schedule-daily"
    assert run_id_prefix(long_a) != run_id_prefix(long_b)
    longest_run_id = "scheduled__2024-01-01T00:00:00.000000+00:00"
    assert len(f"{run_id_prefix(long_a)}__{longest_run_id}") <= 250
