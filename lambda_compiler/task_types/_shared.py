"""What every task type is made of (`TaskType`, `Operator`) and the parameter types they share.

Not a task type itself: the registry skips modules whose name starts with ``_``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import ConfigDict, Field, PlainValidator, ValidationInfo, WithJsonSchema

from lambda_compiler.config import CompilerConfig
from lambda_compiler.params import StrictModel, check_allowed, policy, refuse

NonEmpty = Annotated[str, Field(min_length=1)]
AwsConnId = Annotated[str, Field(min_length=1, max_length=250)]
WaiterDelay = Annotated[int, Field(ge=1, le=3600)]
WaiterAttempts = Annotated[int, Field(ge=1, le=100000)]
AWS_DEFAULT_CONN = "aws_default"
"""The connection an AWS operator without `aws_conn_id` uses."""


def _sql(value: Any) -> str | list[str]:
    """A SQL string, or a non-empty list of them; nothing blank."""
    if isinstance(value, str):
        if value.strip():
            return value
        got = "a blank string"
    elif isinstance(value, list):
        if value and all(isinstance(item, str) and item.strip() for item in value):
            return value
        got = "an empty list" if not value else "a list with a blank or non-string item"
    else:
        got = type(value).__name__
    raise ValueError(f"must be a SQL string or a non-empty list of SQL strings (got {got})")


_SQL_TEXT = {"type": "string", "pattern": r"\S"}
Sql = Annotated[
    str | list[str],
    PlainValidator(_sql),
    WithJsonSchema({"anyOf": [_SQL_TEXT, {"type": "array", "minItems": 1, "items": _SQL_TEXT}]}),
]


class TaskParams(StrictModel):
    """Base of a task type's parameter schema: each field's docstring is its documentation."""

    model_config = ConfigDict(use_attribute_docstrings=True)


@dataclass(frozen=True)
class Operator:
    """The operator class a task renders to, and the template of its arguments.

    `module` is None for an operator whose module depends on the Airflow release (the
    target's capability table names it). `template` is a ``.j2`` file beside the task
    type's module. `extra_import` is a ``(module, name)`` the arguments refer to (the
    `PYTHON` callable); the compiler imports it under a name that clashes with nothing.
    """

    module: str | None
    class_name: str
    template: str
    extra_import: tuple[str, str] | None = None


@dataclass(frozen=True)
class TaskType:
    """A `task_type` value: its parameter schema, how parameters pick an operator, its docs.

    `operators` lists every operator `operator(params)` can return (the docs show them);
    `runs_where` is the overview table's column; `examples` are whole task rows (the docs
    show them and a test compiles them); `defaults` says what leaving out a parameter
    whose default is None means, where that is more than "the operator's default".
    The prose of the docs is the docstring of the module defining the type.
    """

    name: str
    params: type[TaskParams]
    operator: Callable[[Any], Operator]
    operators: tuple[Operator, ...]
    runs_where: str
    examples: tuple[Mapping[str, Any], ...]
    defaults: Mapping[str, str] = field(default_factory=dict)


def allowed_conn(value: str | None, info: ValidationInfo) -> str | None:
    """A connection id the deployment allows (``DYNADAG_ALLOWED_CONN_IDS``)."""
    if value is None:
        return None
    return check_allowed(policy(info).conn_ids, "connection", value)


def default_conn_allowed(config: CompilerConfig, field: str, default: str) -> None:
    """A row that leaves `field` out uses Airflow's `default` connection: it needs allowing too."""
    refusal = config.conn_ids.refusal("connection", default)
    if refusal:
        raise refuse(f"{field} is not given, so the default {refusal}")


def code_allowed(config: CompilerConfig, what: str, locations: list[str]) -> None:
    """Each code location must lie under ``DYNADAG_ALLOWED_S3_CODE_PREFIXES``."""
    for location in locations:
        check_allowed(config.s3_code_prefixes, what, location)


def comma_items(value: str) -> list[str]:
    """The non-blank items of a comma-separated list."""
    return [item.strip() for item in value.split(",") if item.strip()]
