"""Statements over any Airflow SQL connection (Postgres, MySQL, Snowflake, ...).

The common SQL operator runs them with `autocommit` and `split_statements` as given
(both `true` unless the row says otherwise).
"""

from __future__ import annotations

from typing import Any

from pydantic import field_validator

from lambda_compiler.task_types._shared import (
    NonEmpty,
    Operator,
    Sql,
    TaskParams,
    TaskType,
    allowed_conn,
)


class SqlParams(TaskParams):
    """`SQL`: statements run over any Airflow SQL connection."""

    conn_id: NonEmpty
    """Airflow connection"""
    sql: Sql
    """a string or a list of statements"""
    autocommit: bool = True
    """commit each statement"""
    split_statements: bool = True
    """split a string into statements"""
    parameters: dict[str, Any] | list[Any] | None = None
    """bind parameters"""
    database: NonEmpty | None = None
    """overrides the connection's database/schema"""

    _conn = field_validator("conn_id")(allowed_conn)


SQL_OPERATOR = Operator(
    "airflow.providers.common.sql.operators.sql", "SQLExecuteQueryOperator", "sql.py.j2"
)
"""Also `REDSHIFT-SQL`'s operator over a connection."""

TASK_TYPE = TaskType(
    "SQL",
    SqlParams,
    lambda _: SQL_OPERATOR,
    operators=(SQL_OPERATOR,),
    runs_where="worker",
    examples=(
        {
            "task_id": "106",
            "task_name": "refresh_session_report",
            "task_type": "SQL",
            "status": 1,
            "task_params": {
                "conn_id": "reporting_postgres",
                "sql": "CALL reports.refresh_sessions('{{ ds }}');",
            },
        },
    ),
)
