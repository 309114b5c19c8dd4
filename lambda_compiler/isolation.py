"""Compile DAG by DAG, so an unexpected exception stays with the one DAG that raised it.

`compile_each` is a generator over every DAG: one exception (a compiler bug, a row
value nobody foresaw) would end it and lose every DAG after it. `compile_isolated`
compiles each DAG on its own and turns such an exception into a `CompileCrash`,
which the caller records as that DAG's `error` outcome while the others are built.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from lambda_compiler.compiler import DagResult, compile_each
from lambda_compiler.config import DEFAULT_CONFIG, CompilerConfig
from lambda_compiler.model import DagId
from lambda_compiler.rows import RowRef
from lambda_compiler.validate import Plan, Validated


@dataclass(frozen=True)
class CompileCrash:
    """A DAG whose compile raised: its id, the rows it reads and the exception."""

    dag_id: DagId
    inputs: tuple[RowRef, ...]
    error: Exception


def compile_isolated(
    validated: Validated,
    only: Collection[RowRef] | None = None,
    config: CompilerConfig = DEFAULT_CONFIG,
) -> Iterator[DagResult | CompileCrash]:
    """What `compile_each` yields (same order, same `only`), a crash as `CompileCrash`."""
    by_dag: dict[DagId, dict[RowRef, Plan]] = defaultdict(dict)
    for ref, plan in validated.plans.items():
        if only is None or ref in only:
            by_dag[plan.dag_id][ref] = plan
    for dag_id, plans in sorted(by_dag.items()):
        try:
            (dag,) = compile_each(dataclasses.replace(validated, plans=plans), None, config)
        except Exception as exc:  # any failure of this one DAG is its own outcome
            inputs = tuple(sorted({ref for plan in plans.values() for ref in plan.inputs}))
            yield CompileCrash(dag_id, inputs, exc)
        else:
            yield dag
