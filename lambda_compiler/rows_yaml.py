"""Rows as YAML people can read and edit: JSON attributes expanded, multi-line text as blocks.

`rows_yaml(data)` writes a rows file (``{"mwaa_task": [...], ...}`` of plain items) as
YAML that compiles to the same DAG files:

- an attribute that holds JSON (`parse.JSON_ATTRIBUTES`: ``task_params``,
  ``job_task_dependencies``, ...) stored as JSON text of an object or a list becomes that
  object or list (the compiler reads text and maps alike). Text that is not exactly one
  JSON object or list (a blank, a scalar, invalid JSON, a duplicated key, NaN) stays text,
  so the compiler reports it as it would in the table;
- text holding a line break (SQL above all) is a literal block (``|``), which keeps every
  character; other text is never folded;
- keys stay in the order given (the export puts key attributes first, then the others by
  name; maps inside attributes keep their stored order), so the output is deterministic.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from lambda_compiler.parse import JSON_ATTRIBUTES
from lambda_compiler.rows import Row, plain

_NO_FOLDING = 1 << 30


def rows_yaml(data: dict[str, list[Row]]) -> str:
    """The YAML text of a rows file's tables (items as plain JSON values)."""
    return _dump(
        {key: [expand_json_attributes(key, item) for item in items] for key, items in data.items()}
    )


def _dump(value: Any) -> str:
    return yaml.dump(
        value,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=_NO_FOLDING,
        default_flow_style=False,
    )


def expand_json_attributes(key: str, item: Row) -> Row:
    """`item` with each JSON attribute's text of an object or list replaced by its value."""
    holding_json = JSON_ATTRIBUTES.get(key, frozenset())
    return {
        name: _expanded(value) if name in holding_json else value for name, value in item.items()
    }


def collapse_json_attributes(key: str, edited: Row, original: Row) -> Row:
    """`edited` (an `expand_json_attributes` of `original`, changed) stored as `original` was:
    a JSON attribute that was JSON text stays text (the original text when its value did
    not change), so the tables keep the original solution's shape."""
    holding_json = JSON_ATTRIBUTES.get(key, frozenset())
    collapsed = dict(edited)
    for name in holding_json & edited.keys():
        before, after = original.get(name), edited[name]
        if not (isinstance(before, str) and isinstance(after, (dict, list))):
            continue
        same = _expanded(before) == after and isinstance(_expanded(before), (dict, list))
        collapsed[name] = before if same else json.dumps(plain(after), ensure_ascii=False)
    return collapsed


def _expanded(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        parsed = json.loads(value, object_pairs_hook=_unique, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return value
    return parsed if isinstance(parsed, (dict, list)) else value


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise ValueError("a key appears twice")
    return found


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class _Dumper(yaml.SafeDumper):
    """The safe dumper, with line-broken text as literal blocks."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)
