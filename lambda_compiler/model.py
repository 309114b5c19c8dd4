"""Parsed rows: frozen, normalised `Task`, `Job` and `Scheduler` records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NewType

from lambda_compiler.params import (
    JobParams,
    JobTaskConfig,
    SchedulerJobConfig,
    SchedulerParams,
    StrictModel,
)
from lambda_compiler.rows import RowRef

DagId = NewType("DagId", str)
TaskId = NewType("TaskId", str)
JobRef = NewType("JobRef", str)
"""A job reference as a scheduler row writes it: a bare ``job_id`` or ``job_type:job_id``."""


@dataclass(frozen=True)
class Edge:
    """`downstream` runs after `upstream` (the original's ``pid`` is the upstream)."""

    downstream: str
    upstream: str


@dataclass(frozen=True)
class Task:
    """One `mwaa_task` row. `params` is None when the type or parameters are invalid."""

    ref: RowRef
    task_id: TaskId
    name: str | None
    task_type: str | None
    params: StrictModel | None
    enabled: bool


@dataclass(frozen=True)
class Job:
    """One `mwaa_job` row: its tasks, their order and settings."""

    ref: RowRef
    job_type: str
    job_id: str
    name: str | None
    task_ids: tuple[TaskId, ...]
    edges: tuple[Edge, ...]
    params: JobParams
    task_configs: dict[str, JobTaskConfig] = field(default_factory=dict)
    enabled: bool = True

    @property
    def qualified_id(self) -> JobRef:
        return JobRef(f"{self.job_type}:{self.job_id}")


@dataclass(frozen=True)
class Scheduler:
    """One `mwaa_scheduler` row: the jobs it triggers, in which order, and when."""

    ref: RowRef
    schedule_id: str
    name: str | None
    description: str | None
    job_refs: tuple[JobRef, ...]
    edges: tuple[Edge, ...]
    params: SchedulerParams
    job_configs: dict[str, SchedulerJobConfig] = field(default_factory=dict)
    enabled: bool = True
