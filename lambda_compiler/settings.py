"""Deployment settings, parsed once from environment variables by the entry points.

`VARIABLES` lists every ``DYNADAG_*`` variable with its default and meaning; the
defaults below are read from it, the table at the end of this docstring and the
README's "Environment variables" are generated from it (`python -m
lambda_compiler.settings --readme README.md` rewrites the README's table).

`DYNADAG_AIRFLOW_VERSION` and the policy variables are the `CompilerConfig`
(``lambda_compiler/config.py``, whose allowlists hold their defaults): the Airflow
release compiled for and the deployment's policy for what rows may reach. The
`ALLOWED` lists are comma-separated ``fnmatch`` patterns (S3 entries are prefixes
ending in ``/``); unset or empty means the default, ``*`` means any. The defaults are
Airflow's default connections plus the names the bundled examples use, so set them
for production. Rows outside the policy get a ``not-allowed`` problem naming the
variable. See ``docs/task-types.md`` and the README's "Security policy" for why.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from lambda_compiler.config import (
    CONN_IDS,
    DEFAULT_CONFIG,
    GLUE_JOBS,
    IAM_ROLE_ARNS,
    REDSHIFT_SECRET_ARNS,
    S3_CODE_PREFIXES,
    SLACK_CONN_IDS,
    Allowlist,
    CompilerConfig,
    ConfigError,
)
from lambda_compiler.generated import with_block, write
from lambda_compiler.snapshot import TableNames
from lambda_compiler.targets import DEFAULT_TARGET

N = TypeVar("N", int, float)


@dataclass(frozen=True)
class Variable:
    """One ``DYNADAG_*`` environment variable.

    `default` is the value used when the variable is unset; None means there is none
    (`required`: the entry points refuse to start without it).
    """

    name: str
    default: str | None
    meaning: str
    required: bool = False

    @property
    def shown_default(self) -> str:
        """The default as the tables show it."""
        if self.required:
            return "(required)"
        return f"`{self.default}`" if self.default else "(none)"


def _policy(allowlist: Allowlist, meaning: str) -> Variable:
    return Variable(allowlist.variable, ",".join(allowlist.patterns), meaning)


VARIABLES: tuple[Variable, ...] = (
    Variable("DYNADAG_BUCKET", None, "the MWAA dags bucket", required=True),
    Variable("DYNADAG_DAGS_PREFIX", "dags/", "where DAG files go in the bucket"),
    Variable("DYNADAG_TASK_TABLE", "mwaa_task", "task table"),
    Variable("DYNADAG_JOB_TABLE", "mwaa_job", "job table"),
    Variable("DYNADAG_SCHEDULER_TABLE", "mwaa_scheduler", "scheduler table"),
    Variable(
        "DYNADAG_JOB_ID_INDEX",
        "job_id-index",
        "GSI of the job table on `job_id`; empty: scan instead",
    ),
    Variable(
        "DYNADAG_REGISTRY_TABLE", "dynadag_registry", "one item per DAG, plus the reverse index"
    ),
    Variable(
        "DYNADAG_RUN_HISTORY_TABLE", "dynadag_run_history", "task tries recorded by `dags_runtime`"
    ),
    Variable("DYNADAG_ALERT_TOPIC_ARN", None, "SNS topic for compile alerts"),
    Variable(
        "DYNADAG_WORK_QUEUE_URL",
        None,
        "SQS work queue of the fan-out (rebuilds, large stream changes); none: built in place",
    ),
    Variable(
        "DYNADAG_OFFLOAD_ABOVE",
        "200",
        "a stream batch affecting more job/scheduler rows than this hands them to the queue",
    ),
    Variable(
        "DYNADAG_BATCH_ROWS",
        "50",
        "rows per work item (one worker batch); a scheduler counts 1 + the jobs it lists",
    ),
    Variable(
        "DYNADAG_S3_WRITES_PER_SECOND",
        "50",
        "S3 puts/deletes per second per worker (total: this times concurrency); 0: no cap",
    ),
    Variable(
        "DYNADAG_MAX_RECEIVES",
        "3",
        "receives of a work item before it is counted failed (the queue's maxReceiveCount)",
    ),
    Variable(
        "DYNADAG_REBUILD_DEADLINE_SECONDS",
        "3300",
        "a deploy-time rebuild not finished by then answers CloudFormation FAILED",
    ),
    Variable(
        "DYNADAG_AIRFLOW_VERSION",
        DEFAULT_TARGET.version,
        "the MWAA environment's Airflow release (major.minor) the DAG files are for",
    ),
    Variable(
        "DYNADAG_PYTHON_MODULE_PREFIXES", None, "modules `PYTHON` tasks may call (`etl,ops.jobs`)"
    ),
    Variable("DYNADAG_ALLOW_BASH", "false", "`true` lets `BASH` tasks run shell commands"),
    Variable(
        "DYNADAG_ALLOW_SQL_SECRETS_JINJA",
        "false",
        "`true` lets row Jinja read `conn`, `var`, `ti`...",
    ),
    _policy(CONN_IDS, "`conn_id`, `aws_conn_id` (also when left to the default)"),
    _policy(SLACK_CONN_IDS, "`alerts.slack_conn_id`"),
    _policy(IAM_ROLE_ARNS, "EMR `execution_role_arn`"),
    _policy(S3_CODE_PREFIXES, "EMR/Glue scripts and code (prefixes)"),
    _policy(GLUE_JOBS, "Glue `job_name`"),
    _policy(REDSHIFT_SECRET_ARNS, "Redshift Data API `secret_arn`"),
)
"""Every variable dynadag's Lambda functions and CLI read for a deployment, in table order."""

