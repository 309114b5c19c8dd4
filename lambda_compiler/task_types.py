"""Task types: one closed parameter schema and one operator template per `task_type`.

Adding a task type means writing one template in ``dag_templates/tasks/`` and one
`TaskType` entry in `TASK_TYPES` below; nothing else changes. The operator's
import comes from the entry, never from a row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field, model_validator

from lambda_compiler.params import StrictModel

NonEmpty = Annotated[str, Field(min_length=1)]


@dataclass(frozen=True)
class Operator:
    """The operator class a task renders to, and the template of its arguments."""

    module: str
    class_name: str
    template: str


@dataclass(frozen=True)
class TaskType:
    """A `task_type` value: its parameter schema and how parameters pick an operator."""

    name: str
    params: type[StrictModel]
    operator: Callable[[Any], Operator]
    summary: str


class SqlParams(StrictModel):
    """`SQL`: statements run over any Airflow SQL connection."""

    conn_id: NonEmpty
    sql: NonEmpty | list[NonEmpty]
    autocommit: bool = True
    split_statements: bool = True
    parameters: dict[str, Any] | list[Any] | None = None
    database: NonEmpty | None = None


class RedshiftSqlParams(StrictModel):
    """`REDSHIFT-SQL`: the original's ``{"sql": ...}``, over a connection or the Data API.

    Naming ``workgroup_name`` (Redshift Serverless) or ``cluster_identifier`` selects
    the Redshift Data API; otherwise the SQL runs over the Airflow connection
    ``conn_id`` (default ``redshift_default``).
    """

    sql: NonEmpty | list[NonEmpty]
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

    @property
    def uses_data_api(self) -> bool:
        return self.workgroup_name is not None or self.cluster_identifier is not None

    @model_validator(mode="after")
    def _one_mode(self) -> RedshiftSqlParams:
        if self.workgroup_name and self.cluster_identifier:
            raise ValueError("give workgroup_name or cluster_identifier, not both")
        if self.uses_data_api:
            if self.conn_id is not None:
                raise ValueError("conn_id cannot be combined with the Data API parameters")
            if self.database is None:
                raise ValueError("database is required with workgroup_name or cluster_identifier")
        else:
            data_api_only = ("secret_arn", "db_user", "aws_conn_id", "poll_interval")
            given = [name for name in data_api_only if getattr(self, name) is not None]
            if given:
                raise ValueError(
                    f"{', '.join(given)} need workgroup_name or cluster_identifier (Data API)"
                )
        return self


_SQL_OPERATOR = Operator(
    "airflow.providers.common.sql.operators.sql", "SQLExecuteQueryOperator", "sql.py.j2"
)
_REDSHIFT_DATA_OPERATOR = Operator(
    "airflow.providers.amazon.aws.operators.redshift_data",
    "RedshiftDataOperator",
    "redshift_data.py.j2",
)


def _redshift_operator(params: RedshiftSqlParams) -> Operator:
    return _REDSHIFT_DATA_OPERATOR if params.uses_data_api else _SQL_OPERATOR


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
    )
}
