"""Calls a function by dotted path, with arguments from the row.

Allowed only when the deployment lists module prefixes in
`DYNADAG_PYTHON_MODULE_PREFIXES` (comma-separated, e.g. `analytics,etl.jobs`);
prefix `etl` allows `etl` and `etl.x.y` but not `etl_other`. The generated file
imports the function with a plain `from analytics.quality import check_row_count`
(renamed with `as` only if the name clashes with another name in the file), and
the AST allowlist that checks every generated file admits imports from the
configured prefixes only. The module must be importable by Airflow: put it in the
dags folder (beside `dags_runtime/`), in `plugins.zip`, or in `requirements.txt`.

Why a prefix list: a row writer chooses the function and its arguments, so
`os.system` with `{"command": "..."}` would be shell access. The prefixes say
which code the deployment vouches for.

No part of the path may start with `_` (`etl._compat.system` is refused). The
compiler never imports your code, so it cannot tell a function defined in an
allowed module from a name that module re-exports: `etl.system` is accepted, and
runs `os.system` if `etl/__init__.py` does `from os import system`. Keeping the
allowed packages free of such names, or allowing narrower prefixes
(`etl.tasks`), is the deployer's part.
"""

from __future__ import annotations

import dataclasses
import keyword
import re
from typing import Any

from pydantic import ValidationInfo, field_validator

from lambda_compiler.params import policy
from lambda_compiler.task_types._shared import NonEmpty, Operator, TaskParams, TaskType

_CALLABLE_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


class PythonParams(TaskParams):
    """`PYTHON`: a callable by dotted path, from a module the deployment allows."""

    python_callable: NonEmpty
    """`package.module.function`, under an allowed prefix"""
    op_args: list[Any] | None = None
    """positional arguments (JSON values)"""
    op_kwargs: dict[str, Any] | None = None
    """keyword arguments (JSON values; strings are Jinja-rendered)"""

    @field_validator("python_callable")
    @classmethod
    def _allowed_callable(cls, value: str, info: ValidationInfo) -> str:
        if not _CALLABLE_PATH.match(value) or any(
            keyword.iskeyword(part) for part in value.split(".")
        ):
            raise ValueError(f"{value!r} is not a dotted path like 'package.module.function'")
        module = value.rpartition(".")[0]
        private = [part for part in value.split(".") if part.startswith("_")]
        if private:
            raise ValueError(f"{private[0]!r} is private (starts with '_')")
        config = policy(info)
        if not config.python_module_prefixes:
            raise ValueError(
                "PYTHON tasks are disabled: no module prefixes are configured "
                "(DYNADAG_PYTHON_MODULE_PREFIXES)"
            )
        if not config.allows_module(module):
            allowed = ", ".join(config.python_module_prefixes)
            raise ValueError(f"module {module!r} is not under an allowed prefix ({allowed})")
        return value

    @property
    def module(self) -> str:
        return self.python_callable.rpartition(".")[0]

    @property
    def function(self) -> str:
        return self.python_callable.rpartition(".")[2]


_PYTHON_OPERATOR = Operator(None, "PythonOperator", "python.py.j2")


def _python_operator(params: PythonParams) -> Operator:
    return dataclasses.replace(_PYTHON_OPERATOR, extra_import=(params.module, params.function))


TASK_TYPE = TaskType(
    "PYTHON",
    PythonParams,
    _python_operator,
    operators=(_PYTHON_OPERATOR,),
    runs_where="worker (opt-in)",
    examples=(
        {
            "task_id": "105",
            "task_name": "check_sessions",
            "task_type": "PYTHON",
            "status": 1,
            "task_params": {
                "python_callable": "analytics.quality.check_row_count",
                "op_kwargs": {"table": "mart.sessions", "day": "{{ ds }}", "minimum": 1000},
            },
        },
    ),
)
