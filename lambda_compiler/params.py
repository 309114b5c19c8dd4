"""Closed schemas for the JSON attributes of job and scheduler rows.

Unknown keys are rejected (a typo like ``retires`` must not be silently ignored),
and every error is reported with its attribute path.
"""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from lambda_compiler.config import DEFAULT_CONFIG, Allowlist, CompilerConfig
from lambda_compiler.redact import excerpt

Seconds = Annotated[float, Field(ge=0)]
Name = Annotated[str, Field(min_length=1, max_length=256)]
Tag = Annotated[str, Field(min_length=1, max_length=100)]  # Airflow's TAG_MAX_LEN
GroupId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_\-]{1,200}$")]


def _not_airflow_scheme(uri: str) -> str:
    if uri.lower().startswith("airflow:"):
        raise ValueError(f"{uri!r}: the 'airflow' URI scheme is reserved by Airflow")
    return uri


AssetRef = Annotated[
    str, Field(min_length=1, max_length=1500, pattern=r"^\S+$"), AfterValidator(_not_airflow_scheme)
]
SnsTopicArn = Annotated[
    str, Field(pattern=r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")
]
TableName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-]{3,255}$")]

TriggerRule = Literal[
    "all_success",
    "all_failed",
    "all_done",
    "all_done_min_one_success",
    "all_skipped",
    "one_success",
    "one_done",
    "one_failed",
    "none_failed",
    "none_failed_min_one_success",
    "none_skipped",
    "always",
]


NOT_ALLOWED = "not_allowed"
"""The pydantic error type of a value the deployment's policy refuses (``not-allowed``)."""


def policy(info: ValidationInfo) -> CompilerConfig:
    """The `CompilerConfig` passed as validation context ``{"config": ...}``, or the default."""
    context = info.context or {}
    return context.get("config") or DEFAULT_CONFIG


def check_allowed(allowlist: Allowlist, what: str, value: str) -> str:
    """`value` when `allowlist` allows it; else a `NOT_ALLOWED` error naming the setting."""
    refusal = allowlist.refusal(what, value)
    if refusal:
        raise refuse(refusal)
    return value


def refuse(message: str) -> PydanticCustomError:
    """A `NOT_ALLOWED` error to raise from a validator; `message` names the setting."""
    return PydanticCustomError(NOT_ALLOWED, message)


class StrictModel(BaseModel):
    """Base for every row schema: unknown keys are errors, instances are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class TaskSettings(StrictModel):
    """Per-task operator settings: job-wide defaults or one task's overrides."""

    retries: Annotated[int, Field(ge=0, le=100)] | None = None
    retry_delay: Seconds | None = None
    execution_timeout: Seconds | None = None
    pool: Name | None = None
    queue: Name | None = None
    trigger_rule: TriggerRule | None = None
    priority_weight: int | None = None

    def operator_kwargs(self) -> dict[str, Any]:
        """The settings that were given, as operator keyword arguments (durations as timedelta)."""
        kwargs = self.model_dump(include=set(TaskSettings.model_fields), exclude_none=True)
        for name in _DURATIONS & kwargs.keys():
            kwargs[name] = datetime.timedelta(seconds=kwargs[name])
        return dict(sorted(kwargs.items()))


_DURATIONS = frozenset({"retry_delay", "execution_timeout"})


class AlertSettings(StrictModel):
    """`alerts`: which task events publish an alert, where to, and how many per run.

    The topic defaults to the Airflow option ``[dynadag] alert_topic_arn`` at run time.
    `deadline` (seconds after the run was queued) adds an Airflow deadline alert.
    """

    on_failure: bool = True
    on_retry: bool = False
    on_success: bool = False
    sns_topic_arn: SnsTopicArn | None = None
    slack_conn_id: Name | None = None
    max_per_run: Annotated[int, Field(ge=1, le=1000)] = 20
    deadline: Annotated[float, Field(gt=0)] | None = None

    @field_validator("slack_conn_id")
    @classmethod
    def _allowed_slack(cls, value: str | None, info: ValidationInfo) -> str | None:
        # The Slack notifier sends the connection's password to its host.
        if value is None:
            return None
        return check_allowed(policy(info).slack_conn_ids, "Slack connection", value)


class DagSettings(TaskSettings):
    """What job and scheduler DAGs share: run limits, tags, task defaults and alerts."""

    max_active_runs: Annotated[int, Field(ge=1, le=1000)] = 1
    tags: list[Tag] = []
    dagrun_timeout: Seconds | None = None
    alerts: AlertSettings = AlertSettings()
    run_history_table: TableName | None = None


class JobParams(DagSettings):
    """`job_params`: DAG-level settings and defaults for every task of the job.

    `original_task_ids` keeps the original solution's task ids (a task group named
    after the task around a task ``execute_redshift_job``), so Airflow's task history
    of a migrated job continues.
    """

    description: str | None = None
    original_task_ids: bool = False


class SchedulerParams(DagSettings):
    """`schedule_params`: when the scheduler runs and how it waits for its jobs."""

    schedule_interval: str | None = None
    schedule: str | None = None
    timezone: str = "UTC"
    start_date: datetime.date = datetime.date(2024, 1, 1)
    catchup: bool = False
    poke_interval: Annotated[int, Field(ge=5, le=86400)] = 60
    schedule_assets: list[AssetRef] = []
    timetable: Literal["data_interval", "trigger"] = "data_interval"

    @model_validator(mode="after")
    def _one_kind_of_schedule(self) -> SchedulerParams:
        if self.schedule_assets and (self.schedule or self.schedule_interval):
            raise ValueError(
                "give schedule_assets or a time schedule (schedule_interval or schedule), not both"
            )
        return self

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone such as 'Europe/Paris'") from None
        return value


class JobTaskConfig(TaskSettings):
    """One entry of `job_task_configs`: a task's overrides, its task group and outlets."""

    task_group: GroupId | None = None
    outlets: list[AssetRef] = []


class SchedulerJobConfig(TaskSettings):
    """One entry of `schedule_job_configs`: the run `conf` and trigger settings for a job."""

    conf: dict[str, Any] = {}


def error_messages(
    exc: ValidationError, prefix: str, model: type[BaseModel]
) -> list[tuple[str, str, bool]]:
    """(attribute path, reason, refused by the policy) in plain words for each pydantic error."""
    messages = []
    for error in exc.errors():
        path = ".".join([prefix, *(str(part) for part in error["loc"])])
        if error["type"] == "extra_forbidden":
            reason = "is not a known parameter"
            if len(error["loc"]) == 1:
                reason += f"; known: {', '.join(sorted(model.model_fields))}"
        elif error["type"] == "missing":
            reason = "is required"
        else:
            reason = error["msg"].removeprefix("Value error, ")
            if "input" in error and error["type"] not in ("value_error", NOT_ALLOWED):
                reason += f" (got {excerpt(error['input'])})"
        messages.append((path, reason, error["type"] == NOT_ALLOWED))
    return messages
