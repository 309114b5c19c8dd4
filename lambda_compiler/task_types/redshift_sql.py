"""The original solution's type (`{"sql": "..."}`), now correct: statements commit
and multi-statement SQL works.

**Over a connection** (no `workgroup_name`/`cluster_identifier`): the common SQL
operator runs the statements with `autocommit=True` and `split_statements=True`,
so `DELETE ...; INSERT ...` runs both statements and each one commits (the
original ran them through a hook without committing). Any SQL connection works:
the tests run this type against SQLite.

**Over the Redshift Data API**: `RedshiftDataOperator` with
`wait_for_completion=True, deferrable=True`, so the wait happens in the
triggerer, not in a worker slot. A list of statements is sent with
`BatchExecuteStatement`, which runs them in one transaction. A single string may
hold only one statement (the Data API's `ExecuteStatement` runs one), so a string
containing `;` between statements is refused with a hint to use a list.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from lambda_compiler.params import check_allowed, policy
from lambda_compiler.task_types._shared import (
    AWS_DEFAULT_CONN,
    NonEmpty,
    Operator,
    Sql,
    TaskParams,
    TaskType,
    allowed_conn,
    default_conn_allowed,
)
from lambda_compiler.task_types.sql import SQL_OPERATOR

REDSHIFT_DEFAULT_CONN = "redshift_default"
"""The connection a `REDSHIFT-SQL` task without `conn_id` uses (as `sql.py.j2` writes)."""


class RedshiftSqlParams(TaskParams):
    """`REDSHIFT-SQL`: the original's ``{"sql": ...}``, over a connection or the Data API.

    Naming ``workgroup_name`` (Redshift Serverless) or ``cluster_identifier`` selects
    the Redshift Data API; otherwise the SQL runs over the Airflow connection
    ``conn_id`` (default ``redshift_default``).
    """

    sql: Sql
    """a string, or a list of statements"""
    conn_id: NonEmpty | None = None
    """Airflow connection (connection mode only)"""
    autocommit: bool = True
    """commit each statement (connection mode)"""
    split_statements: bool = True
    """split a string into statements with `sqlparse` (connection mode)"""
    parameters: dict[str, Any] | list[Any] | None = None
    """bind parameters"""
    database: NonEmpty | None = None
    """database; required with the Data API"""
    workgroup_name: NonEmpty | None = None
    """Redshift Serverless workgroup: selects the Data API"""
    cluster_identifier: NonEmpty | None = None
    """provisioned cluster: selects the Data API"""
    secret_arn: Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:secretsmanager:")] | None = None
    """Secrets Manager secret with the database credentials (Data API)"""
    db_user: NonEmpty | None = None
    """temporary-credentials user (Data API, clusters)"""
    aws_conn_id: NonEmpty | None = None
    """AWS connection (Data API)"""
    poll_interval: Annotated[int, Field(ge=1, le=3600)] | None = None
    """seconds between status checks (Data API)"""

    _conns = field_validator("conn_id", "aws_conn_id")(allowed_conn)

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
            default_conn_allowed(policy(info), "aws_conn_id", AWS_DEFAULT_CONN)
        elif not self.uses_data_api and self.conn_id is None:
            default_conn_allowed(policy(info), "conn_id", REDSHIFT_DEFAULT_CONN)
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


# The template keeps its earlier name: template names are part of a DAG's inputs hash.
_REDSHIFT_DATA_OPERATOR = Operator(
    "airflow.providers.amazon.aws.operators.redshift_data",
    "RedshiftDataOperator",
    "redshift_data.py.j2",
)


def _redshift_operator(params: RedshiftSqlParams) -> Operator:
    return _REDSHIFT_DATA_OPERATOR if params.uses_data_api else SQL_OPERATOR


TASK_TYPE = TaskType(
    "REDSHIFT-SQL",
    RedshiftSqlParams,
    _redshift_operator,
    operators=(SQL_OPERATOR, _REDSHIFT_DATA_OPERATOR),
    runs_where="worker, or Redshift Data API + triggerer",
    examples=(
        {
            "task_id": "100",
            "task_name": "load_orders",
            "task_type": "REDSHIFT-SQL",
            "status": 1,
            "task_params": {
                "sql": "DELETE FROM mart.orders WHERE day = '{{ ds }}'; "
                "INSERT INTO mart.orders SELECT * FROM staging.orders WHERE day = '{{ ds }}';"
            },
        },
        {
            "task_id": "104",
            "task_name": "load_sessions",
            "task_type": "REDSHIFT-SQL",
            "status": 1,
            "task_params": {
                "workgroup_name": "analytics",
                "database": "dev",
                "secret_arn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:"
                "redshift-etl-AbCdEf",
                "sql": [
                    "DELETE FROM mart.sessions WHERE day = '{{ ds }}'",
                    "INSERT INTO mart.sessions SELECT * FROM spectrum.sessions "
                    "WHERE day = '{{ ds }}'",
                ],
            },
        },
    ),
    defaults={
        "conn_id": f"`{REDSHIFT_DEFAULT_CONN}`",
        "aws_conn_id": f"`{AWS_DEFAULT_CONN}`",
        "poll_interval": "operator default (10 s)",
    },
)
