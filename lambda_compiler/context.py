"""Template contexts: everything `job.py.j2` and `scheduler.py.j2` need for one DAG.

What a generated file says is decided here (and in the templates), from validated plans
only: which imports, which DAG and operator arguments, the task layout and the edges.
An argument equal to the operator's default on every target release is left out, as an
Airflow engineer would leave it out. Row values reach the templates as plain data and
become source only through `literals.py`.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
from collections import defaultdict
from typing import Any, Literal

from pydantic import BaseModel

from lambda_compiler import __version__
from lambda_compiler.doc_md import job_doc, scheduler_doc
from lambda_compiler.literals import BLACK_LINE_LENGTH, RESERVED_NAMES, variable_names
from lambda_compiler.model import Edge, JobRef, Task, TaskId
from lambda_compiler.params import AlertSettings, DagSettings, StrictModel
from lambda_compiler.rows import RowRef
from lambda_compiler.schedules import NON_CRON_SCHEDULES
from lambda_compiler.targets import AirflowTarget
from lambda_compiler.task_types import TASK_TYPES
from lambda_compiler.validate import JobPlan, Plan, SchedulerPlan

Kind = Literal["job", "scheduler"]
_CALLBACKS_MODULE = "dags_runtime.callbacks"
_DEADLINE_CALLBACK = "dags_runtime.deadlines.deadline_missed"
_DEADLINE_NAMES = ("AsyncCallback", "DeadlineAlert", "DeadlineReference")
# Names the templates import or define; a PYTHON callable is imported under another.
_GENERATED_NAMES = frozenset(
    {
        "Asset",
        "AsyncCallback",
        "CronDataIntervalTimetable",
        "CronTriggerTimetable",
        "DagCallbacks",
        "Dataset",
        "DeadlineAlert",
        "DeadlineReference",
        "TaskGroup",
    }
)
# TriggerDagRunOperator's `poke_interval` default, the same on every target release
# (2.10.3, 2.11.0, 3.0.6, 3.1.8, 3.3.2); its `allowed_states` and `failed_states`
# default to ["success"] and ["failed"] there too, so the template never writes them.
TRIGGER_POKE_INTERVAL_DEFAULT = 60
# The task id inside each task's group in the original solution's job DAGs.
ORIGINAL_TASK_ID = "execute_redshift_job"
# How a scheduler's timetable is chosen in `schedule_params.timetable`.
TIMETABLE_CLASSES = {
    "data_interval": "CronDataIntervalTimetable",
    "trigger": "CronTriggerTimetable",
}
_SEMANTICS = {
    "data_interval": "; each run covers the interval before it: `{{ ds }}` is the interval start",
    "trigger": "; each run covers no interval: `{{ ds }}` is the run's own date",
}


def job_context(plan: JobPlan, target: AirflowTarget) -> dict[str, Any]:
    """Everything `job.py.j2` needs, all of it validated, for one Airflow release."""
    job = plan.job
    layout = task_layout(plan)
    groups = {key: group for key, (group, _) in layout.items() if group}
    inner_ids = {key: task_id for key, (_, task_id) in layout.items()}
    airflow_ids = {key: _in_group(*placed) for key, placed in layout.items()}
    names = variable_names([plan.task_ids[task.task_id] for task in plan.tasks])
    by_airflow_id = {airflow_ids[t.task_id]: names[plan.task_ids[t.task_id]] for t in plan.tasks}
    imports: dict[str, set[str]] = defaultdict(set)
    typed = {t.task_id: _typed(t) for t in plan.tasks}
    operators = {key: TASK_TYPES[kind].operator(params) for key, (kind, params) in typed.items()}
    taken = set(RESERVED_NAMES | _GENERATED_NAMES) | set(names.values())
    taken |= {operator.class_name for operator in operators.values()}
    imported_as: dict[tuple[str, str], str] = {}
    tasks = []
    for task in plan.tasks:
        operator = operators[task.task_id]
        imports[operator.module or target.module_of(operator.class_name)].add(operator.class_name)
        config = job.task_configs.get(task.task_id)
        settings = config.operator_kwargs() if config else {}
        if config and config.outlets:
            imports[target.module_of(target.asset_class)].add(target.asset_class)
        tasks.append(
            {
                "var": names[plan.task_ids[task.task_id]],
                "task_id": inner_ids[task.task_id],
                "group": groups.get(task.task_id),
                "display_name": plan.display_names.get(task.task_id),
                "operator": operator,
                "imported_as": _import_name(operator.extra_import, imported_as, taken),
                "params": task.params,
                "settings": settings,
                "outlets": config.outlets if config else [],
            }
        )
    for (module, name), local in imported_as.items():
        imports[module].add(name if local == name else f"{name} as {local}")
    if any(task["group"] for task in tasks):
        imports[target.module_of("TaskGroup")].add("TaskGroup")
    edges = [
        Edge(
            downstream=airflow_ids[TaskId(edge.downstream)],
            upstream=airflow_ids[TaskId(edge.upstream)],
        )
        for edge in job.edges
    ]
    # Triggered only: no start date, catch-up or time zone applies to the DAG.
    dag = _dag_args(plan, job.params, description=job.params.description, kind="job")
    dag["doc_md"] = job_doc(
        plan.dag_id,
        job.params.description,
        job.ref,
        [
            (airflow_ids[t.task_id], typed[t.task_id][0], t.ref, typed[t.task_id][1])
            for t in plan.tasks
        ],
    )
    callbacks = _callbacks(job.params, job.ref, {airflow_ids[t.task_id]: t.ref for t in plan.tasks})
    return _finish(
        "job",
        plan,
        target,
        dag,
        imports,
        callbacks=callbacks,
        blocks=_blocks(tasks),
        edges=edge_statements(edges, by_airflow_id),
    )


def scheduler_context(plan: SchedulerPlan, target: AirflowTarget) -> dict[str, Any]:
    """Everything `scheduler.py.j2` needs, all of it validated, for one Airflow release."""
    scheduler = plan.scheduler
    params = scheduler.params
    names = variable_names([job_plan.dag_id for job_plan in plan.jobs])
    configs = {
        plan.resolved[JobRef(key)].dag_id: config for key, config in scheduler.job_configs.items()
    }
    triggers = []
    for job_plan in plan.jobs:
        config = configs.get(job_plan.dag_id)
        triggers.append(
            {
                "var": names[job_plan.dag_id],
                "task_id": job_plan.dag_id,
                "trigger_dag_id": job_plan.dag_id,
                "conf": config.conf if config else {},
                "settings": config.operator_kwargs() if config else {},
            }
        )
    dag = _dag_args(plan, params, description=scheduler.description, kind="scheduler")
    imports: dict[str, set[str]] = defaultdict(set)
    imports[target.module_of("TriggerDagRunOperator")].add("TriggerDagRunOperator")
    timetable = None
    if plan.schedule is not None and plan.schedule not in NON_CRON_SCHEDULES:
        timetable = {"class_name": TIMETABLE_CLASSES[params.timetable], "cron": plan.schedule}
        imports[target.module_of(timetable["class_name"])].add(timetable["class_name"])
    dag.update(
        schedule=plan.schedule,
        timetable=timetable,
        start_date=params.start_date,
        timezone=params.timezone,
        catchup=params.catchup,
        schedule_assets=params.schedule_assets,
    )
    when = (
        f"when these assets are updated: {', '.join(params.schedule_assets)}"
        if params.schedule_assets
        else f"schedule {plan.schedule} ({params.timezone}){_SEMANTICS[params.timetable]}"
        if timetable
        else f"schedule {plan.schedule} ({params.timezone})"
        if plan.schedule
        else "only when triggered"
    )
    dag["doc_md"] = scheduler_doc(
        plan.dag_id,
        scheduler.description,
        scheduler.ref,
        when,
        [(job_plan.dag_id, job_plan.job.ref) for job_plan in plan.jobs],
    )
    if params.schedule_assets:
        imports[target.module_of(target.asset_class)].add(target.asset_class)
    callbacks = _callbacks(
        params, scheduler.ref, {job_plan.dag_id: job_plan.job.ref for job_plan in plan.jobs}
    )
    return _finish(
        "scheduler",
        plan,
        target,
        dag,
        imports,
        callbacks=callbacks,
        triggers=triggers,
        edges=edge_statements(plan.edges, names),
        poke_interval=(
            None if params.poke_interval == TRIGGER_POKE_INTERVAL_DEFAULT else params.poke_interval
        ),
        trigger_run_id=f"{run_id_prefix(plan.dag_id)}__{{{{ run_id }}}}",
        job_logical_date=job_logical_date(plan.dag_id, target),
    )


def job_logical_date(dag_id: str, target: AirflowTarget) -> str:
    """The Jinja expression of the logical date a scheduler gives the job runs it triggers.

    It is the scheduler run's own logical date plus a sub-second offset fixed per
    scheduler, so two schedulers triggering one job for the same date do not collide
    (Airflow keeps one run per DAG and logical date) while `ds`, `ds_nodash` and
    `ts_nodash` stay the scheduler run's.
    """
    microseconds = int(hashlib.sha256(dag_id.encode()).hexdigest()[:8], 16) % 999_999 + 1
    return f"{{{{ {target.logical_date_source} + macros.timedelta(microseconds={microseconds}) }}}}"


def task_layout(plan: JobPlan) -> dict[TaskId, tuple[str | None, str]]:
    """Each task's task group (or None) and its task id inside the group."""
    if plan.job.params.original_task_ids:
        return {key: (task_id, ORIGINAL_TASK_ID) for key, task_id in plan.task_ids.items()}
    configs = plan.job.task_configs
    return {
        key: (configs[key].task_group if key in configs else None, task_id)
        for key, task_id in plan.task_ids.items()
    }


