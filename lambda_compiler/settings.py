"""Deployment settings, parsed once from environment variables by the entry points.

| variable | default | meaning |
| --- | --- | --- |
| `DYNADAG_TASK_TABLE` | `mwaa_task` | task table |
| `DYNADAG_JOB_TABLE` | `mwaa_job` | job table |
| `DYNADAG_SCHEDULER_TABLE` | `mwaa_scheduler` | scheduler table |
| `DYNADAG_JOB_ID_INDEX` | `job_id-index` | GSI of the job table on `job_id`; empty: scan instead |
| `DYNADAG_REGISTRY_TABLE` | `dynadag_registry` | one item per DAG, plus the reverse index |
| `DYNADAG_RUN_HISTORY_TABLE` | `dynadag_run_history` | task tries recorded by `dags_runtime` |
| `DYNADAG_BUCKET` | (required) | the MWAA dags bucket |
| `DYNADAG_DAGS_PREFIX` | `dags/` | where DAG files go in the bucket |
| `DYNADAG_ALERT_TOPIC_ARN` | (none) | SNS topic for compile alerts |
| `DYNADAG_PYTHON_MODULE_PREFIXES` | (none) | modules `PYTHON` tasks may call (`etl,ops.jobs`) |
| `DYNADAG_ALLOW_BASH` | `false` | `true` lets `BASH` tasks run shell commands |
| `DYNADAG_AIRFLOW_VERSION` | `3.3` | the MWAA environment's Airflow release the DAG files are for |
| `DYNADAG_ALLOW_SQL_SECRETS_JINJA` | `false` | `true` lets row Jinja read `conn`, `var`, `ti`... |
| `DYNADAG_ALLOWED_CONN_IDS` | (1) | `conn_id`, `aws_conn_id` (also when left to the default) |
| `DYNADAG_ALLOWED_SLACK_CONN_IDS` | `slack_data_alerts` | `alerts.slack_conn_id` |
| `DYNADAG_ALLOWED_IAM_ROLE_ARNS` | (2) | EMR `execution_role_arn` |
| `DYNADAG_ALLOWED_S3_CODE_PREFIXES` | `s3://analytics-code/spark/` | EMR/Glue scripts and code |
| `DYNADAG_ALLOWED_GLUE_JOBS` | `clickstream-raw-to-parquet` | Glue `job_name` |
| `DYNADAG_ALLOWED_REDSHIFT_SECRET_ARNS` | (3) | Redshift Data API `secret_arn` |

(1) `redshift_default,aws_default,crm_postgres,reporting_postgres`;
(2) `arn:aws:iam::123456789012:role/emr-serverless-jobs`;
(3) `arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift-etl-*`.

`DYNADAG_AIRFLOW_VERSION` and the last nine are the `CompilerConfig`
(``lambda_compiler/config.py``): the Airflow release compiled for and the deployment's
policy for what rows may reach. The `ALLOWED` lists are comma-separated ``fnmatch``
patterns (S3 entries are prefixes ending in ``/``); unset or empty means the default,
``*`` means any. The defaults are Airflow's default connections plus the names the
bundled examples use, so set them for production. Rows outside the policy get a
``not-allowed`` problem naming the variable. See ``docs/task-types.md`` and the
README's "Security policy" for why.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from lambda_compiler.config import DEFAULT_CONFIG, CompilerConfig, ConfigError
from lambda_compiler.snapshot import TableNames


class SettingsError(ValueError):
    """A required setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Where dynadag reads rows and writes DAGs."""

    bucket: str
    tables: TableNames = field(default_factory=TableNames)
    job_id_index: str | None = "job_id-index"
    registry_table: str = "dynadag_registry"
    run_history_table: str = "dynadag_run_history"
    dags_prefix: str = "dags/"
    alert_topic_arn: str | None = None
    compiler: CompilerConfig = DEFAULT_CONFIG

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from `environ` (default: the process environment)."""
        env = os.environ if environ is None else environ
        bucket = env.get("DYNADAG_BUCKET", "").strip()
        if not bucket:
            raise SettingsError("DYNADAG_BUCKET is not set: name the MWAA dags bucket")
        prefix = env.get("DYNADAG_DAGS_PREFIX", "dags/").strip().lstrip("/")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return cls(
            bucket=bucket,
            tables=TableNames(
                task=env.get("DYNADAG_TASK_TABLE", "mwaa_task"),
                job=env.get("DYNADAG_JOB_TABLE", "mwaa_job"),
                scheduler=env.get("DYNADAG_SCHEDULER_TABLE", "mwaa_scheduler"),
            ),
            job_id_index=env.get("DYNADAG_JOB_ID_INDEX", "job_id-index").strip() or None,
            registry_table=env.get("DYNADAG_REGISTRY_TABLE", "dynadag_registry"),
            run_history_table=env.get("DYNADAG_RUN_HISTORY_TABLE", "dynadag_run_history"),
            dags_prefix=prefix,
            alert_topic_arn=env.get("DYNADAG_ALERT_TOPIC_ARN", "").strip() or None,
            compiler=_compiler_config(env),
        )


def _compiler_config(env: Mapping[str, str]) -> CompilerConfig:
    try:
        return CompilerConfig.from_env(env)
    except ConfigError as exc:
        raise SettingsError(str(exc)) from None
