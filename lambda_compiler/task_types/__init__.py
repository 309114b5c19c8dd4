"""Task types: one module per `task_type`, found here; nothing else lists them.

How to add a task type (say `DBT-CLOUD`):

1. Write one module in this package, named after the type (`dbt_cloud.py`). Its
   docstring documents the type: the first paragraph says what it runs, the rest is
   what a row writer must know (it follows the parameters table in the docs).
2. In it, the parameter schema: a `TaskParams` subclass whose field names are the
   operator's argument names where possible, each followed by a one-line docstring
   (its meaning in the docs and the rows schema), with constraints that give clear
   messages. Credentials are never parameters: name an Airflow connection
   (`conn_id`) or a secret (`secret_arn`) instead. Deployment policy (allowed
   connections, roles, code) is read with `params.policy(info)` in validators.
3. Beside it, its template `dbt_cloud.py.j2`: the operator's keyword arguments, one
   per line, each value through `| literal`; leave out arguments the row did not
   give so the operator's defaults apply.
4. End the module with `TASK_TYPE = TaskType(name, Params, operator, operators=...,
   runs_where=..., examples=...)`, where `operator(params)` returns one of
   `operators`, each an `Operator(module, class_name, template)`. Imports come from
   here, never from a row; the module must be under `airflow` for the AST allowlist
   of generated files to accept it (None: the target release's table in
   `targets.py` names it).
5. Run `make docs`: it regenerates `docs/task-types.md` and `docs/rows.schema.json`
   (tests fail until you do). The package's tests already check your module: it is
   registered, its examples compile, every parameter is documented, its templates
   exist. Add its bad parameters to `tests/unit/test_task_types.py`, the loaded
   operator's arguments to `tests/runtime/test_runtime_operators.py` and, if it can
   run locally, a `dag.test()` run.

Nothing else lists the types: not the compiler, the validator, the rows schema nor
the docs. Modules whose name starts with `_` (shared pieces, the docs generator)
are not task types.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from lambda_compiler.task_types._shared import Operator, TaskParams, TaskType
from lambda_compiler.task_types.redshift_sql import REDSHIFT_DEFAULT_CONN

TEMPLATE_DIR = Path(__file__).parent
"""Where the task types' templates are: `render.py` loads ``tasks/<name>.py.j2`` from here."""


def type_modules() -> list[str]:
    """The names of this package's task-type modules (every module not starting with ``_``)."""
    return sorted(
        info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")
    )


def _discover() -> dict[str, TaskType]:
    found: dict[str, TaskType] = {}
    for name in type_modules():
        module = importlib.import_module(f"{__name__}.{name}")
        spec = getattr(module, "TASK_TYPE", None)
        if not isinstance(spec, TaskType):
            raise TypeError(f"{module.__name__} defines no TASK_TYPE = TaskType(...)")
        if spec.name in found:
            raise TypeError(f"{module.__name__}: task type {spec.name!r} is defined twice")
        found[spec.name] = spec
    return dict(sorted(found.items()))


TASK_TYPES: dict[str, TaskType] = _discover()
"""Every task type by its `task_type` value, in name order."""

__all__ = [
    "REDSHIFT_DEFAULT_CONN",
    "TASK_TYPES",
    "TEMPLATE_DIR",
    "Operator",
    "TaskParams",
    "TaskType",
    "type_modules",
]
