"""Compile DAG by DAG, so an unexpected exception stays with the one DAG that raised it.

`compile_each` is a generator over every DAG: one exception (a compiler bug, a row
value nobody foresaw) would end it and lose every DAG after it. `compile_isolated`
compiles each DAG on its own and turns such an exception into a `CompileCrash`,
which the caller records as that DAG's `error` outcome while the others are built.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass

from lambda_compiler.compiler import DagResult, Skipped, compile_one, plans_by_dag
from lambda_compiler.config import DEFAULT_CONFIG, CompilerConfig
from lambda_compiler.model import DagId
from lambda_compiler.rows import RowRef
from lambda_compiler.validate import Validated


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
    recorded: Mapping[DagId, str] | None = None,
) -> Iterator[DagResult | Skipped | CompileCrash]:
    """What `compile_each` yields (same order, same `only`), a crash as `CompileCrash`.

    `recorded`: per DAG, the `inputs_key` of its file in S3; a DAG whose key is still
    that one is `Skipped` (not rendered).
    """
    for dag_id, plans in plans_by_dag(validated, only).items():
        try:
            yield compile_one(plans, config, (recorded or {}).get(dag_id))
        except Exception as exc:  # any failure of this one DAG is its own outcome
            inputs = tuple(sorted({ref for plan in plans for ref in plan.inputs}))
            yield CompileCrash(dag_id, inputs, exc)