DEFAULTS: Mapping[str, str | None] = {v.name: v.default for v in VARIABLES}


def variables_table() -> str:
    """`VARIABLES` as a Markdown table (the README's and this module's)."""
    lines = ["| variable | default | meaning |", "| --- | --- | --- |"]
    lines += [f"| `{v.name}` | {v.shown_default} | {v.meaning} |" for v in VARIABLES]
    return "\n".join(lines) + "\n"


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
    fanout: FanoutSettings = field(default_factory=lambda: FanoutSettings())

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from `environ` (default: the process environment)."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str:
            return env.get(name, DEFAULTS[name] or "")

        bucket = get("DYNADAG_BUCKET").strip()
        if not bucket:
            raise SettingsError("DYNADAG_BUCKET is not set: name the MWAA dags bucket")
        prefix = get("DYNADAG_DAGS_PREFIX").strip().lstrip("/")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return cls(
            bucket=bucket,
            tables=TableNames(
                task=get("DYNADAG_TASK_TABLE"),
                job=get("DYNADAG_JOB_TABLE"),
                scheduler=get("DYNADAG_SCHEDULER_TABLE"),
            ),
            job_id_index=get("DYNADAG_JOB_ID_INDEX").strip() or None,
            registry_table=get("DYNADAG_REGISTRY_TABLE"),
            run_history_table=get("DYNADAG_RUN_HISTORY_TABLE"),
            dags_prefix=prefix,
            alert_topic_arn=get("DYNADAG_ALERT_TOPIC_ARN").strip() or None,
            compiler=_compiler_config(env),
            fanout=FanoutSettings(
                queue_url=get("DYNADAG_WORK_QUEUE_URL").strip() or None,
                offload_above=_number(get, "DYNADAG_OFFLOAD_ABOVE", int),
                batch_rows=max(_number(get, "DYNADAG_BATCH_ROWS", int), 1),
                s3_writes_per_second=_number(get, "DYNADAG_S3_WRITES_PER_SECOND", float),
                max_receives=max(_number(get, "DYNADAG_MAX_RECEIVES", int), 1),
                deadline_seconds=_number(get, "DYNADAG_REBUILD_DEADLINE_SECONDS", int),
            ),
        )


@dataclass(frozen=True)
class FanoutSettings:
    """The fan-out's queue and bounds (`lambda_compiler.fanout`)."""

    queue_url: str | None = None
    offload_above: int = 200
    batch_rows: int = 50
    s3_writes_per_second: float = 50.0
    max_receives: int = 3
    deadline_seconds: int = 3300


def _number(get: Callable[[str], str], name: str, kind: Callable[[str], N]) -> N:
    text = get(name).strip() or DEFAULTS[name] or "0"
    try:
        value = kind(text)
    except ValueError:
        raise SettingsError(f"{name}={text!r} is not a number") from None
    if value < 0:
        raise SettingsError(f"{name}={text!r} must not be negative")
    return value


def _compiler_config(env: Mapping[str, str]) -> CompilerConfig:
    try:
        return CompilerConfig.from_env(env)
    except ConfigError as exc:
        raise SettingsError(str(exc)) from None


__doc__ = f"{__doc__}\n{variables_table()}"  # ends with the generated table


def readme_with_table(readme: str) -> str:
    """`readme` with the text between its environment-variables markers regenerated."""
    return with_block(readme, "environment variables", variables_table())


def main(argv: list[str] | None = None) -> int:
    """Print the variables table, or rewrite it in a README (``--readme README.md``)."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--readme", type=Path, help="rewrite the table in this file")
    args = parser.parse_args(argv)
    if args.readme is None:
        sys.stdout.write(variables_table())
        return 0
    write(args.readme, readme_with_table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
