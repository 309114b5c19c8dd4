"""Task types: one closed parameter schema and one operator template per `task_type`.

Adding a task type means writing one template in ``dag_templates/tasks/`` and one
`TaskType` entry in `TASK_TYPES` below; nothing else changes. The operator's
import comes from the entry, never from a row. Schemas that depend on what the
deployment allows (`PYTHON`, `BASH`, and the connections, roles, jobs, secrets and
code locations a row names) read the `CompilerConfig` from the pydantic validation
context under the key ``"config"`` (`params.policy`).
"""

from __future__ import annotations

import keyword
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    Field,
    PlainValidator,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from lambda_compiler.config import CompilerConfig
from lambda_compiler.params import StrictModel, check_allowed, policy, refuse

NonEmpty = Annotated[str, Field(min_length=1)]
AwsConnId = Annotated[str, Field(min_length=1, max_length=250)]
WaiterDelay = Annotated[int, Field(ge=1, le=3600)]
WaiterAttempts = Annotated[int, Field(ge=1, le=100000)]


def _sql(value: Any) -> str | list[str]:
    """A SQL string, or a non-empty list of them; nothing blank."""
    if isinstance(value, str):
        if value.strip():
            return value
        got = "a blank string"
    elif isinstance(value, list):
        if value and all(isinstance(item, str) and item.strip() for item in value):
            return value
        got = "an empty list" if not value else "a list with a blank or non-string item"
    else:
        got = type(value).__name__
    raise ValueError(f"must be a SQL string or a non-empty list of SQL strings (got {got})")


_SQL_TEXT = {"type": "string", "pattern": r"\S"}
Sql = Annotated[
    str | list[str],
    PlainValidator(_sql),
    WithJsonSchema({"anyOf": [_SQL_TEXT, {"type": "array", "minItems": 1, "items": _SQL_TEXT}]}),
]
_CALLABLE_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


@dataclass(frozen=True)
class Operator:
    """The operator class a task renders to, and the template of its arguments.

    `module` is None for an operator whose module depends on the Airflow release (the
    target's capability table names it). `extra_import` is a ``(module, name)`` the
    arguments refer to (the `PYTHON` callable); the compiler imports it under a name
    that clashes with nothing.
    """

    module: str | None
    class_name: str
    template: str
    extra_import: tuple[str, str] | None = None


@dataclass(frozen=True)
class TaskType:
    """A `task_type` value: its parameter schema and how parameters pick an operator."""

    name: str
    params: type[StrictModel]
    operator: Callable[[Any], Operator]
    summary: str


def _allowed_conn(value: str | None, info: ValidationInfo) -> str | None:
    """A connection id the deployment allows (``DYNADAG_ALLOWED_CONN_IDS``)."""
    if value is None:
        return None
    return check_allowed(policy(info).conn_ids, "connection", value)


def _default_conn_allowed(config: CompilerConfig, field: str, default: str) -> None:
    """A row that leaves `field` out uses Airflow's `default` connection: it needs allowing too."""
    refusal = config.conn_ids.refusal("connection", default)
    if refusal:
        raise refuse(f"{field} is not given, so the default {refusal}")


def _code_allowed(config: CompilerConfig, what: str, locations: list[str]) -> None:
    """Each code location must lie under ``DYNADAG_ALLOWED_S3_CODE_PREFIXES``."""
    for location in locations:
        check_allowed(config.s3_code_prefixes, what, location)


