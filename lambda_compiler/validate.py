"""Cross-row validation: references, dependencies, names and schedules.

`validate` turns parsed rows into plans (what each DAG will contain) and collects
every problem. A problem belongs to exactly one DAG: a broken job never affects
another job, only the schedulers that trigger it. A task row no enabled job lists
belongs to no DAG: it is still checked on its own (type, params, policy), and its
problems are reported as the row's, never making a DAG invalid (`Validated.unused`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from lambda_compiler.config import DEFAULT_CONFIG, CompilerConfig
from lambda_compiler.graph import find_cycle, topological_order
from lambda_compiler.model import DagId, Edge, Job, JobRef, Scheduler, Task, TaskId
from lambda_compiler.naming import (
    DAG_ID_PREFIX,
    TASK_ID_RULE,
    dag_id_for,
    is_valid_dag_id,
    is_valid_task_id,
    task_id_for,
)
from lambda_compiler.params import DagSettings
from lambda_compiler.parse import parse_job, parse_scheduler, parse_task
from lambda_compiler.problems import Problem, ProblemCode
from lambda_compiler.redact import excerpt
from lambda_compiler.rows import Row, RowRef
from lambda_compiler.schedules import NON_CRON_SCHEDULES, ScheduleError, normalize_schedule
from lambda_compiler.snapshot import Snapshot
from lambda_compiler.targets import AirflowTarget


@dataclass
class JobPlan:
    """A job DAG to generate: its tasks in run order, with Airflow task ids."""

    job: Job
    dag_id: DagId
    display_name: str | None
    tasks: list[Task] = field(default_factory=list)
    task_ids: dict[TaskId, str] = field(default_factory=dict)
    display_names: dict[TaskId, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def inputs(self) -> list[RowRef]:
        return [self.job.ref, *sorted(task.ref for task in self.tasks)]


@dataclass
class SchedulerPlan:
    """A scheduler DAG to generate: the job DAGs it triggers, in run order."""

    scheduler: Scheduler
    dag_id: DagId
    display_name: str | None
    schedule: str | None = None
    jobs: list[JobPlan] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    resolved: dict[JobRef, JobPlan] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def inputs(self) -> list[RowRef]:
        return [self.scheduler.ref, *sorted(plan.job.ref for plan in self.jobs)]


Plan = JobPlan | SchedulerPlan


@dataclass
class Validated:
    """Every enabled job and scheduler of a snapshot, as plans with their problems."""

    plans: dict[RowRef, Plan]
    disabled: list[RowRef]
    unparsable: list[Problem]
    unused: dict[RowRef, tuple[Problem, ...]] = field(default_factory=dict)
    """Task rows no enabled job lists, each with its own problems (often none)."""


def unused_warning(ref: RowRef) -> str:
    """What to tell people about a task row no enabled job lists."""
    return f"{ref}: no enabled job lists this task; it is checked but builds nothing"


class RowParser(Protocol):
    """Parses job and scheduler rows (`manifest.Manifest` parses each row once per round)."""

    def job(self, row: Row) -> tuple[Job | None, list[Problem]]: ...

    def scheduler(self, row: Row) -> tuple[Scheduler | None, list[Problem]]: ...


def validate(
    snapshot: Snapshot, config: CompilerConfig = DEFAULT_CONFIG, parser: RowParser | None = None
) -> Validated:
    """Parse and check every row; the result says, per DAG, what to build or why not.

    `parser` parses the job and scheduler rows (default: `parse_job`/`parse_scheduler`
    with `config`).
    """
    tables = snapshot.tables
    tasks, task_problems, unparsable = _parse_tasks(snapshot, tables.task, config)
    jobs: list[Job] = []
    schedulers: list[Scheduler] = []
    parse_problems: dict[RowRef, list[Problem]] = {}
    for row in snapshot.jobs:
        job, problems = parser.job(row) if parser else parse_job(row, tables.job, config)
        _keep(job, problems, jobs, parse_problems, unparsable)
    for row in snapshot.schedulers:
        if parser:
            scheduler, problems = parser.scheduler(row)
        else:
            scheduler, problems = parse_scheduler(row, tables.scheduler, config)
        _keep(scheduler, problems, schedulers, parse_problems, unparsable)
    parsed: list[Job | Scheduler] = [*jobs, *schedulers]
    disabled = [row.ref for row in parsed if not row.enabled]
    job_plans = {
        job.ref: _plan_job(job, tasks, task_problems, parse_problems[job.ref], tables.task)
        for job in jobs
        if job.enabled
    }
    for job_plan in job_plans.values():
        job_plan.problems.extend(
            _target_problems(job_plan.job.ref, "job_params", job_plan.job.params, config.airflow)
        )
    jobs_by_id: dict[str, list[Job]] = defaultdict(list)
    for job in jobs:
        jobs_by_id[job.job_id].append(job)
    # Before the schedulers are planned: a job whose DAG id another job also produces is
    # a job with problems to its schedulers. (Job and scheduler DAG ids never collide:
    # their first words differ, `naming.DAG_ID_PREFIX`.)
    _check_duplicate_dag_ids(job_plans)
    plans: dict[RowRef, Plan] = dict(job_plans)
    scheduler_plans: dict[RowRef, Plan] = {}
    for scheduler in schedulers:
        if scheduler.enabled:
            scheduler_plans[scheduler.ref] = _plan_scheduler(
                scheduler, jobs_by_id, job_plans, parse_problems[scheduler.ref], config.airflow
            )
    _check_duplicate_dag_ids(scheduler_plans)
    plans.update(scheduler_plans)
    used = {task_id for plan in job_plans.values() for task_id in plan.job.task_ids}
    unused = {
        task.ref: tuple(sorted(set(task_problems.get(task_id, []))))
        for task_id, task in sorted(tasks.items())
        if task_id not in used
    }
    return Validated(plans, sorted(disabled), unparsable, unused)


def _target_problems(
    ref: RowRef, attribute: str, params: DagSettings, target: AirflowTarget
) -> list[Problem]:
    """Problems of a row asking for what the deployment's Airflow release lacks."""
    if params.alerts.deadline is not None and not target.has_deadlines:
        return [
            Problem(
                ref,
                f"{attribute}.alerts.deadline",
                ProblemCode.UNSUPPORTED_ON_TARGET,
                f"deadline alerts need Airflow 3.1 or newer; this deployment compiles for "
                f"Airflow {target.version} (DYNADAG_AIRFLOW_VERSION)",
            )
        ]
    return []


