"""Builders of small row sets for tests: valid by default, overridable per attribute."""

from __future__ import annotations

import dataclasses
from typing import Any

from lambda_compiler.compiler import CompileResult, compile_dags
from lambda_compiler.config import DEFAULT_CONFIG, Allowlist, CompilerConfig
from lambda_compiler.snapshot import snapshot_from_json


def task(task_id: str, name: str | None = None, **attrs: Any) -> dict[str, Any]:
    row = {
        "task_id": task_id,
        "task_name": f"task_{task_id}" if name is None else name,
        "task_type": "SQL",
        "task_params": {"conn_id": "redshift_default", "sql": f"SELECT {task_id};"},
        "status": 1,
    }
    row.update(attrs)
    return {k: v for k, v in row.items() if v is not None}


def job(job_id: str, tasks: str, name: str | None = None, **attrs: Any) -> dict[str, Any]:
    row = {
        "job_type": "etl",
        "job_id": job_id,
        "job_name": f"job_{job_id}" if name is None else name,
        "task_list": tasks,
        "job_task_dependencies": "[]",
        "status": 1,
    }
    row.update(attrs)
    return {k: v for k, v in row.items() if v is not None}


def scheduler(schedule_id: str, jobs: str, name: str | None = None, **attrs: Any) -> dict[str, Any]:
    row = {
        "schedule_id": schedule_id,
        "schedule_name": f"sched_{schedule_id}" if name is None else name,
        "job_list": jobs,
        "schedule_job_dependencies": "[]",
        "schedule_params": {"schedule_interval": "0 12 * * *"},
        "status": 1,
    }
    row.update(attrs)
    return {k: v for k, v in row.items() if v is not None}


def allow_any(**settings: Any) -> CompilerConfig:
    """A policy whose allowlists are all ``*``, with `settings` (e.g. ``allow_bash=True``)."""
    lists = {
        f.name: Allowlist(f.default.variable, ("*",), f.default.prefixes)
        for f in dataclasses.fields(CompilerConfig)
        if isinstance(f.default, Allowlist)
    }
    return CompilerConfig(**{**lists, **settings})


def compile_rows(  # type: ignore[no-untyped-def]
    tasks=(), jobs=(), schedulers=(), config: CompilerConfig = DEFAULT_CONFIG
) -> CompileResult:
    """Compile rows given as lists of dicts."""
    data = {"mwaa_task": list(tasks), "mwaa_job": list(jobs), "mwaa_scheduler": list(schedulers)}
    return compile_dags(snapshot_from_json(data), config=config)
