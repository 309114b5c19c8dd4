"""`compile_dags`: a pure function from a snapshot of rows to DAG sources or problems.

No boto3, no clock, no environment: the Lambda, the CLI and the tests all call this.
This module orchestrates (validate, build each DAG's template context, render, format
with black); what a generated file says comes from `context.py` and the templates.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambda_compiler import __version__
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
    inputs_key: str | None = None
    """`inputs_key` of what was rendered (None when invalid)."""

    @property
    def ok(self) -> bool:
        return self.source is not None

    @property
    def sha256(self) -> str | None:
        """The sha256 of the file's bytes, as kept in S3 object metadata."""
        return sha256_hex(self.source.encode()) if self.source else None


@dataclass(frozen=True)
class Skipped:
    """A valid DAG not rendered: its `inputs_key` equals the one recorded for the file in
    S3, so rendering would give that file's bytes. `render()` renders it all the same
    (for when the file turns out not to be the recorded one)."""

    dag_id: DagId
    inputs: tuple[RowRef, ...]
    inputs_key: str
    render: Callable[[], DagResult]


@functools.cache
def renderer_sha256() -> str:
    """sha256 over the DAG and task-type templates and the modules that render them."""
    import dag_templates
    from lambda_compiler.task_types import TEMPLATE_DIR as TASK_TEMPLATE_DIR

    here = Path(__file__).parent
    files = [
        *sorted(Path(dag_templates.__file__).parent.glob("*.j2")),
        *sorted(TASK_TEMPLATE_DIR.glob("*.j2")),
        *(here / f"{name}.py" for name in ("render", "literals", "safety", "compiler")),
    ]
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def inputs_key(context: dict[str, Any], config: CompilerConfig) -> str:
    """What a DAG file's bytes are a function of: the template context's inputs hash
    (`context.py`, the header's "Inputs sha256"), the compiler's version, its templates
    and rendering code (`renderer_sha256`) and the deployment's compile settings. Equal
    keys give equal bytes, so a DAG whose key is the recorded one need not be rendered."""
    parts = [
        context["inputs_sha256"],
        __version__,
        renderer_sha256(),
        repr(config),
    ]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


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
    for plans in plans_by_dag(validated, only).values():
        dag = compile_one(plans, config)
        assert isinstance(dag, DagResult)  # nothing recorded: nothing skipped
        yield dag


def plans_by_dag(
    validated: Validated, only: Collection[RowRef] | None = None
) -> dict[DagId, list[Plan]]:
    """The plans of each DAG (`only`: of those rows), in DAG-id and then row order."""
    by_dag: dict[DagId, list[Plan]] = defaultdict(list)
    for ref, plan in sorted(validated.plans.items()):
        if only is None or ref in only:
            by_dag[plan.dag_id].append(plan)
    return dict(sorted(by_dag.items()))


def compile_one(
    plans: list[Plan], config: CompilerConfig = DEFAULT_CONFIG, recorded: str | None = None
) -> DagResult | Skipped:
    """One DAG from its rows' plans; `Skipped` when its `inputs_key` is `recorded`."""
    plan = plans[0]
    kind: Kind = "job" if isinstance(plan, JobPlan) else "scheduler"
    inputs = tuple(sorted({ref for p in plans for ref in p.inputs}))
    problems = sorted({problem for p in plans for problem in p.problems})
    if problems:
        return DagResult(plan.dag_id, kind, plan.inputs[0], inputs, None, tuple(problems))
    target = config.airflow
    if isinstance(plan, JobPlan):
        context = job_context(plan, target)
    else:
        context = scheduler_context(plan, target)
    key = inputs_key(context, config)
    render = functools.partial(_render, plan, kind, inputs, context, key, config)
    if key == recorded:
        return Skipped(plan.dag_id, inputs, key, render)
    return render()


def _render(
    plan: Plan,
    kind: Kind,
    inputs: tuple[RowRef, ...],
    context: dict[str, Any],
    key: str,
    config: CompilerConfig,
) -> DagResult:
    from lambda_compiler.render import RenderError, render_dag  # black: only to render

    try:
        source = render_dag(f"{kind}.py.j2", context, config.python_module_prefixes)
    except (RenderError, UnsafeSourceError) as exc:
        problem = Problem(plan.inputs[0], "*", ProblemCode.UNSAFE_OUTPUT, str(exc))
        return DagResult(plan.dag_id, kind, plan.inputs[0], inputs, None, (problem,))
    return DagResult(plan.dag_id, kind, plan.inputs[0], inputs, source, (), key)