_Parsed = TypeVar("_Parsed", Job, Scheduler)


def _keep(
    row: _Parsed | None,
    problems: list[Problem],
    kept: list[_Parsed],
    parse_problems: dict[RowRef, list[Problem]],
    unparsable: list[Problem],
) -> None:
    """Keep a parsed row with its problems; a row without a usable key is unparsable."""
    if row is None:
        unparsable.extend(problems)
        return
    if row.ref in parse_problems:
        problems = [
            *problems,
            Problem(row.ref, "key", ProblemCode.DUPLICATE_DAG_ID, "the same key appears twice"),
        ]
    kept.append(row)
    parse_problems[row.ref] = problems


def _parse_tasks(
    snapshot: Snapshot, table: str, config: CompilerConfig
) -> tuple[dict[TaskId, Task], dict[TaskId, list[Problem]], list[Problem]]:
    tasks: dict[TaskId, Task] = {}
    problems: dict[TaskId, list[Problem]] = {}
    unparsable: list[Problem] = []
    for row in snapshot.tasks:
        task, found = parse_task(row, table, config)
        if task is None:
            unparsable.extend(found)
            continue
        if task.task_id in tasks:
            found.append(
                Problem(task.ref, "task_id", ProblemCode.DUPLICATE_TASK_ID, "appears twice")
            )
        tasks[task.task_id] = task
        problems.setdefault(task.task_id, []).extend(found)
    return tasks, problems, unparsable


