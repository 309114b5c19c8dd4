"""Job- and scheduler-level features: task groups, assets, doc_md, alerts and deadlines."""

from __future__ import annotations

import ast

import pytest

from lambda_compiler.problems import ProblemCode
from tests.rowkit import compile_rows, job, scheduler, task

CONN = "redshift_default"


def _call(source: str, name: str) -> ast.Call:
    return next(
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == name
    )


def _keyword(call: ast.Call, name: str) -> ast.expr:
    return next(kw.value for kw in call.keywords if kw.arg == name)


def test_tasks_sit_in_their_named_groups_and_edges_use_group_ids():
    result = compile_rows(
        [task("1", "extract"), task("2", "load"), task("3", "report")],
        [
            job(
                "1",
                "1,2,3",
                job_task_dependencies=[{"task_id": "2", "pid": "1"}, {"task_id": "3", "pid": "2"}],
                job_task_configs={"1": {"task_group": "ingest"}, "2": {"task_group": "ingest"}},
            )
        ],
    )
    source = result.dags["job-job_1"].source
    group = next(
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.With) and "TaskGroup" in ast.unparse(node.items[0])
    )
    assert ast.unparse(group.items[0].context_expr) == "TaskGroup(group_id='ingest')"
    assert [stmt.targets[0].id for stmt in group.body] == ["extract", "load"]
    assert "extract >> load >> report\n" in source
    assert '"ingest.extract": "mwaa_task[task_id=\'1\']"' in source


@pytest.mark.parametrize(
    ("configs", "field", "words"),
    [
        ({"1": {"task_group": "in gest"}}, "job_task_configs.1.task_group", "should match"),
        ({"1": {"task_group": "b"}}, "job_task_configs", "task group 'b' has the same id as task"),
        ({"1": {"outlets": ["airflow://x"]}}, "job_task_configs.1.outlets.0", "reserved"),
    ],
)
def test_bad_groups_and_outlets_are_problems_of_the_job_row(configs, field, words):
    result = compile_rows(
        [task("1", "a"), task("2", "b")], [job("1", "1,2", job_task_configs=configs)]
    )
    (problem,) = result.problems
    assert problem.ref.table == "mwaa_job" and problem.field == field
    assert words in problem.message


def test_outlets_and_asset_schedules_become_airflow_assets():
    result = compile_rows(
        [task("1", "publish")],
        [job("1", "1", job_task_configs={"1": {"outlets": ["s3://lake/sales", "sales_ready"]}})],
        [scheduler("1", "1", schedule_params={"schedule_assets": ["s3://lake/sales"]})],
    )
    job_source = result.dags["job-job_1"].source
    assert 'outlets=[Asset("s3://lake/sales"), Asset("sales_ready")],' in job_source
    sched_source = result.dags["schedule-sched_1"].source
    assert ast.unparse(_keyword(_call(sched_source, "DAG"), "schedule")) == (
        "[Asset('s3://lake/sales')]"
    )


def test_an_asset_schedule_and_a_time_schedule_are_exclusive():
    result = compile_rows(
        [task("1")],
        [job("1", "1")],
        [
            scheduler(
                "1", "1", schedule_params={"schedule_interval": "@daily", "schedule_assets": ["a"]}
            )
        ],
    )
    (problem,) = result.problems
    assert problem.ref.table == "mwaa_scheduler" and problem.field == "schedule_params"
    assert "give schedule_assets or a time schedule" in problem.message


def test_doc_md_describes_each_task_as_the_file_holds_it():
    tasks = [
        task("1", "a", task_params={"conn_id": CONN, "sql": "SELECT 1", "parameters": {"d": 1}}),
        task("2", "b", task_type="SQL", task_params={"conn_id": CONN, "sql": "SELECT\n  2"}),
    ]  # fmt: skip
    result = compile_rows(tasks, [job("1", "1,2", job_params={"description": "Sales mart"})])
    doc = ast.literal_eval(_keyword(_call(result.dags["job-job_1"].source, "DAG"), "doc_md"))
    assert doc.startswith("### job-job_1\n\nSales mart\n\n")
    assert "- `a` (SQL, mwaa_task[task_id='1']): " in doc and '"sql": "SELECT 2"' in doc
    assert '"parameters": {"d": 1}' in doc and "***" not in doc


def test_alerts_timeouts_and_deadline_reach_the_dag():
    params = {
        "execution_timeout": 600,
        "dagrun_timeout": 3600,
        "run_history_table": "team_history",
        "alerts": {"on_success": True, "max_per_run": 3, "deadline": 1800},
    }
    source = compile_rows([task("1")], [job("1", "1", job_params=params)]).dags["job-job_1"].source
    callbacks = _call(source, "DagCallbacks")
    assert ast.literal_eval(_keyword(callbacks, "alerts")) == {
        "max_per_run": 3,
        "on_failure": True,
        "on_retry": False,
        "on_success": True,
    }
    assert ast.literal_eval(_keyword(callbacks, "run_history_table")) == "team_history"
    dag = _call(source, "DAG")
    assert ast.unparse(_keyword(dag, "dagrun_timeout")) == "datetime.timedelta(hours=1)"
    default_args = ast.unparse(_keyword(dag, "default_args"))
    assert "'execution_timeout': datetime.timedelta(minutes=10)" in default_args
    assert "'on_failure_callback': callbacks.on_failure" in default_args
    deadline = ast.unparse(_keyword(dag, "deadline"))
    assert "reference=DeadlineReference.DAGRUN_QUEUED_AT" in deadline
    assert "interval=datetime.timedelta(minutes=30)" in deadline
    assert "AsyncCallback('dags_runtime.deadlines.deadline_missed'" in deadline


@pytest.mark.parametrize(
    ("alerts", "field"),
    [
        ({"sns_topic_arn": "my-topic"}, "job_params.alerts.sns_topic_arn"),
        ({"on_falure": True}, "job_params.alerts.on_falure"),
        ({"max_per_run": 0}, "job_params.alerts.max_per_run"),
    ],
)
def test_bad_alert_settings_name_the_attribute_path(alerts, field):
    result = compile_rows([task("1")], [job("1", "1", job_params={"alerts": alerts})])
    (problem,) = result.problems
    assert problem.field == field and problem.code is ProblemCode.INVALID_PARAMS


def test_a_tag_longer_than_airflow_allows_is_a_problem_not_a_broken_file():
    result = compile_rows([task("1")], [job("1", "1", job_params={"tags": ["t" * 101]})])
    (problem,) = result.dags["job-job_1"].problems
    assert problem.field == "job_params.tags.0"
    assert "at most 100 characters" in problem.message
    assert (
        compile_rows([task("1")], [job("1", "1", job_params={"tags": ["t" * 100]})]).problems == []
    )
