"""Starts one Spark job run on an existing EMR Serverless application and waits for
it deferrably (`wait_for_completion=True, deferrable=True`).

`entry_point`, `entry_point_arguments` and `spark_submit_parameters` become the
operator's `job_driver={"sparkSubmit": {...}}`.
"""

from __future__ import annotations

import shlex
from typing import Annotated, Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from lambda_compiler.params import check_allowed, policy
from lambda_compiler.task_types._shared import (
    AWS_DEFAULT_CONN,
    AwsConnId,
    NonEmpty,
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

_SPARK_CODE_OPTIONS = frozenset(
    {"--jars", "--py-files", "--files", "--archives", "--packages", "--repositories"}
)
_SPARK_CODE_CONFS = frozenset(
    {
        "spark.jars",
        "spark.submit.pyFiles",
        "spark.files",
        "spark.archives",
        "spark.jars.packages",
        "spark.jars.repositories",
        "spark.jars.ivySettings",
    }
)


class EmrServerlessSparkParams(TaskParams):
    """`EMR-SERVERLESS-SPARK`: one Spark job run on an EMR Serverless application."""

    application_id: NonEmpty
    """the EMR Serverless application"""
    execution_role_arn: Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/\S+$")]
    """IAM role of the job run (`arn:aws:iam::<account>:role/...`)"""
    entry_point: NonEmpty
    """script or jar, usually `s3://...`"""
    entry_point_arguments: list[str] | None = None
    """arguments of the entry point"""
    spark_submit_parameters: NonEmpty | None = None
    """e.g. `--conf spark.executor.cores=4`"""
    configuration_overrides: dict[str, Any] | None = None
    """StartJobRun `configurationOverrides` (monitoring, logging)"""
    name: NonEmpty | None = None
    """job run name"""
    aws_conn_id: AwsConnId | None = None
    """AWS connection"""
    waiter_delay: WaiterDelay | None = None
    """seconds between status checks"""
    waiter_max_attempts: WaiterAttempts | None = None
    """status checks before giving up"""

    _conn = field_validator("aws_conn_id")(allowed_conn)

    @field_validator("execution_role_arn")
    @classmethod
    def _allowed_role(cls, value: str, info: ValidationInfo) -> str:
        return check_allowed(policy(info).iam_role_arns, "execution role", value)

    @field_validator("entry_point")
    @classmethod
    def _allowed_entry_point(cls, value: str, info: ValidationInfo) -> str:
        return check_allowed(policy(info).s3_code_prefixes, "entry point", value)

    @field_validator("spark_submit_parameters")
    @classmethod
    def _allowed_spark_code(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            try:
                locations = _spark_code_locations(shlex.split(value))
            except ValueError as exc:
                raise ValueError(f"cannot be split like a command line: {exc}") from None
            code_allowed(policy(info), "code location", locations)
        return value

    @field_validator("configuration_overrides")
    @classmethod
    def _allowed_override_code(
        cls, value: dict[str, Any] | None, info: ValidationInfo
    ) -> dict[str, Any] | None:
        for classification in (value or {}).get("applicationConfiguration") or []:
            properties = (
                classification.get("properties") if isinstance(classification, dict) else None
            )
            for key, setting in (properties or {}).items():
                if key in _SPARK_CODE_CONFS and isinstance(setting, str):
                    code_allowed(policy(info), f"code location ({key})", comma_items(setting))
        return value

    @model_validator(mode="after")
    def _default_conn(self, info: ValidationInfo) -> EmrServerlessSparkParams:
        if self.aws_conn_id is None:
            default_conn_allowed(policy(info), "aws_conn_id", AWS_DEFAULT_CONN)
        return self

    @property
    def job_driver(self) -> dict[str, Any]:
        """The ``jobDriver`` of StartJobRun, from the flat row parameters."""
        submit: dict[str, Any] = {"entryPoint": self.entry_point}
        if self.entry_point_arguments is not None:
            submit["entryPointArguments"] = self.entry_point_arguments
        if self.spark_submit_parameters is not None:
            submit["sparkSubmitParameters"] = self.spark_submit_parameters
        return {"sparkSubmit": submit}


def _spark_code_locations(words: list[str]) -> list[str]:
    """What ``--jars``, ``--py-files``... and their ``--conf spark.*`` forms load as code."""
    locations: list[str] = []
    for word, following in zip(words, [*words[1:], ""], strict=True):
        option, equals, inline = word.partition("=")
        value = inline if equals else following
        if option in _SPARK_CODE_OPTIONS:
            locations += comma_items(value)
        elif option in ("--conf", "-c"):
            key, _, setting = value.partition("=")
            if key.strip() in _SPARK_CODE_CONFS:
                locations += comma_items(setting)
    return locations


_EMR_SERVERLESS_OPERATOR = Operator(
    "airflow.providers.amazon.aws.operators.emr",
    "EmrServerlessStartJobOperator",
    "emr_serverless_spark.py.j2",
)

TASK_TYPE = TaskType(
    "EMR-SERVERLESS-SPARK",
    EmrServerlessSparkParams,
    lambda _: _EMR_SERVERLESS_OPERATOR,
    operators=(_EMR_SERVERLESS_OPERATOR,),
    runs_where="EMR Serverless + triggerer",
    examples=(
        {
            "task_id": "103",
            "task_name": "sessionize",
            "task_type": "EMR-SERVERLESS-SPARK",
            "status": 1,
            "task_params": {
                "application_id": "00fabc1234567890",
                "execution_role_arn": "arn:aws:iam::123456789012:role/emr-serverless-jobs",
                "entry_point": "s3://analytics-code/spark/sessionize.py",
                "entry_point_arguments": ["--day", "{{ ds }}"],
                "spark_submit_parameters": "--conf spark.executor.cores=4 "
                "--conf spark.executor.memory=16g",
            },
        },
    ),
    defaults={
        "name": "operator default",
        "aws_conn_id": f"`{AWS_DEFAULT_CONN}`",
        "waiter_delay": "operator default",
        "waiter_max_attempts": "operator default",
    },
)
