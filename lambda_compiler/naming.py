"""Naming rules: the Airflow DAG ids and task ids dynadag gives the rows.

A job row makes the DAG ``job-{job_name}``, a scheduler row ``schedule-{schedule_name}``;
a name that does not make a valid Airflow id falls back to an id built from the row's key
(``job-{job_type}-{job_id}``, ``schedule-{schedule_id}``), and the name is kept for display.
A task becomes the Airflow task ``{task_name}``, or ``task-{task_id}`` on the same fallback.
"""

from __future__ import annotations

import re
from typing import Literal

from lambda_compiler.model import DagId

DagKind = Literal["job", "scheduler"]

DAG_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{1,250}$")
TASK_ID_PATTERN = re.compile(r"^[A-Za-z0-9_\-]{1,250}$")

DAG_ID_PREFIX: dict[DagKind, str] = {"job": "job", "scheduler": "schedule"}
"""The first word of the DAG ids each kind of row makes."""
NAME_ATTRIBUTE: dict[DagKind, str] = {"job": "job_name", "scheduler": "schedule_name"}
"""The attribute whose value names the DAG."""

TASK_ID_RULE = "letters, digits, '_' and '-', at most 250"
"""Airflow's task id rule, as problem messages state it."""


def is_valid_dag_id(text: str) -> bool:
    """Airflow's rule for DAG ids: letters, digits, ``_ . -``, at most 250 characters."""
    return bool(DAG_ID_PATTERN.match(text))


def is_valid_task_id(text: str) -> bool:
    """Airflow's rule for task ids, less the dot Airflow reserves for task groups."""
    return bool(TASK_ID_PATTERN.match(text))


def dag_id_for(prefix: str, name: str | None, *fallback_parts: str) -> tuple[DagId, str | None]:
    """``{prefix}-{name}`` when that is a valid DAG id, else an id from the key.

    The second value is the display name to show when the fallback is used.
    """
    if name is not None and is_valid_dag_id(f"{prefix}-{name}"):
        return DagId(f"{prefix}-{name}"), None
    return DagId("-".join([prefix, *fallback_parts])), name


def task_id_for(name: str | None, task_id: str) -> tuple[str, str | None]:
    """``{name}`` when it is a valid Airflow task id, else ``task-{task_id}``.

    The second value is the display name to show when the fallback is used.
    """
    if name is not None and is_valid_task_id(name):
        return name, None
    return f"task-{task_id}", name
