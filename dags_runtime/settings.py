"""The ``[dynadag]`` section of the Airflow configuration, read when a callback runs."""

from __future__ import annotations

SECTION = "dynadag"


def option(name: str, default: str | None = None) -> str | None:
    """``[dynadag] name`` (env ``AIRFLOW__DYNADAG__NAME``), or `default` when unset or empty."""
    return airflow_option(SECTION, name, default)


def airflow_option(section: str, name: str, default: str | None = None) -> str | None:
    """Any Airflow option (env ``AIRFLOW__SECTION__NAME``), or `default` when unset or empty."""
    try:
        from airflow.sdk.configuration import conf
    except ImportError:  # Airflow 2.x to 3.1: the task SDK has no configuration yet
        from airflow.configuration import conf
    value = conf.get(section, name, fallback=None)
    return value.strip() if value and value.strip() else default


def aws_conn_id() -> str:
    """The Airflow connection for SNS and DynamoDB calls."""
    return option("aws_conn_id", "aws_default") or "aws_default"


def retention_days(default: int = 90) -> int | None:
    """``[dynadag] run_history_days``: days to keep history items; 0 keeps them forever."""
    raw = option("run_history_days")
    try:
        days = default if raw is None else int(raw)
    except ValueError:
        days = default
    return days if days > 0 else None
