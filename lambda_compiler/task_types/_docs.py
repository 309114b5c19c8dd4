"""``docs/task-types.md`` from the task-type modules: their docstrings, schemas and examples."""

from __future__ import annotations

import inspect
import json
import sys
from typing import Any

import lambda_compiler.task_types as package
from lambda_compiler.generated import with_block
from lambda_compiler.targets import TARGETS
from lambda_compiler.task_types._shared import Operator, TaskType

TYPES_BLOCK = "task types"
HOW_TO_BLOCK = "adding a task type"


def docs_with_types(text: str) -> str:
    """`text` (the docs page) with its two generated blocks regenerated."""
    text = with_block(text, TYPES_BLOCK, types_markdown())
    return with_block(text, HOW_TO_BLOCK, how_to_markdown())


def types_markdown() -> str:
    """The overview table, then one section per task type."""
    lines = ["| `task_type` | operator | runs where |", "| --- | --- | --- |"]
    for name, spec in package.TASK_TYPES.items():
        operators = " or ".join(f"`{operator.class_name}`" for operator in spec.operators)
        lines.append(f"| [`{name}`](#{name.lower()}) | {operators} | {spec.runs_where} |")
    sections = [section(spec) for spec in package.TASK_TYPES.values()]
    return "\n".join(lines) + "\n\n" + "\n".join(sections)


def how_to_markdown() -> str:
    """The package docstring's note on adding a type, without its first line."""
    doc = inspect.cleandoc(package.__doc__ or "")
    return doc.split("\n\n", 1)[1] + "\n"


def section(spec: TaskType) -> str:
    """One task type: purpose, parameters, notes, operator(s) and example rows."""
    doc = inspect.cleandoc(sys.modules[spec.params.__module__].__doc__ or "")
    purpose, _, notes = doc.partition("\n\n")
    parts = [f"## {spec.name}", purpose, parameters_table(spec)]
    if notes:
        parts.append(notes)
    parts.append("Operator: " + ", or ".join(_operator(op) for op in spec.operators) + ".")
    parts += [
        f"```json\n{json.dumps(row, indent=2, ensure_ascii=False)}\n```" for row in spec.examples
    ]
    return "\n\n".join(parts) + "\n"


def parameters_table(spec: TaskType) -> str:
    """Name, type, whether required, default and meaning of each parameter."""
    properties = spec.params.model_json_schema()["properties"]
    lines = [
        "| parameter | type | required | default | meaning |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, field in spec.params.model_fields.items():
        required = field.is_required()
        if required:
            default = ""
        elif name in spec.defaults:
            default = spec.defaults[name]
        elif field.default is None:
            default = "none"
        else:
            default = f"`{json.dumps(field.default)}`"
        lines.append(
            f"| `{name}` | {type_text(properties[name])} | {'yes' if required else 'no'} "
            f"| {default} | {field.description or ''} |"
        )
    return "\n".join(lines)


def type_text(schema: dict[str, Any]) -> str:
    """A JSON Schema property in words: ``string or list of strings``, ``integer 1 to 3600``."""
    if "anyOf" in schema:
        words = [type_text(part) for part in schema["anyOf"] if part.get("type") != "null"]
        return " or ".join(dict.fromkeys(words))
    kind = str(schema.get("type"))
    if kind == "integer" and "minimum" in schema and "maximum" in schema:
        return f"integer {schema['minimum']} to {schema['maximum']}"
    if kind == "array":
        items = schema.get("items") or {}
        return f"list of {type_text(items)}s" if items.get("type") else "list"
    if kind == "object":
        values = schema.get("additionalProperties")
        return f"map of {type_text(values)}s" if isinstance(values, dict) else "map"
    return {"string": "string", "integer": "integer", "boolean": "boolean"}.get(kind, "any")


def _operator(operator: Operator) -> str:
    """The class and the module a generated file imports it from (per release when it moved)."""
    if operator.module is not None:
        return f"`{operator.class_name}` from `{operator.module}`"
    releases: dict[str, list[str]] = {}
    for version, target in TARGETS.items():
        releases.setdefault(target.module_of(operator.class_name), []).append(version)
    where = "; from ".join(
        f"`{module}` on Airflow {', '.join(versions)}" for module, versions in releases.items()
    )
    return f"`{operator.class_name}` from {where}"
