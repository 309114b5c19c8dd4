"""What moving from the original solution to dynadag changes, per row and DAG (pure).

`dynadag migrate-check` prints this report; `dynadag rebuild` uses `ORIGINAL_DAG_FILES`
to recognise the original's DAG files left in the dags folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lambda_compiler.config import DEFAULT_CONFIG, CompilerConfig
from lambda_compiler.context import ORIGINAL_TASK_ID, TIMETABLE_CLASSES, airflow_task_ids
from lambda_compiler.problems import Problem
from lambda_compiler.rows import RowRef
from lambda_compiler.schedules import NON_CRON_SCHEDULES
from lambda_compiler.snapshot import Snapshot
from lambda_compiler.task_types import REDSHIFT_DEFAULT_CONN
from lambda_compiler.validate import JobPlan, SchedulerPlan, validate

# The original's two DAG files (each defines every DAG of its kind) and helper folders.
ORIGINAL_DAG_FILES = {"job_dag": "job-*", "schedule_dag": "schedule-*"}
ORIGINAL_HELPER_FOLDERS = ("config/", "lib/", "task_factory/", "util/")


@dataclass(frozen=True)
class DagMigration:
    """One job or scheduler row: its DAG under dynadag, against the original's."""

    kind: str
    row: RowRef
    dag_id: str
    original_dag_id: str | None
    problems: tuple[Problem, ...]
    task_ids: dict[str, str] = field(default_factory=dict)  # original id -> dynadag id
    connections: tuple[str, ...] = ()
    schedule: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def compiles(self) -> bool:
        return not self.problems

    @property
    def dag_id_kept(self) -> bool:
        return self.dag_id == self.original_dag_id

    @property
    def changed_task_ids(self) -> dict[str, str]:
        """The original task ids whose task history will not continue."""
        return {old: new for old, new in self.task_ids.items() if old != new}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form for ``--format json``."""
        return {
            "kind": self.kind,
            "row": str(self.row),
            "dag_id": self.dag_id,
            "original_dag_id": self.original_dag_id,
            "dag_id_kept": self.dag_id_kept,
            "compiles": self.compiles,
            "problems": [problem.to_dict() for problem in self.problems],
            "changed_task_ids": self.changed_task_ids,
            "connections": list(self.connections),
            "schedule": self.schedule,
            "notes": list(self.notes),
        }


def migration_report(
    snapshot: Snapshot, config: CompilerConfig = DEFAULT_CONFIG
) -> list[DagMigration]:
    """Every enabled job and scheduler, in DAG-id order, as it migrates to `config.airflow`."""
    validated = validate(snapshot, config)
    report = []
    for plan in validated.plans.values():
        if isinstance(plan, JobPlan):
            report.append(_job(plan))
        else:
            report.append(_scheduler(plan, config))
    return sorted(report, key=lambda entry: (entry.dag_id, str(entry.row)))


def _original_id(prefix: str, name: str | None) -> str | None:
    return f"{prefix}-{name}" if name else None


def _job(plan: JobPlan) -> DagMigration:
    new_ids = airflow_task_ids(plan)
    task_ids = {
        f"{task.name}.{ORIGINAL_TASK_ID}": new_ids[task.task_id]
        for task in plan.tasks
        if task.name and task.task_id in new_ids
    }
    connections = sorted(
        {
            getattr(task.params, "conn_id", None) or REDSHIFT_DEFAULT_CONN
            for task in plan.tasks
            if task.task_type in ("REDSHIFT-SQL", "SQL")
            and not getattr(task.params, "uses_data_api", False)
        }
    )
    notes = []
    if REDSHIFT_DEFAULT_CONN in connections:
        notes.append(
            f"create the Airflow connection {REDSHIFT_DEFAULT_CONN!r} (or a secrets-backend entry) "
            "with the Redshift host, user and password that config/conf.py held"
        )
    if task_ids and any(old != new for old, new in task_ids.items()):
        notes.append(
            "task ids differ from the original's, so task history starts afresh; "
            'set job_params {"original_task_ids": true} to keep them'
        )
    return DagMigration(
        kind="job",
        row=plan.job.ref,
        dag_id=plan.dag_id,
        original_dag_id=_original_id("job", plan.job.name),
        problems=tuple(sorted(set(plan.problems))),
        task_ids=task_ids,
        connections=tuple(connections),
        notes=(*_dag_id_notes(plan.dag_id, plan.job.name, "job"), *notes),
    )


def _scheduler(plan: SchedulerPlan, config: CompilerConfig) -> DagMigration:
    scheduler = plan.scheduler
    task_ids = {"start": "", "end": ""} if plan.jobs else {}
    for job_plan in plan.jobs:
        name = job_plan.job.name
        if name:
            task_ids[f"{name}.trigger_{name}"] = job_plan.dag_id
    notes = [
        "job runs get this scheduler run's logical date (as the original's "
        "execution_date='{{ ts }}'), plus a fixed sub-second offset so that two schedulers "
        "triggering one job never collide",
    ]
    if task_ids:
        notes.append(
            "the start/end and trigger_* task ids are gone: triggers are named after the job DAGs"
        )
    return DagMigration(
        kind="scheduler",
        row=scheduler.ref,
        dag_id=plan.dag_id,
        original_dag_id=_original_id("schedule", scheduler.name),
        problems=tuple(sorted(set(plan.problems))),
        task_ids=task_ids,
        schedule=_schedule_effect(plan, config),
        notes=(*_dag_id_notes(plan.dag_id, scheduler.name, "schedule"), *notes),
    )


def _schedule_effect(plan: SchedulerPlan, config: CompilerConfig) -> str:
    params = plan.scheduler.params
    if params.schedule_assets:
        return "runs when its assets are updated (no cron semantics involved)"
    if plan.schedule is None:
        return "no schedule: runs only when triggered, as before"
    if plan.schedule in NON_CRON_SCHEDULES:
        return f"{plan.schedule}: unchanged"
    timetable = TIMETABLE_CLASSES[params.timetable]
    if params.timetable == "data_interval":
        return (
            f"{plan.schedule} as {timetable}: {{{{ ds }}}} is the interval start, as on the "
            f"original's Airflow 2 (unchanged on Airflow {config.airflow.version})"
        )
    return (
        f"{plan.schedule} as {timetable}: {{{{ ds }}}} is the run's own date, one interval "
        "later than the original's; SQL using {{ ds }} shifts by one interval"
    )


def _dag_id_notes(dag_id: str, name: str | None, prefix: str) -> tuple[str, ...]:
    original = _original_id(prefix, name)
    if original is None or dag_id == original:
        return ()
    return (
        f"the name {name!r} does not make a valid Airflow DAG id, so the DAG id is {dag_id!r} "
        f"(the original's {original!r} could never load); its history does not carry over",
    )