def _items(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


class SqlParams(StrictModel):
    """`SQL`: statements run over any Airflow SQL connection."""

    conn_id: NonEmpty
    sql: Sql
    autocommit: bool = True
    split_statements: bool = True
    parameters: dict[str, Any] | list[Any] | None = None
    database: NonEmpty | None = None

    _conn = field_validator("conn_id")(_allowed_conn)


REDSHIFT_DEFAULT_CONN = "redshift_default"
"""The connection a `REDSHIFT-SQL` task without `conn_id` uses (as `tasks/sql.py.j2` writes)."""


class RedshiftSqlParams(StrictModel):
    """`REDSHIFT-SQL`: the original's ``{"sql": ...}``, over a connection or the Data API.

    Naming ``workgroup_name`` (Redshift Serverless) or ``cluster_identifier`` selects
    the Redshift Data API; otherwise the SQL runs over the Airflow connection
    ``conn_id`` (default ``redshift_default``).
    """

    sql: Sql
    conn_id: NonEmpty | None = None
    autocommit: bool = True
    split_statements: bool = True
    parameters: dict[str, Any] | list[Any] | None = None
    database: NonEmpty | None = None
    workgroup_name: NonEmpty | None = None
    cluster_identifier: NonEmpty | None = None
    secret_arn: Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:secretsmanager:")] | None = None
    db_user: NonEmpty | None = None
    aws_conn_id: NonEmpty | None = None
    poll_interval: Annotated[int, Field(ge=1, le=3600)] | None = None

    _conns = field_validator("conn_id", "aws_conn_id")(_allowed_conn)

    @field_validator("secret_arn")
    @classmethod
    def _allowed_secret(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        return check_allowed(policy(info).redshift_secret_arns, "secret", value)

    @property
    def uses_data_api(self) -> bool:
        return self.workgroup_name is not None or self.cluster_identifier is not None

    @model_validator(mode="after")
    def _default_conn(self, info: ValidationInfo) -> RedshiftSqlParams:
        if self.uses_data_api and self.aws_conn_id is None:
            _default_conn_allowed(policy(info), "aws_conn_id", "aws_default")
        elif not self.uses_data_api and self.conn_id is None:
            _default_conn_allowed(policy(info), "conn_id", REDSHIFT_DEFAULT_CONN)
        return self

    @model_validator(mode="after")
    def _one_mode(self) -> RedshiftSqlParams:
        if self.workgroup_name and self.cluster_identifier:
            raise ValueError("give workgroup_name or cluster_identifier, not both")
        if self.uses_data_api:
            if self.conn_id is not None:
                raise ValueError("conn_id cannot be combined with the Data API parameters")
            if self.database is None:
                raise ValueError("database is required with workgroup_name or cluster_identifier")
            if isinstance(self.sql, str) and ";" in self.sql.strip().rstrip(";"):
                raise ValueError(
                    "the Data API runs one statement per string: give sql as a list of "
                    "statements (they run in one transaction, with BatchExecuteStatement)"
                )
        else:
            data_api_only = ("secret_arn", "db_user", "aws_conn_id", "poll_interval")
            given = [name for name in data_api_only if getattr(self, name) is not None]
            if given:
                raise ValueError(
                    f"{', '.join(given)} need workgroup_name or cluster_identifier (Data API)"
                )
        return self


class PythonParams(StrictModel):
    """`PYTHON`: a callable by dotted path, from a module the deployment allows."""

    python_callable: NonEmpty
    op_args: list[Any] | None = None
    op_kwargs: dict[str, Any] | None = None

    @field_validator("python_callable")
    @classmethod
    def _allowed_callable(cls, value: str, info: ValidationInfo) -> str:
        if not _CALLABLE_PATH.match(value) or any(
            keyword.iskeyword(part) for part in value.split(".")
        ):
            raise ValueError(f"{value!r} is not a dotted path like 'package.module.function'")
        module = value.rpartition(".")[0]
        private = [part for part in value.split(".") if part.startswith("_")]
        if private:
            raise ValueError(f"{private[0]!r} is private (starts with '_')")
        config = policy(info)
        if not config.python_module_prefixes:
            raise ValueError(
                "PYTHON tasks are disabled: no module prefixes are configured "
                "(DYNADAG_PYTHON_MODULE_PREFIXES)"
            )
        if not config.allows_module(module):
            allowed = ", ".join(config.python_module_prefixes)
            raise ValueError(f"module {module!r} is not under an allowed prefix ({allowed})")
        return value

    @property
    def module(self) -> str:
        return self.python_callable.rpartition(".")[0]

    @property
    def function(self) -> str:
        return self.python_callable.rpartition(".")[2]


class BashParams(StrictModel):
    """`BASH`: a shell command; only when the deployment enables it."""

    bash_command: NonEmpty
    env: dict[str, str] | None = None
    append_env: bool = False
    cwd: NonEmpty | None = None

    @field_validator("bash_command")
    @classmethod
    def _enabled(cls, value: str, info: ValidationInfo) -> str:
        if not policy(info).allow_bash:
            raise ValueError("BASH tasks are disabled in this deployment (DYNADAG_ALLOW_BASH)")
        if value.endswith((".sh", ".bash")):
            raise ValueError(
                "a command ending in .sh or .bash is read by Airflow as a template file name; "
                "run it as 'bash /path/to/script.sh' followed by a space"
            )
        return value


class EmrServerlessSparkParams(StrictModel):
    """`EMR-SERVERLESS-SPARK`: one Spark job run on an EMR Serverless application."""

    application_id: NonEmpty
    execution_role_arn: Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/\S+$")]
    entry_point: NonEmpty
    entry_point_arguments: list[str] | None = None
    spark_submit_parameters: NonEmpty | None = None
    configuration_overrides: dict[str, Any] | None = None
    name: NonEmpty | None = None
    aws_conn_id: AwsConnId | None = None
    waiter_delay: WaiterDelay | None = None
    waiter_max_attempts: WaiterAttempts | None = None

    _conn = field_validator("aws_conn_id")(_allowed_conn)

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
            _code_allowed(policy(info), "code location", locations)
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
                    _code_allowed(policy(info), f"code location ({key})", _items(setting))
        return value

    @model_validator(mode="after")
    def _default_conn(self, info: ValidationInfo) -> EmrServerlessSparkParams:
        if self.aws_conn_id is None:
            _default_conn_allowed(policy(info), "aws_conn_id", "aws_default")
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


def _spark_code_locations(words: list[str]) -> list[str]:
    """What ``--jars``, ``--py-files``... and their ``--conf spark.*`` forms load as code."""
    locations: list[str] = []
    for word, following in zip(words, [*words[1:], ""], strict=True):
        option, equals, inline = word.partition("=")
        value = inline if equals else following
        if option in _SPARK_CODE_OPTIONS:
            locations += _items(value)
        elif option in ("--conf", "-c"):
            key, _, setting = value.partition("=")
            if key.strip() in _SPARK_CODE_CONFS:
                locations += _items(setting)
    return locations


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


class GlueParams(StrictModel):
    """`GLUE`: run an existing Glue job by name."""

    job_name: Annotated[str, Field(min_length=1, max_length=255)]
    script_args: dict[str, str] | None = None
    run_job_kwargs: dict[str, Any] | None = None
    aws_conn_id: AwsConnId | None = None
    waiter_delay: WaiterDelay | None = None
    waiter_max_attempts: WaiterAttempts | None = None

    _conn = field_validator("aws_conn_id")(_allowed_conn)

    @field_validator("job_name")
    @classmethod
    def _allowed_job(cls, value: str, info: ValidationInfo) -> str:
        return check_allowed(policy(info).glue_jobs, "Glue job", value)

    @field_validator("script_args")
    @classmethod
    def _dashed_keys(
        cls, value: dict[str, str] | None, info: ValidationInfo
    ) -> dict[str, str] | None:
        bad = sorted(key for key in value or {} if not key.startswith("--"))
        if bad:
            raise ValueError(f"Glue job arguments start with '--' (like '--day'); got {bad}")
        for key in sorted(_GLUE_CODE_ARGUMENTS & (value or {}).keys()):
            _code_allowed(policy(info), f"code location ({key})", _items(value[key]))
        return value

    @model_validator(mode="after")
    def _default_conn(self, info: ValidationInfo) -> GlueParams:
        if self.aws_conn_id is None:
            _default_conn_allowed(policy(info), "aws_conn_id", "aws_default")
        return self


_SQL_OPERATOR = Operator(
    "airflow.providers.common.sql.operators.sql", "SQLExecuteQueryOperator", "sql.py.j2"
)
_REDSHIFT_DATA_OPERATOR = Operator(
    "airflow.providers.amazon.aws.operators.redshift_data",
    "RedshiftDataOperator",
    "redshift_data.py.j2",
)
_BASH_OPERATOR = Operator(None, "BashOperator", "bash.py.j2")
_EMR_SERVERLESS_OPERATOR = Operator(
    "airflow.providers.amazon.aws.operators.emr",
    "EmrServerlessStartJobOperator",
    "emr_serverless_spark.py.j2",
)
_GLUE_OPERATOR = Operator(
    "airflow.providers.amazon.aws.operators.glue", "GlueJobOperator", "glue.py.j2"
)


def _redshift_operator(params: RedshiftSqlParams) -> Operator:
    return _REDSHIFT_DATA_OPERATOR if params.uses_data_api else _SQL_OPERATOR


def _python_operator(params: PythonParams) -> Operator:
    return Operator(
        None,
        "PythonOperator",
        "python.py.j2",
        extra_import=(params.module, params.function),
    )


TASK_TYPES: dict[str, TaskType] = {
    spec.name: spec
    for spec in (
        TaskType(
            "REDSHIFT-SQL",
            RedshiftSqlParams,
            _redshift_operator,
            "SQL on Amazon Redshift, over an Airflow connection or the Redshift Data API",
        ),
        TaskType("SQL", SqlParams, lambda _: _SQL_OPERATOR, "SQL over any Airflow connection"),
        TaskType(
            "PYTHON",
            PythonParams,
            _python_operator,
            "a Python callable from a module the deployment allows",
        ),
        TaskType(
            "BASH",
            BashParams,
            lambda _: _BASH_OPERATOR,
            "a shell command, when the deployment enables BASH",
        ),
        TaskType(
            "EMR-SERVERLESS-SPARK",
            EmrServerlessSparkParams,
            lambda _: _EMR_SERVERLESS_OPERATOR,
            "a Spark job run on EMR Serverless, waited for without a worker slot",
        ),
        TaskType(
            "GLUE",
            GlueParams,
            lambda _: _GLUE_OPERATOR,
            "a Glue job run by name, waited for without a worker slot",
        ),
    )
}
