"""Runs an existing Glue job by name and waits for it deferrably.

`waiter_delay` and `waiter_max_attempts` need apache-airflow-providers-amazon ≥ 9.10.0:
the providers Airflow 2.10 and 2.11 ship by default reject them.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from lambda_compiler.params import check_allowed, policy
from lambda_compiler.task_types._shared import (
    AWS_DEFAULT_CONN,
    AwsConnId,
    Operator,
    TaskParams,
    TaskType,
    WaiterAttempts,
    WaiterDelay,
    allowed_conn,
    code_allowed,
    comma_items,
    default_conn_allowed,
)

_GLUE_CODE_ARGUMENTS = frozenset(
    {
        "--scriptLocation",
        "--extra-py-files",
        "--extra-jars",
        "--extra-files",
        "--additional-python-modules",
        "--python-modules-installer-option",
    }
)
"""Glue special parameters that replace the job's script or add code to it."""


class GlueParams(TaskParams):
    """`GLUE`: run an existing Glue job by name."""

    job_name: Annotated[str, Field(min_length=1, max_length=255)]
    """the Glue job"""
    script_args: dict[str, str] | None = None
    """job arguments; keys start with `--`, values are strings"""
    run_job_kwargs: dict[str, Any] | None = None
    """extra `StartJobRun` arguments (`WorkerType`, `NumberOfWorkers`, `Timeout`, ...)"""
    aws_conn_id: AwsConnId | None = None
    """AWS connection"""
    waiter_delay: WaiterDelay | None = None
    """seconds between status checks (amazon provider ≥ 9.10.0)"""
    waiter_max_attempts: WaiterAttempts | None = None
    """status checks before giving up (amazon provider ≥ 9.10.0)"""

    _conn = field_validator("aws_conn_id")(allowed_conn)

    @field_validator("job_name")
    @classmethod
    def _allowed_job(cls, value: str, info: ValidationInfo) -> str:
        return check_allowed(policy(info).glue_jobs, "Glue job", value)

    @field_validator("script_args")
    @classmethod
    def _dashed_keys(
        cls, value: dict[str, str] | None, info: ValidationInfo
    ) -> dict[str, str] | None:
        arguments = value or {}
        bad = sorted(key for key in arguments if not key.startswith("--"))
        if bad:
            raise ValueError(f"Glue job arguments start with '--' (like '--day'); got {bad}")
        for key in sorted(_GLUE_CODE_ARGUMENTS & arguments.keys()):
            code_allowed(policy(info), f"code location ({key})", comma_items(arguments[key]))
        return value

    @model_validator(mode="after")
    def _default_conn(self, info: ValidationInfo) -> GlueParams:
        if self.aws_conn_id is None:
            default_conn_allowed(policy(info), "aws_conn_id", AWS_DEFAULT_CONN)
        return self


_GLUE_OPERATOR = Operator(
    "airflow.providers.amazon.aws.operators.glue", "GlueJobOperator", "glue.py.j2"
)

TASK_TYPE = TaskType(
    "GLUE",
    GlueParams,
    lambda _: _GLUE_OPERATOR,
    operators=(_GLUE_OPERATOR,),
    runs_where="AWS Glue + triggerer",
    examples=(
        {
            "task_id": "101",
            "task_name": "ingest_clickstream",
            "task_type": "GLUE",
            "status": 1,
            "task_params": {
                "job_name": "clickstream-raw-to-parquet",
                "script_args": {
                    "--day": "{{ ds }}",
                    "--target": "s3://analytics-lake/clickstream/",
                },
            },
        },
    ),
    defaults={
        "aws_conn_id": f"`{AWS_DEFAULT_CONN}`",
        "waiter_delay": "operator default (60 s)",
        "waiter_max_attempts": "operator default",
    },
)
