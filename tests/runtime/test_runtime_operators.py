"""Each task type becomes its provider operator with exactly the row's parameters (on the
loaded DAG), and the AWS types submit their work and then wait deferrably (against moto)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from lambda_compiler.compiler import compile_dags
from lambda_compiler.snapshot import snapshot_from_json
from tests.airflow.dagbag import load_dagbag, write_dags
from tests.rowkit import allow_any
from tests.runtime import callables

pytestmark = pytest.mark.airflow

CONFIG = allow_any(python_module_prefixes=("tests.runtime",), allow_bash=True)
ROLE = "arn:aws:iam::123456789012:role/jobs"
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:redshift-AbCdEf"
PARAMS: dict[str, tuple[str, dict[str, Any]]] = {
    "sql_task": (
        "SQL",
        {"conn_id": "crm", "sql": "DELETE FROM t;", "autocommit": False, "database": "crm"},
    ),
    "redshift_connection": ("REDSHIFT-SQL", {"sql": ["SELECT 1;", "SELECT 2;"]}),
    "redshift_data_api": (
        "REDSHIFT-SQL",
        {
            "sql": ["DELETE FROM s WHERE d = '{{ ds }}'", "INSERT INTO s SELECT 1"],
            "workgroup_name": "analytics",
            "database": "dev",
            "secret_arn": SECRET,
            "poll_interval": 5,
        },
    ),
    "python_task": (
        "PYTHON",
        {
            "python_callable": "tests.runtime.callables.write_marker",
            "op_kwargs": {"path": "/tmp/x", "text": "{{ ds }}"},
        },
    ),
    "bash_task": (
        "BASH",
        {"bash_command": "echo $X", "env": {"X": "1"}, "append_env": True, "cwd": "/tmp"},
    ),
    "spark_task": (
        "EMR-SERVERLESS-SPARK",
        {
            "application_id": "app-1",
            "execution_role_arn": ROLE,
            "entry_point": "s3://code/job.py",
            "entry_point_arguments": ["--day", "{{ ds }}"],
            "spark_submit_parameters": "--conf spark.executor.cores=2",
            "configuration_overrides": {"monitoringConfiguration": {}},
            "name": "nightly",
            "aws_conn_id": "aws_jobs",
            "waiter_delay": 30,
            "waiter_max_attempts": 120,
        },
    ),
    "glue_task": (
        "GLUE",
        {
            "job_name": "compaction",
            "script_args": {"--day": "{{ ds }}"},
            "run_job_kwargs": {"NumberOfWorkers": 4, "WorkerType": "G.1X"},
            "waiter_delay": 15,
        },
    ),
}


def _rows(params: dict[str, tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    tasks = [
        {"task_id": str(i), "task_name": name, "task_type": kind, "task_params": p, "status": 1}
        for i, (name, (kind, p)) in enumerate(params.items(), start=1)
    ]
    listed = ",".join(task["task_id"] for task in tasks)
    return {
        "mwaa_task": tasks,
        "mwaa_job": [{"job_type": "t", "job_id": "1", "job_name": "types", "task_list": listed}],
    }


@pytest.fixture(scope="module")
def loaded_dag(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("dags")
    write_dags(compile_dags(snapshot_from_json(_rows(PARAMS)), config=CONFIG), folder)
    return load_dagbag(folder).dags["job-types"]


def test_sql_types_get_the_common_sql_operator_with_the_row_values(loaded_dag):
    sql = loaded_dag.get_task("sql_task")
    assert type(sql).__name__ == "SQLExecuteQueryOperator"
    assert (sql.conn_id, sql.sql, sql.autocommit, sql.database) == (
        "crm",
        "DELETE FROM t;",
        False,
        "crm",
    )
    assert sql.split_statements is True and sql.parameters is None
    redshift = loaded_dag.get_task("redshift_connection")
    assert type(redshift).__name__ == "SQLExecuteQueryOperator"
    assert redshift.conn_id == "redshift_default" and redshift.sql == ["SELECT 1;", "SELECT 2;"]
    assert redshift.autocommit is True


def test_redshift_data_api_statements_run_as_one_batch_deferrably(loaded_dag):
    op = loaded_dag.get_task("redshift_data_api")
    assert type(op).__name__ == "RedshiftDataOperator"
    given = PARAMS["redshift_data_api"][1]
    assert op.sql == given["sql"] and isinstance(op.sql, list)
    assert (op.workgroup_name, op.database, op.secret_arn, op.poll_interval) == (
        "analytics",
        "dev",
        SECRET,
        5,
    )
    assert op.cluster_identifier is None and op.db_user is None
    assert op.deferrable is True and op.wait_for_completion is True


def test_python_and_bash_get_the_callable_and_command_from_the_row(loaded_dag):
    python = loaded_dag.get_task("python_task")
    assert type(python).__name__ == "PythonOperator"
    assert python.python_callable is callables.write_marker
    assert python.op_kwargs == {"path": "/tmp/x", "text": "{{ ds }}"} and not python.op_args
    bash = loaded_dag.get_task("bash_task")
    assert type(bash).__name__ == "BashOperator"
    assert (bash.bash_command, bash.env, bash.append_env, bash.cwd) == (
        "echo $X",
        {"X": "1"},
        True,
        "/tmp",
    )


def test_emr_serverless_spark_gets_its_job_driver_and_waits_deferrably(loaded_dag):
    op = loaded_dag.get_task("spark_task")
    assert type(op).__name__ == "EmrServerlessStartJobOperator"
    assert (op.application_id, op.execution_role_arn, op.name, op.aws_conn_id) == (
        "app-1",
        ROLE,
        "nightly",
        "aws_jobs",
    )
    assert op.job_driver == {
        "sparkSubmit": {
            "entryPoint": "s3://code/job.py",
            "entryPointArguments": ["--day", "{{ ds }}"],
            "sparkSubmitParameters": "--conf spark.executor.cores=2",
        }
    }
    assert op.configuration_overrides == {"monitoringConfiguration": {}}
    assert (op.waiter_delay, op.waiter_max_attempts) == (30, 120)
    assert op.deferrable is True and op.wait_for_completion is True


def test_glue_gets_the_job_name_and_arguments_and_waits_deferrably(loaded_dag):
    op = loaded_dag.get_task("glue_task")
    assert type(op).__name__ == "GlueJobOperator"
    assert op.job_name == "compaction" and op.script_args == {"--day": "{{ ds }}"}
    assert op.run_job_kwargs == {"NumberOfWorkers": 4, "WorkerType": "G.1X"}
    assert op.waiter_delay == 15 and op.aws_conn_id == "aws_default"
    assert op.deferrable is True and op.wait_for_completion is True


class _TaskInstance(SimpleNamespace):
    """Just what the AWS operators read from ``context["ti"]`` before they defer."""

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = value


@pytest.mark.moto
def test_aws_types_submit_to_aws_then_defer(aws_for_airflow, tmp_path):
    from airflow.providers.common.compat.sdk import TaskDeferred

    # GIVEN an EMR Serverless application and a Glue job on the moto server
    emr = aws_for_airflow.client("emr-serverless")
    app = emr.create_application(name="spark", releaseLabel="emr-7.0.0", type="SPARK")
    glue = aws_for_airflow.client("glue")
    command = {"Name": "glueetl", "ScriptLocation": "s3://code/compact.py"}
    glue.create_job(Name="compaction", Role=ROLE, Command=command)
    spark = {**PARAMS["spark_task"][1], "application_id": app["applicationId"]}
    spark["aws_conn_id"] = "aws_default"
    params = {
        "spark": ("EMR-SERVERLESS-SPARK", spark),
        "glue": ("GLUE", {"job_name": "compaction", "script_args": {"--day": "2024-05-01"}}),
        "data_api": ("REDSHIFT-SQL", {"sql": "SELECT 1", "workgroup_name": "wg1", "database": "d"}),
    }
    folder = tmp_path / "dags"
    folder.mkdir()
    write_dags(compile_dags(snapshot_from_json(_rows(params)), config=CONFIG), folder)
    dag = load_dagbag(folder).dags["job-types"]

    # WHEN each AWS task executes
    triggers = {}
    for task_id in params:
        ti = _TaskInstance(
            dag_id=dag.dag_id, task_id=task_id, run_id="r1", map_index=-1, try_number=1, xcoms={}
        )
        with pytest.raises(TaskDeferred) as deferred:
            dag.get_task(task_id).execute({"ti": ti})
        triggers[task_id] = type(deferred.value.trigger).__name__

    # THEN each submitted its work to AWS and handed the wait to the triggerer
    assert triggers == {
        "spark": "EmrServerlessStartJobTrigger",
        "glue": "GlueJobCompleteTrigger",
        "data_api": "RedshiftDataTrigger",
    }
    (job_run,) = emr.list_job_runs(applicationId=app["applicationId"])["jobRuns"]
    assert job_run["name"] == "nightly" and job_run["executionRole"] == ROLE
    (glue_run,) = glue.get_job_runs(JobName="compaction")["JobRuns"]
    assert glue_run["Arguments"]["--day"] == "2024-05-01"