def _plan_job(
    job: Job,
    tasks: dict[TaskId, Task],
    task_problems: dict[TaskId, list[Problem]],
    problems: list[Problem],
    task_table: str,
) -> JobPlan:
    dag_id, display = dag_id_for(DAG_ID_PREFIX["job"], job.name, job.job_type, job.job_id)
    plan = JobPlan(job, dag_id, display, problems=list(problems))
    add = plan.problems.append
    if not is_valid_dag_id(dag_id):
        add(_invalid_dag_id(job.ref, "job_name", dag_id))
    if not job.task_ids:
        add(Problem(job.ref, "task_list", ProblemCode.MISSING_ATTRIBUTE, "the job lists no tasks"))
    listed: list[TaskId] = []
    for task_id in job.task_ids:
        if task_id in listed:
            add(
                Problem(
                    job.ref,
                    "task_list",
                    ProblemCode.DUPLICATE_TASK_ID,
                    f"task {task_id!r} is listed twice",
                )
            )
            continue
        listed.append(task_id)
        task = tasks.get(task_id)
        if task is None:
            add(
                Problem(
                    job.ref,
                    "task_list",
                    ProblemCode.UNKNOWN_REFERENCE,
                    f"task {task_id!r} does not exist in {task_table}",
                )
            )
        elif not task.enabled:
            add(
                Problem(
                    job.ref,
                    "task_list",
                    ProblemCode.DISABLED_REFERENCE,
                    f"task {task_id!r} is disabled (status is not 1)",
                )
            )
        else:
            plan.problems.extend(task_problems.get(task_id, []))
            plan.tasks.append(task)
    _check_edges(plan.problems, job.ref, "job_task_dependencies", "task", listed, job.edges)
    for key in job.task_configs:
        if key not in listed:
            add(
                Problem(
                    job.ref,
                    f"job_task_configs.{key}",
                    ProblemCode.UNKNOWN_REFERENCE,
                    f"task {key!r} is not listed in the job",
                )
            )
    _assign_task_ids(plan)
    _check_task_groups(plan)
    if not plan.problems:
        order = topological_order(listed, job.edges)
        by_id = {task.task_id: task for task in plan.tasks}
        plan.tasks = [by_id[TaskId(task_id)] for task_id in order]
    return plan


def _assign_task_ids(plan: JobPlan) -> None:
    """Airflow task ids from task names, falling back to ``task-{task_id}``."""
    owners: dict[str, list[Task]] = defaultdict(list)
    for task in plan.tasks:
        airflow_id, display = task_id_for(task.name, task.task_id)
        if display is not None:
            plan.display_names[task.task_id] = display
        if not is_valid_task_id(airflow_id):
            plan.problems.append(
                Problem(
                    task.ref,
                    "task_id",
                    ProblemCode.INVALID_IDENTIFIER,
                    f"{excerpt(airflow_id)} is not a valid Airflow task id ({TASK_ID_RULE})",
                )
            )
        plan.task_ids[task.task_id] = airflow_id
        owners[airflow_id].append(task)
    for airflow_id, claimants in sorted(owners.items()):
        if len(claimants) > 1:
            names = ", ".join(str(task.ref) for task in claimants)
            plan.problems.append(
                Problem(
                    plan.job.ref,
                    "task_list",
                    ProblemCode.DUPLICATE_TASK_ID,
                    f"tasks {names} would all get the Airflow task id {airflow_id!r}; "
                    "give them distinct task_name values",
                )
            )


def _check_task_groups(plan: JobPlan) -> None:
    """A task group's id must not also be a task id at the top level of the DAG."""
    grouped = {key for key, config in plan.job.task_configs.items() if config.task_group}
    top_level = {plan.task_ids[t.task_id]: t for t in plan.tasks if t.task_id not in grouped}
    groups = {config.task_group for config in plan.job.task_configs.values()}
    if plan.job.params.original_task_ids:
        for key in sorted(grouped):
            plan.problems.append(
                Problem(
                    plan.job.ref,
                    f"job_task_configs.{key}.task_group",
                    ProblemCode.INVALID_PARAMS,
                    "cannot be combined with job_params.original_task_ids "
                    "(each task already sits in a group named after it)",
                )
            )
        return
    for group in sorted(g for g in groups if g in top_level):
        plan.problems.append(
            Problem(
                plan.job.ref,
                "job_task_configs",
                ProblemCode.DUPLICATE_TASK_ID,
                f"task group {group!r} has the same id as task {top_level[group].ref}; "
                "rename the group",
            )
        )


