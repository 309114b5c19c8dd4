"""Task-type parameters: each type's schema, the deployment's opt-ins, and clear problems."""

from __future__ import annotations

from typing import Any

import pytest

from lambda_compiler.compiler import CompileResult, compile_dags
from lambda_compiler.config import CompilerConfig, ConfigError
from lambda_compiler.problems import ProblemCode
from lambda_compiler.snapshot import snapshot_from_json
from tests.rowkit import allow_any, job, task

ALLOWING = allow_any(python_module_prefixes=("etl", "ops.jobs"), allow_bash=True)
ROLE = "arn:aws:iam::123456789012:role/jobs"
EMR = {"application_id": "app", "execution_role_arn": ROLE, "entry_point": "s3://c/j.py"}


def compile_with(
    tasks: list[dict[str, Any]], jobs: list[dict[str, Any]], config: CompilerConfig = ALLOWING
) -> CompileResult:
    rows = {"mwaa_task": tasks, "mwaa_job": jobs}
    return compile_dags(snapshot_from_json(rows), config=config)


# (case id, task_type, task_params, config, field, words in the message)
BAD_PARAMS = [
    ("python-not-enabled", "PYTHON", {"python_callable": "etl.load.run"}, CompilerConfig(),
     "task_params.python_callable", "PYTHON tasks are disabled: no module prefixes are configured"),
    ("python-outside-prefixes", "PYTHON", {"python_callable": "os.system"}, ALLOWING,
     "task_params.python_callable", "module 'os' is not under an allowed prefix (etl, ops.jobs)"),
    ("python-prefix-is-a-module-boundary", "PYTHON", {"python_callable": "etl_other.run"},
     ALLOWING, "task_params.python_callable", "module 'etl_other' is not under an allowed prefix"),
    ("python-not-a-dotted-path", "PYTHON", {"python_callable": "etl.load.run()"}, ALLOWING,
     "task_params.python_callable", "is not a dotted path like 'package.module.function'"),
    ("python-private-name", "PYTHON", {"python_callable": "etl.load._secret"}, ALLOWING,
     "task_params.python_callable", "'_secret' is private"),
    ("python-kwargs-not-a-map", "PYTHON", {"python_callable": "etl.run", "op_kwargs": [1]},
     ALLOWING, "task_params.op_kwargs", "valid dictionary"),
    ("bash-not-enabled", "BASH", {"bash_command": "echo hi"}, CompilerConfig(),
     "task_params.bash_command", "BASH tasks are disabled in this deployment"),
    ("bash-script-name", "BASH", {"bash_command": "/opt/run.sh"}, ALLOWING,
     "task_params.bash_command", "read by Airflow as a template file name"),
    ("bash-env-not-strings", "BASH", {"bash_command": "env", "env": {"N": 1}}, ALLOWING,
     "task_params.env.N", "valid string"),
    ("emr-role-not-an-arn", "EMR-SERVERLESS-SPARK", {**EMR, "execution_role_arn": "jobs"},
     ALLOWING, "task_params.execution_role_arn", "should match pattern"),
    ("emr-no-entry-point", "EMR-SERVERLESS-SPARK", {"application_id": "a",
     "execution_role_arn": ROLE}, ALLOWING, "task_params.entry_point", "is required"),
    ("emr-typo", "EMR-SERVERLESS-SPARK", {**EMR, "entrypoint_arguments": []}, ALLOWING,
     "task_params.entrypoint_arguments", "is not a known parameter; known: application_id"),
    ("glue-argument-without-dashes", "GLUE", {"job_name": "j", "script_args": {"day": "1"}},
     ALLOWING, "task_params.script_args", "Glue job arguments start with '--'"),
    ("glue-argument-not-a-string", "GLUE", {"job_name": "j", "script_args": {"--n": 3}},
     ALLOWING, "task_params.script_args.--n", "valid string"),
    ("glue-waiter-delay-zero", "GLUE", {"job_name": "j", "waiter_delay": 0}, ALLOWING,
     "task_params.waiter_delay", "greater than or equal to 1"),
    ("sql-without-connection", "SQL", {"sql": "SELECT 1"}, ALLOWING,
     "task_params.conn_id", "is required"),
    ("sql-empty-statement", "SQL", {"conn_id": "c", "sql": ["SELECT 1", ""]}, ALLOWING,
     "task_params.sql", "(got a list with a blank or non-string item)"),
    ("data-api-without-database", "REDSHIFT-SQL", {"sql": "SELECT 1", "workgroup_name": "wg"},
     ALLOWING, "task_params", "database is required with workgroup_name or cluster_identifier"),
    ("data-api-several-statements-in-one-string", "REDSHIFT-SQL",
     {"sql": "DELETE FROM t; INSERT INTO t SELECT 1;", "workgroup_name": "wg", "database": "d"},
     ALLOWING, "task_params", "give sql as a list of statements"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("task_type", "params", "config", "field", "words"),
    [case[1:] for case in BAD_PARAMS],
    ids=[case[0] for case in BAD_PARAMS],
)
def test_bad_parameters_name_the_task_row_and_field(task_type, params, config, field, words):
    result = compile_with(
        [task("5", "t", task_type=task_type, task_params=params)], [job("1", "5")], config
    )
    (problem,) = result.problems
    assert (problem.ref.table, problem.ref.key_text) == ("mwaa_task", "task_id='5'")
    assert problem.field == field and problem.code is ProblemCode.INVALID_TASK_PARAMS
    assert words in problem.message
    assert result.dags["job-job_1"].source is None


def test_a_rejected_python_task_leaves_other_jobs_alone():
    tasks = [
        task("1", "ok"),
        task("2", "bad", task_type="PYTHON", task_params={"python_callable": "os.system"}),
    ]
    result = compile_with(tasks, [job("1", "1", name="good"), job("2", "2", name="bad")])
    assert result.dags["job-good"].ok and not result.dags["job-bad"].ok


def test_python_callables_are_imported_under_names_that_clash_with_nothing():
    # GIVEN two callables called `run` from different modules, one task named like a callable
    tasks = [
        task("1", "run", task_type="PYTHON", task_params={"python_callable": "etl.a.run"}),
        task("2", "b", task_type="PYTHON", task_params={"python_callable": "etl.b.run"}),
        task("3", "c", task_type="PYTHON", task_params={"python_callable": "ops.jobs.DAG"}),
        task("4", "d", task_type="PYTHON", task_params={"python_callable": "etl.TaskGroup"}),
        task("5", "e", task_type="PYTHON", task_params={"python_callable": "etl.PythonOperator"}),
    ]
    job_row = job("1", "1,2,3,4,5", job_task_configs={"1": {"task_group": "g"}})
    source = compile_with(tasks, [job_row]).dags["job-job_1"].source
    # THEN each gets its own name and every task refers to its own callable
    assert "from etl.a import run as run_2\n" in source
    assert "from etl.b import run as run_3\n" in source
    assert "from ops.jobs import DAG as DAG_2\n" in source
    assert "run = PythonOperator(" in source and "python_callable=run_2," in source
    assert "python_callable=run_3," in source and "python_callable=DAG_2," in source
    assert (
        "from etl import PythonOperator as PythonOperator_2, TaskGroup as TaskGroup_2\n" in source
    )


def test_the_import_allowlist_widens_only_to_the_configured_prefixes():
    from lambda_compiler.safety import UnsafeSourceError, check_source

    check_source("from etl.jobs import load\n", import_prefixes=("etl",))
    with pytest.raises(UnsafeSourceError, match="import from 'etl_other' is not allowed"):
        check_source("from etl_other import load\n", import_prefixes=("etl",))
    with pytest.raises(UnsafeSourceError, match=r"import from 'etl\.jobs' is not allowed"):
        check_source("from etl.jobs import load\n")


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, CompilerConfig()),
        (
            {
                "DYNADAG_PYTHON_MODULE_PREFIXES": " etl , ops.jobs,,etl",
                "DYNADAG_ALLOW_BASH": "true",
            },
            CompilerConfig(python_module_prefixes=("etl", "ops.jobs"), allow_bash=True),
        ),
        ({"DYNADAG_ALLOW_BASH": "0"}, CompilerConfig()),
    ],
)
def test_compiler_config_comes_from_the_environment(environ, expected):
    assert CompilerConfig.from_env(environ) == expected


@pytest.mark.parametrize(
    ("environ", "words"),
    [
        ({"DYNADAG_PYTHON_MODULE_PREFIXES": "etl,os.path/.."}, "DYNADAG_PYTHON_MODULE_PREFIXES"),
        ({"DYNADAG_ALLOW_BASH": "maybe"}, "DYNADAG_ALLOW_BASH must be true or false"),
    ],
)
def test_a_malformed_compiler_setting_names_the_variable(environ, words):
    with pytest.raises(ConfigError, match=words):
        CompilerConfig.from_env(environ)
