"""`compile_dags`: a pure function from a snapshot of rows to DAG sources or problems.

No boto3, no clock, no environment: the Lambda, the CLI and the tests all call this.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from lambda_compiler import __version__
from lambda_compiler.literals import variable_names
from lambda_compiler.model import DagId, Edge
from lambda_compiler.problems import Problem, ProblemCode
from lambda_compiler.render import RenderError, render_dag
from lambda_compiler.rows import RowRef
from lambda_compiler.safety import UnsafeSourceError
from lambda_compiler.snapshot import Snapshot
from lambda_compiler.task_types import TASK_TYPES
from lambda_compiler.validate import JobPlan, Plan, SchedulerPlan, validate

Kind = Literal["job", "scheduler"]
_TRIGGER_MODULE = "airflow.providers.standard.operators.trigger_dagrun"


@dataclass(frozen=True)
class DagResult:
    """One DAG: its source when every input row is valid, otherwise its problems."""

    dag_id: DagId
    kind: Kind
    ref: RowRef
    inputs: tuple[RowRef, ...]
    source: str | None
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return self.source is not None

    @property
    def sha256(self) -> str | None:
        """The sha256 of the file's bytes, as kept in S3 object metadata."""
        return hashlib.sha256(self.source.encode()).hexdigest() if self.source else None


@dataclass(frozen=True)
class CompileResult:
    """Every DAG of a snapshot, plus the rows that produce no DAG."""

    dags: dict[DagId, DagResult]
    disabled: tuple[RowRef, ...]
    unparsable: tuple[Problem, ...]

    @property
    def problems(self) -> list[Problem]:
        """Every problem, sorted by row and attribute."""
        found = set(self.unparsable)
        for result in self.dags.values():
            found.update(result.problems)
        return sorted(found)


def compile_dags(snapshot: Snapshot, only: Collection[RowRef] | None = None) -> CompileResult:
    """Validate every row and render each valid DAG; `only` limits rendering to those rows."""
    validated = validate(snapshot)
    by_dag: dict[DagId, list[Plan]] = defaultdict(list)
    for ref, plan in sorted(validated.plans.items()):
        if only is None or ref in only:
            by_dag[plan.dag_id].append(plan)
    dags = {dag_id: _result(plans) for dag_id, plans in sorted(by_dag.items())}
    return CompileResult(dags, tuple(validated.disabled), tuple(validated.unparsable))


def _result(plans: list[Plan]) -> DagResult:
    plan = plans[0]
    kind: Kind = "job" if isinstance(plan, JobPlan) else "scheduler"
    inputs = tuple(sorted({ref for p in plans for ref in p.inputs}))
    problems = sorted({problem for p in plans for problem in p.problems})
    source = None
    if not problems:
        context = job_context(plan) if isinstance(plan, JobPlan) else scheduler_context(plan)
        try:
            source = render_dag(f"{kind}.py.j2", context)
        except (RenderError, UnsafeSourceError) as exc:
            problems = [Problem(plan.inputs[0], "*", ProblemCode.UNSAFE_OUTPUT, str(exc))]
    return DagResult(plan.dag_id, kind, plan.inputs[0], inputs, source, tuple(problems))


def job_context(plan: JobPlan) -> dict[str, Any]:
    """Everything `job.py.j2` needs, all of it validated."""
    job = plan.job
    airflow_ids = [plan.task_ids[task.task_id] for task in plan.tasks]
    names = variable_names(airflow_ids)
    imports: dict[str, set[str]] = defaultdict(set)
    tasks = []
    for task in plan.tasks:
        operator = TASK_TYPES[task.task_type].operator(task.params)
        imports[operator.module].add(operator.class_name)
        overrides = job.task_configs.get(task.task_id)
        tasks.append(
            {
                "var": names[plan.task_ids[task.task_id]],
                "task_id": plan.task_ids[task.task_id],
                "display_name": plan.display_names.get(task.task_id),
                "operator": operator,
                "params": task.params,
                "settings": overrides.operator_kwargs() if overrides else {},
            }
        )
    edges = [
        Edge(downstream=plan.task_ids[edge.downstream], upstream=plan.task_ids[edge.upstream])
        for edge in job.edges
    ]
    dag = _dag_args(plan, job.params, description=job.params.description, kind="job")
    dag.update(schedule=None, start_date=datetime.date(2024, 1, 1), timezone="UTC", catchup=False)
    return _finish("job", plan, dag, imports, tasks=tasks, edges=_edge_lines(edges, names))


def scheduler_context(plan: SchedulerPlan) -> dict[str, Any]:
    """Everything `scheduler.py.j2` needs, all of it validated."""
    scheduler = plan.scheduler
    params = scheduler.params
    names = variable_names([job_plan.dag_id for job_plan in plan.jobs])
    configs = {plan.resolved[key].dag_id: config for key, config in scheduler.job_configs.items()}
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
    dag.update(
        schedule=plan.schedule,
        start_date=params.start_date,
        timezone=params.timezone,
        catchup=params.catchup,
    )
    imports = {_TRIGGER_MODULE: {"TriggerDagRunOperator"}}
    return _finish(
        "scheduler",
        plan,
        dag,
        imports,
        triggers=triggers,
        edges=_edge_lines(plan.edges, names),
        poke_interval=params.poke_interval,
        trigger_run_id=f"{plan.dag_id}__{{{{ run_id }}}}",
    )


def _dag_args(plan: Plan, params: Any, *, description: str | None, kind: str) -> dict[str, Any]:
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
    }


def _finish(
    kind: Kind, plan: Plan, dag: dict[str, Any], imports: dict[str, set[str]], **body: Any
) -> dict[str, Any]:
    """Add imports, the provenance header and the inputs hash to a template context."""
    imports.setdefault("airflow.sdk", set()).add("DAG")
    context: dict[str, Any] = {
        "kind": kind,
        "dag": dag,
        "imports": [(module, sorted(imports[module])) for module in sorted(imports)],
        **body,
    }
    context["uses_timedelta"] = "datetime.timedelta" in json.dumps(
        context, default=_timedelta_marker
    )
    context["inputs_sha256"] = hashlib.sha256(
        json.dumps(context, sort_keys=True, default=_canonical).encode()
    ).hexdigest()
    context["version"] = __version__
    context["sources"] = plan.inputs
    context["docstring"] = f"{kind.title()} DAG {plan.dag_id}, generated from {plan.inputs[0]}."
    return context


def _edge_lines(edges: list[Edge], names: dict[str, str]) -> list[tuple[str, str]]:
    """``(upstream, downstream)`` source fragments: one line per upstream, fan-out as a list."""
    order = list(names)
    downstream: dict[str, set[str]] = defaultdict(set)
    for edge in edges:
        downstream[edge.upstream].add(edge.downstream)
    lines = []
    for upstream in sorted(downstream, key=order.index):
        targets = [names[t] for t in sorted(downstream[upstream], key=order.index)]
        lines.append(
            (names[upstream], targets[0] if len(targets) == 1 else f"[{', '.join(targets)}]")
        )
    return lines


def _timedelta_marker(value: Any) -> Any:
    return "datetime.timedelta" if isinstance(value, datetime.timedelta) else _canonical(value)


def _canonical(value: Any) -> Any:
    """A JSON form of context values, for the inputs hash."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)  # type: ignore[arg-type]
    if isinstance(value, set):
        return sorted(value)
    return str(value)
