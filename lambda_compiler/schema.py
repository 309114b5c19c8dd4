"""The JSON Schema of a rows file, generated from the models the compiler validates with.

`rows_schema()` describes the plain form of a rows file (what `dynadag export` writes, as
JSON or YAML): ``{"mwaa_task": [...], "mwaa_job": [...], "mwaa_scheduler": [...]}``. The
JSON attributes' schemas are the pydantic models of `params.py` and `task_types/`
(``model_json_schema``), and `task_params` is checked against the model of its row's
`task_type`; row attributes follow `parse.py`. An editor given this schema flags a typo
(``retires``), a wrong type or an unknown task type as it is typed.

What the schema cannot see, and the compiler still checks: the content of a JSON
attribute kept as JSON *text* (only objects and lists are checked), references between
rows (unknown ids, cycles, duplicate DAG ids), the deployment's policy (allowed
connections, roles, code locations), cron and time zone validity, size limits and
secrets in Jinja. DynamoDB-typed JSON (``{"S": "x"}``) is not described.

``python -m lambda_compiler.schema [PATH]`` prints the schema, or writes it to PATH; the
copy checked in as ``docs/rows.schema.json`` is tested to match.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from lambda_compiler.generated import write
from lambda_compiler.params import JobParams, JobTaskConfig, SchedulerJobConfig, SchedulerParams
from lambda_compiler.snapshot import FILE_KEYS
from lambda_compiler.task_types import TASK_TYPES

_DEFS = "#/$defs/"
_COMMON: dict[str, Any] = {
    "Key": {
        "description": "A row key: a non-empty string (kept exactly) or a whole number.",
        "anyOf": [{"type": "string", "minLength": 1}, {"type": "integer"}],
    },
    "Id": {
        "description": "A referenced id: a string with a non-space character, or a whole number.",
        "anyOf": [{"type": "string", "pattern": r"\S"}, {"type": "integer"}],
    },
    "IdList": {
        "description": 'Ids as comma-separated text ("1,2") or a list.',
        "anyOf": [
            {"type": "string"},
            {"type": "array", "items": {"$ref": f"{_DEFS}Id"}},
            {"type": "integer"},
            {"type": "null"},
        ],
    },
    "Upstream": {
        "description": 'The upstream id(s), "pid"; null, "" or 0 mean none.',
        "anyOf": [
            {"type": "string"},
            {"type": "integer"},
            {"type": "array", "items": {"$ref": f"{_DEFS}Id"}},
            {"type": "null"},
        ],
    },
    "Text": {"description": "Non-blank text.", "type": "string", "pattern": r"\S"},
    "Status": {
        "description": "1 (or true) enabled, 0 disabled; missing means enabled.",
        "anyOf": [
            {"type": "boolean"},
            {"type": "number"},
            {"type": "string", "pattern": r"^\s*[01]\s*$"},
            {"type": "null"},
        ],
    },
    "JsonText": {
        "description": "JSON kept as text, as in the original solution (its content is "
        "checked by the compiler only); blank means no value.",
        "type": "string",
        "contentMediaType": "application/json",
    },
}


def rows_schema() -> dict[str, Any]:
    """The rows file's JSON Schema (draft 2020-12), deterministic for a given dynadag."""
    models: list[type[BaseModel]] = [
        JobParams,
        SchedulerParams,
        JobTaskConfig,
        SchedulerJobConfig,
        *(spec.params for spec in TASK_TYPES.values()),
    ]
    _, generated = models_json_schema(
        [(model, "validation") for model in models], ref_template=_DEFS + "{model}"
    )
    defs = {**generated["$defs"], **_COMMON}
    defs["TaskRow"] = _task_row()
    defs["JobRow"] = _row(
        ("job_type", "job_id"),
        {
            "job_name": _ref("Text"),
            "task_list": _ref("IdList"),
            "job_task_dependencies": _dependencies("task_id"),
            "job_params": _json(_ref("JobParams")),
            "job_task_configs": _configs("task_id", "JobTaskConfig", defs),
        },
        required=("job_name",),
    )
    defs["SchedulerRow"] = _row(
        ("schedule_id",),
        {
            "schedule_name": _ref("Text"),
            "schedule_description": {"type": ["string", "null"]},
            "job_list": _ref("IdList"),
            "schedule_job_dependencies": _dependencies("job_id"),
            "schedule_params": _json(_ref("SchedulerParams")),
            "schedule_job_configs": _configs("job_id", "SchedulerJobConfig", defs),
        },
        required=("schedule_name",),
    )
    rows = dict(zip(FILE_KEYS, ("TaskRow", "JobRow", "SchedulerRow"), strict=True))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "dynadag rows file",
        "description": "The rows of the task, job and scheduler tables (plain JSON or YAML).",
        "type": "object",
        "additionalProperties": False,
        "properties": {key: {"type": "array", "items": _ref(row)} for key, row in rows.items()},
        "$defs": dict(sorted(defs.items())),
    }