def airflow_task_ids(plan: JobPlan) -> dict[TaskId, str]:
    """What Airflow calls each task of a job: its id, prefixed by its task group."""
    return {key: _in_group(*placed) for key, placed in task_layout(plan).items()}


def _typed(task: Task) -> tuple[str, StrictModel]:
    """A planned task's type and parameters: a plan without problems has both."""
    if task.task_type is None or task.params is None:
        raise ValueError(f"{task.ref}: a task without a valid type cannot be rendered")
    return task.task_type, task.params


def _in_group(group: str | None, task_id: str) -> str:
    """The Airflow task id of a task, which its task group prefixes."""
    return f"{group}.{task_id}" if group else task_id


def _import_name(
    wanted: tuple[str, str] | None, imported_as: dict[tuple[str, str], str], taken: set[str]
) -> str | None:
    """The local name of an extra import, suffixed when it would clash with another name."""
    if wanted is None:
        return None
    if wanted not in imported_as:
        local, suffix = wanted[1], 2
        while local in taken:
            local, suffix = f"{wanted[1]}_{suffix}", suffix + 1
        taken.add(local)
        imported_as[wanted] = local
    return imported_as[wanted]


def _blocks(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tasks in run order, gathered by task group (a group sits where its first task is)."""
    blocks: list[dict[str, Any]] = []
    by_group: dict[str | None, dict[str, Any]] = {}
    for task in tasks:
        group = task["group"]
        if group is None and blocks and blocks[-1]["group"] is None:
            block = blocks[-1]
        elif group is not None and group in by_group:
            block = by_group[group]
        else:
            block = {"group": group, "tasks": []}
            blocks.append(block)
            if group is not None:
                by_group[group] = block
        block["tasks"].append(task)
    return blocks


def _callbacks(params: DagSettings, ref: RowRef, rows: dict[str, RowRef]) -> dict[str, Any]:
    """Arguments of the `DagCallbacks` the DAG's tasks report to (alerts, run history)."""
    alerts: AlertSettings = params.alerts
    kwargs: dict[str, Any] = {
        "alerts": alerts.model_dump(exclude_none=True, exclude={"deadline"}),
        "dag_row": str(ref),
        "task_rows": {task_id: str(row) for task_id, row in sorted(rows.items())},
    }
    if params.run_history_table is not None:
        kwargs["run_history_table"] = params.run_history_table
    deadline = None
    if alerts.deadline is not None:
        deadline = {
            "interval": datetime.timedelta(seconds=alerts.deadline),
            "callback": _DEADLINE_CALLBACK,
            "kwargs": {"alerts": kwargs["alerts"], "dag_row": str(ref)},
        }
    return {"kwargs": kwargs, "deadline": deadline}


def run_id_prefix(dag_id: str) -> str:
    """The scheduler's part of the run ids it gives job runs: unique per scheduler.

    Airflow run ids are at most 250 characters and the scheduler's own run id (about 40)
    follows, so a long DAG id is shortened and made unique again with a hash.
    """
    if len(dag_id) <= _RUN_ID_PREFIX_MAX:
        return dag_id
    digest = hashlib.sha256(dag_id.encode()).hexdigest()[:12]
    return f"{dag_id[: _RUN_ID_PREFIX_MAX - 13]}-{digest}"


_RUN_ID_PREFIX_MAX = 150


def _dag_args(plan: Plan, params: Any, *, description: str | None, kind: str) -> dict[str, Any]:
    """The DAG arguments jobs and schedulers share; a scheduler adds its schedule."""
    tags = list(dict.fromkeys(["dynadag", kind, *params.tags]))
    timeout = params.dagrun_timeout
    return {
        "dag_id": plan.dag_id,
        "display_name": plan.display_name,
        "description": description,
        "max_active_runs": params.max_active_runs,
        "dagrun_timeout": datetime.timedelta(seconds=timeout) if timeout is not None else None,
        "tags": tags,
        "default_args": params.operator_kwargs(),
        "schedule": None,
        "schedule_assets": [],
        "timetable": None,
        "start_date": None,
        "catchup": None,
    }


def _finish(
    kind: Kind,
    plan: Plan,
    target: AirflowTarget,
    dag: dict[str, Any],
    imports: dict[str, set[str]],
    **body: Any,
) -> dict[str, Any]:
    """Add imports, the provenance header and the inputs hash to a template context."""
    imports.setdefault(target.module_of("DAG"), set()).add("DAG")
    imports.setdefault(_CALLBACKS_MODULE, set()).add("DagCallbacks")
    if body["callbacks"]["deadline"] is not None:
        for name in _DEADLINE_NAMES:
            imports.setdefault(target.module_of(name), set()).add(name)
    context: dict[str, Any] = {
        "kind": kind,
        "airflow": target.version,
        "asset_class": target.asset_class,
        "dag": dag,
        "imports": [(module, sorted(imports[module])) for module in sorted(imports)],
        **body,
    }
    # One serialisation gives the inputs hash and tells whether `import datetime` is needed.
    seen: set[type] = set()

    def canonical(value: Any) -> Any:
        seen.add(type(value))
        return _canonical(value)

    encoded = json.dumps(context, sort_keys=True, default=canonical)
    context["uses_timedelta"] = datetime.timedelta in seen
    context["inputs_sha256"] = hashlib.sha256(encoded.encode()).hexdigest()
    context["version"] = __version__
    context["sources"] = plan.inputs
    context["docstring"] = f"{kind.title()} DAG {plan.dag_id}, generated from {plan.inputs[0]}."
    return context


def edge_statements(edges: list[Edge], names: dict[str, str]) -> list[str]:
    """The ``>>`` statements of a DAG body, each downstream task in exactly one of them.

    A task with several upstream tasks gets ``[a, b] >> c``; the tasks whose only
    upstream is one task share ``a >> [b, c]``; a statement ending in one task goes on
    with that task's own (``a >> b >> [c, d]``) while the line fits. Statements follow
    the order of `names` (run order) by their first downstream task, laid out as black
    lays them out.
    """
    order = {task: index for index, task in enumerate(names)}
    upstreams: dict[str, set[str]] = defaultdict(set)
    for edge in edges:
        upstreams[edge.downstream].add(edge.upstream)
    fan_out: dict[str, list[str]] = defaultdict(list)
    statements: list[tuple[int, list[list[str]]]] = []
    for downstream in sorted(upstreams, key=order.__getitem__):
        ups = sorted(upstreams[downstream], key=order.__getitem__)
        if len(ups) == 1:
            fan_out[ups[0]].append(downstream)
        else:
            statements.append((order[downstream], [ups, [downstream]]))
    statements += [(order[downs[0]], [[up], downs]) for up, downs in fan_out.items()]
    written: set[str] = set()  # tasks whose fan-out statement is written
    lines = []
    for _, sides in sorted(statements):
        if len(sides[0]) == 1 and sides[0][0] in written:
            continue
        if len(sides[0]) == 1:
            written.add(sides[0][0])
        chain = [[names[task] for task in side] for side in sides]
        while len(sides[-1]) == 1 and sides[-1][0] in fan_out and sides[-1][0] not in written:
            task = sides[-1][0]
            longer = [*chain, [names[t] for t in fan_out[task]]]
            if len(_one_line(longer)) > BLACK_LINE_LENGTH:
                break
            written.add(task)
            chain, sides = longer, [*sides, fan_out[task]]
        lines.append(_shift(chain))
    return lines


def _side(tasks: list[str]) -> str:
    return tasks[0] if len(tasks) == 1 else f"[{', '.join(tasks)}]"


def _one_line(chain: list[list[str]]) -> str:
    return "    " + " >> ".join(map(_side, chain))


def _shift(chain: list[list[str]]) -> str:
    """``a >> b``, ``[a, b] >> c``, ``a >> [b, c]`` or a chain of them, as black writes it."""
    line = _one_line(chain)
    if len(line) <= BLACK_LINE_LENGTH or len(chain) > 2 or max(map(len, chain)) == 1:
        return line  # a chain always fits; black wraps two over-long names itself
    upstream, downstream = chain
    if len(upstream) > 1:
        items = "".join(f"        {name},\n" for name in upstream)
        return f"    [\n{items}    ] >> {_side(downstream)}"
    items = "".join(f"        {name},\n" for name in downstream)
    return f"    {upstream[0]} >> [\n{items}    ]"


def _canonical(value: Any) -> Any:
    """A JSON form of context values, for the inputs hash."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, set):
        return sorted(value)
    return str(value)
