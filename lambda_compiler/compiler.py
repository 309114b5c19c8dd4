"""`compile_dags`: a pure function from a snapshot of rows to DAG sources or problems.

No boto3, no clock, no environment: the Lambda, the CLI and the tests all call this.
This module orchestrates (validate, build each DAG's template context, render, format
with black); what a generated file says comes from `context.py` and the templates.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from lambda_compiler.config import DEFAULT_CONFIG, CompilerConfig
from lambda_compiler.context import Kind, job_context, scheduler_context
from lambda_compiler.file_metadata import sha256_hex
from lambda_compiler.model import DagId
from lambda_compiler.problems import Problem, ProblemCode
from lambda_compiler.rows import RowRef
from lambda_compiler.safety import UnsafeSourceError
from lambda_compiler.snapshot import Snapshot
from lambda_compiler.validate import JobPlan, Plan, Validated, validate


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
        return sha256_hex(self.source.encode()) if self.source else None


@dataclass(frozen=True)
class CompileResult:
    """Every DAG of a snapshot, plus the rows that produce no DAG.

    `unused`: task rows no enabled job lists, with their own problems (`validate.py`).
    """

    dags: dict[DagId, DagResult]
    disabled: tuple[RowRef, ...]
    unparsable: tuple[Problem, ...]
    unused: dict[RowRef, tuple[Problem, ...]] = dataclasses.field(default_factory=dict)

    @property
    def problems(self) -> list[Problem]:
        """Every problem, sorted by row and attribute."""
        found = set(self.unparsable)
        for problems in self.unused.values():
            found.update(problems)
        for result in self.dags.values():
            found.update(result.problems)
        return sorted(found)


def compile_dags(
    snapshot: Snapshot,
    only: Collection[RowRef] | None = None,
    config: CompilerConfig = DEFAULT_CONFIG,
    validated: Validated | None = None,
) -> CompileResult:
    """Validate every row and render each valid DAG; `only` limits rendering to those rows.

    `config` says which code-running task types the deployment allows. `validated` is
    `validate(snapshot, config)` when the caller already has it.
    """
    if validated is None:
        validated = validate(snapshot, config)
    dags = {dag.dag_id: dag for dag in compile_each(validated, only, config)}
    return CompileResult(
        dags, tuple(validated.disabled), tuple(validated.unparsable), validated.unused
    )


def compile_each(
    validated: Validated,
    only: Collection[RowRef] | None = None,
    config: CompilerConfig = DEFAULT_CONFIG,
) -> Iterator[DagResult]:
    """Each DAG of validated rows in DAG-id order, rendered one at a time (`only` as above)."""
    by_dag: dict[DagId, list[Plan]] = defaultdict(list)
    for ref, plan in sorted(validated.plans.items()):
        if only is None or ref in only:
            by_dag[plan.dag_id].append(plan)
    for _, plans in sorted(by_dag.items()):
        yield _result(plans, config)


def _result(plans: list[Plan], config: CompilerConfig) -> DagResult:
    plan = plans[0]
    kind: Kind = "job" if isinstance(plan, JobPlan) else "scheduler"
    inputs = tuple(sorted({ref for p in plans for ref in p.inputs}))
    problems = sorted({problem for p in plans for problem in p.problems})
    source = None
    if not problems:
        target = config.airflow
        if isinstance(plan, JobPlan):
            context = job_context(plan, target)
        else:
            context = scheduler_context(plan, target)
        from lambda_compiler.render import RenderError, render_dag  # black: only to render

        try:
            source = render_dag(f"{kind}.py.j2", context, config.python_module_prefixes)
        except (RenderError, UnsafeSourceError) as exc:
            problems = [Problem(plan.inputs[0], "*", ProblemCode.UNSAFE_OUTPUT, str(exc))]
    return DagResult(plan.dag_id, kind, plan.inputs[0], inputs, source, tuple(problems))