def _task_row() -> dict[str, Any]:
    """A task row: `task_params` is checked against the model of the row's `task_type`."""
    row = _row(
        ("task_id",),
        {
            "task_name": _ref("Text"),
            "task_type": {
                "description": "One of the task types (any case).",
                "type": "string",
                "pattern": _any_case(list(TASK_TYPES)),
            },
            "task_params": _json({"type": "object"}),
        },
        required=("task_name", "task_type"),
    )
    row["allOf"] = [
        {
            "if": {
                "properties": {"task_type": {"pattern": _any_case([name])}},
                "required": ["task_type"],
            },
            "then": {
                "properties": {"task_params": _json(_ref(spec.params.__name__))},
                **({"required": ["task_params"]} if _has_required(spec.params) else {}),
            },
        }
        for name, spec in TASK_TYPES.items()
    ]
    return row


def _row(
    keys: tuple[str, ...], properties: dict[str, Any], *, required: tuple[str, ...]
) -> dict[str, Any]:
    """A row object: its key attributes, `properties`, `status`; other attributes are free."""
    return {
        "type": "object",
        "required": [*keys, *required],
        "properties": {
            **{key: _ref("Key") for key in keys},
            **properties,
            "status": _ref("Status"),
        },
    }


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON attribute: `schema`, JSON text, or null."""
    return {"anyOf": [schema, _ref("JsonText"), {"type": "null"}]}


def _dependencies(child: str) -> dict[str, Any]:
    edge = {
        "type": "object",
        "description": f'"{child}" runs after "pid" (the upstream).',
        "required": [child],
        "properties": {child: _ref("Id"), "pid": _ref("Upstream")},
        "additionalProperties": False,
    }
    return _json({"type": "array", "items": edge})


def _configs(id_key: str, model: str, defs: dict[str, Any]) -> dict[str, Any]:
    """Per-id settings: ``{id: {...}}`` or ``[{id_key: id, ...}]`` (`defs`: the models)."""
    listed = {
        **defs[model],
        "required": [id_key],
        "properties": {id_key: _ref("Id"), **defs[model]["properties"]},
    }
    keyed = {"type": "object", "additionalProperties": _ref(model)}
    return {
        "anyOf": [keyed, {"type": "array", "items": listed}, _ref("JsonText"), {"type": "null"}]
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _DEFS + name}


def _any_case(names: list[str]) -> str:
    """A pattern matching any of `names` in any case, spaces around allowed."""
    alternatives = (
        "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else _escape(c) for c in name)
        for name in names
    )
    return rf"^\s*(?:{'|'.join(alternatives)})\s*$"


def _escape(char: str) -> str:
    return "\\" + char if char in r".^$*+?()[]{}|\-" else char


def _has_required(model: type[BaseModel]) -> bool:
    return any(field.is_required() for field in model.model_fields.values())


def schema_text() -> str:
    """The schema as the checked-in file holds it."""
    return json.dumps(rows_schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> None:
    """Print the schema, or write it to the path given."""
    if argv:
        write(Path(argv[0]), lambda _: schema_text())
    else:
        sys.stdout.write(schema_text())


if __name__ == "__main__":
    main(sys.argv[1:])