def _check_edges(
    problems: list[Problem],
    ref: RowRef,
    field: str,
    noun: str,
    listed: Sequence[str],
    edges: Sequence[Edge],
) -> None:
    for edge in edges:
        if edge.upstream == edge.downstream:
            problems.append(
                Problem(
                    ref,
                    field,
                    ProblemCode.SELF_DEPENDENCY,
                    f"{noun} {edge.downstream!r} depends on itself",
                )
            )
        for end in (edge.downstream, edge.upstream):
            if end not in listed:
                problems.append(
                    Problem(
                        ref,
                        field,
                        ProblemCode.DEPENDENCY_NOT_LISTED,
                        f"{noun} {end!r} is in a dependency but not in the list",
                    )
                )
    proper = [e for e in edges if e.upstream != e.downstream]
    cycle = find_cycle(listed, proper)
    if cycle:
        problems.append(
            Problem(
                ref,
                field,
                ProblemCode.CYCLE,
                f"the dependencies form a cycle: {' -> '.join(cycle)}",
            )
        )


def _plan_scheduler(
    scheduler: Scheduler,
    jobs_by_id: dict[str, list[Job]],
    job_plans: dict[RowRef, JobPlan],
    problems: list[Problem],
    target: AirflowTarget,
) -> SchedulerPlan:
    dag_id, display = dag_id_for(DAG_ID_PREFIX["scheduler"], scheduler.name, scheduler.schedule_id)
    plan = SchedulerPlan(scheduler, dag_id, display, problems=list(problems))
    plan.problems.extend(
        _target_problems(scheduler.ref, "schedule_params", scheduler.params, target)
    )
    add = plan.problems.append
    ref = scheduler.ref
    if not is_valid_dag_id(dag_id):
        add(_invalid_dag_id(ref, "schedule_name", dag_id))
    params = scheduler.params
    raw_schedule = (
        params.schedule if "schedule" in params.model_fields_set else params.schedule_interval
    )
    field_name = "schedule" if "schedule" in params.model_fields_set else "schedule_interval"
    try:
        plan.schedule = normalize_schedule(
            raw_schedule, nearest_weekday=target.cron_nearest_weekday
        )
    except ScheduleError as exc:
        add(Problem(ref, f"schedule_params.{field_name}", ProblemCode.INVALID_SCHEDULE, str(exc)))
    else:
        if "timetable" in params.model_fields_set and (
            plan.schedule is None or plan.schedule in NON_CRON_SCHEDULES
        ):
            add(
                Problem(
                    ref,
                    "schedule_params.timetable",
                    ProblemCode.INVALID_PARAMS,
                    "applies only to a cron schedule or preset like '@daily'; "
                    f"this scheduler's schedule is {plan.schedule or 'null'}",
                )
            )
    if not scheduler.job_refs:
        add(Problem(ref, "job_list", ProblemCode.MISSING_ATTRIBUTE, "the scheduler lists no jobs"))
    for job_ref in scheduler.job_refs:
        job = _resolve_job(plan.problems, ref, "job_list", job_ref, jobs_by_id)
        if job is None:
            continue
        job_plan = job_plans.get(job.ref)
        if job_plan is None:
            add(
                Problem(
                    ref,
                    "job_list",
                    ProblemCode.DISABLED_REFERENCE,
                    f"job {job_ref!r} ({job.ref}) is disabled (status is not 1)",
                )
            )
            continue
        if job_plan.problems:
            add(
                Problem(
                    ref,
                    "job_list",
                    ProblemCode.INVALID_REFERENCE,
                    f"job {job_ref!r} ({job.ref}) has problems of its own; fix those first",
                )
            )
        if job_plan in plan.jobs:
            add(
                Problem(
                    ref,
                    "job_list",
                    ProblemCode.DUPLICATE_TASK_ID,
                    f"job {job_ref!r} is listed twice",
                )
            )
            continue
        plan.resolved[job_ref] = job_plan
        plan.jobs.append(job_plan)
    _plan_scheduler_edges(plan, jobs_by_id)
    for key in scheduler.job_configs:
        if key not in plan.resolved:
            add(
                Problem(
                    ref,
                    f"schedule_job_configs.{key}",
                    ProblemCode.UNKNOWN_REFERENCE,
                    f"job {key!r} is not in job_list",
                )
            )
    return plan


def _plan_scheduler_edges(plan: SchedulerPlan, jobs_by_id: dict[str, list[Job]]) -> None:
    """Scheduler edges, rewritten from row references to job DAG ids."""
    ref = plan.scheduler.ref
    dag_ids = {job_plan.job.ref: job_plan.dag_id for job_plan in plan.jobs}
    edges: list[Edge] = []
    for edge in plan.scheduler.edges:
        ends: list[DagId] = []
        for end in (edge.downstream, edge.upstream):
            job = _resolve_job([], ref, "", JobRef(end), jobs_by_id)
            dag_id = dag_ids.get(job.ref) if job else None
            if dag_id is None:
                plan.problems.append(
                    Problem(
                        ref,
                        "schedule_job_dependencies",
                        ProblemCode.DEPENDENCY_NOT_LISTED,
                        f"job {end!r} is in a dependency but not a usable job of job_list",
                    )
                )
            else:
                ends.append(dag_id)
        if len(ends) == 2:
            edges.append(Edge(downstream=ends[0], upstream=ends[1]))
    listed = [job_plan.dag_id for job_plan in plan.jobs]
    before = len(plan.problems)
    _check_edges(plan.problems, ref, "schedule_job_dependencies", "job", listed, edges)
    if len(plan.problems) == before:
        plan.edges = edges
        order = topological_order(listed, edges)
        by_dag = {job_plan.dag_id: job_plan for job_plan in plan.jobs}
        plan.jobs = [by_dag[DagId(dag_id)] for dag_id in order]


def _resolve_job(
    problems: list[Problem],
    ref: RowRef,
    field: str,
    job_ref: JobRef,
    jobs_by_id: dict[str, list[Job]],
) -> Job | None:
    """A job from ``job_id`` (unique across job types) or ``job_type:job_id``."""
    job_type, _, job_id = job_ref.rpartition(":")
    candidates = [j for j in jobs_by_id.get(job_id, []) if not job_type or j.job_type == job_type]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        problems.append(
            Problem(ref, field, ProblemCode.UNKNOWN_REFERENCE, f"job {job_ref!r} does not exist")
        )
    else:
        names = ", ".join(sorted(j.qualified_id for j in candidates))
        problems.append(
            Problem(
                ref,
                field,
                ProblemCode.AMBIGUOUS_REFERENCE,
                f"job id {job_ref!r} exists in several job types ({names}); "
                "write it as job_type:job_id",
            )
        )
    return None


def _invalid_dag_id(ref: RowRef, field: str, dag_id: str) -> Problem:
    return Problem(
        ref,
        field,
        ProblemCode.INVALID_IDENTIFIER,
        f"cannot make a valid DAG id: {excerpt(dag_id)} has characters other than "
        "letters, digits, '_', '.' and '-', or is longer than 250",
    )


def _check_duplicate_dag_ids(plans: Mapping[RowRef, Plan]) -> None:
    owners: dict[DagId, list[Plan]] = defaultdict(list)
    for plan in plans.values():
        owners[plan.dag_id].append(plan)
    for dag_id, claimants in owners.items():
        if len(claimants) < 2:
            continue
        for plan in claimants:
            others = ", ".join(str(p.inputs[0]) for p in claimants if p is not plan)
            field = "job_name" if isinstance(plan, JobPlan) else "schedule_name"
            plan.problems.append(
                Problem(
                    plan.inputs[0],
                    field,
                    ProblemCode.DUPLICATE_DAG_ID,
                    f"DAG id {dag_id!r} is also produced by {others}",
                )
            )
