"""Which Jinja a row may put in a templated field when it must not read secrets.

Airflow renders row strings (SQL, commands, arguments, run ``conf``) with the task's
context, where ``conn`` and ``var`` read any connection's password or any variable,
and objects like ``ti``, ``task`` or ``macros.uuid.os`` reach hooks and the worker's
environment. So, unless ``DYNADAG_ALLOW_SQL_SECRETS_JINJA`` is true, a row's Jinja
may only read the plain values listed here; anything else, including Jinja that does
not parse, is refused. The check parses with jinja2 (with Airflow's ``do``
extension) and walks the tree, so spacing, ``conn['x']``, ``{% set %}`` aliases or
filters change nothing. Dynamic attribute names (``x[name]``) are left to Airflow's
sandbox, which refuses names starting with ``_``.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

import jinja2
from jinja2 import nodes

SECRET_NAMES = {"conn": "Airflow connections", "var": "Airflow variables"}
"""Context names that read secrets directly."""

PLAIN_NAMES = frozenset(
    {
        "ds",
        "ds_nodash",
        "ts",
        "ts_nodash",
        "ts_nodash_with_tz",
        "logical_date",
        "data_interval_start",
        "data_interval_end",
        "prev_data_interval_start_success",
        "prev_data_interval_end_success",
        "prev_start_date_success",
        "prev_end_date_success",
        "start_date",
        "run_id",
        "task_instance_key_str",
        "params",
        "try_number",
        "map_index_template",
        "expanded_ti_count",
        # Jinja's own globals and the names it binds in loops and macros
        "range",
        "dict",
        "lipsum",
        "cycler",
        "joiner",
        "namespace",
        "loop",
        "caller",
        "varargs",
        "kwargs",
    }
)
"""Context values that are data: reading them cannot reach a connection or code."""

ATTRIBUTE_NAMES = {
    "macros": frozenset(
        {"ds_add", "ds_format", "ds_format_locale", "datetime_diff_for_humans"}
        | {"datetime", "timedelta", "random"}
    ),
    "ti": frozenset({"xcom_pull", "try_number", "map_index", "task_id", "dag_id", "run_id"}),
    "task_instance": frozenset(
        {"xcom_pull", "try_number", "map_index", "task_id", "dag_id", "run_id"}
    ),
    "dag_run": frozenset(
        {
            "conf",
            "run_id",
            "run_type",
            "logical_date",
            "data_interval_start",
            "data_interval_end",
            "run_after",
            "start_date",
        }
    ),
}
"""Context objects rows may use only through these attributes (``ti.xcom_pull``)."""

_CONTEXT_NAMES = frozenset(
    {*SECRET_NAMES, *ATTRIBUTE_NAMES, "task", "dag", "inlets", "outlets", "inlet_events"}
    | {"outlet_events", "triggering_asset_events", "templates_dict", "test_mode", "exception"}
)
"""Airflow context names a row must not rebind: a conditional ``{% set %}`` can leave
the context's value in place, so a local of that name proves nothing."""


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(extensions=["jinja2.ext.do"])


def has_jinja(text: str) -> bool:
    """True when `text` contains a Jinja expression, statement or comment marker."""
    return "{{" in text or "{%" in text or "{#" in text


_HINT = "; set DYNADAG_ALLOW_SQL_SECRETS_JINJA=true to allow any Jinja"


def jinja_refusal(text: str) -> str | None:
    """Why `text`'s Jinja may reach secrets or code, or None when it only reads plain values.

    The reason ends by naming the setting that lifts the check.
    """
    reason = _reason(text) if has_jinja(text) else None
    return None if reason is None else reason + _HINT


def _reason(text: str) -> str | None:
    try:
        tree = _environment().parse(text)
    except jinja2.TemplateSyntaxError as exc:
        reason = (exc.message or "syntax error").rstrip(".")
        return f"is not valid Jinja ({reason}, line {exc.lineno}), so it cannot be checked"
    loader = next(
        tree.find_all((nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)), None
    )
    if loader is not None:
        return f"uses {{% {type(loader).__name__.lower()} %}}, which pulls in templates unchecked"
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Filter)):
        private = _private_name(node)
        if private:
            return f"reads {private!r} through Jinja; names starting with '_' are not allowed"
    names = list(tree.find_all(nodes.Name))
    bound = {n.name for n in names if n.ctx != "load"} | {
        m.name for m in tree.find_all(nodes.Macro)
    }
    rebound = sorted(bound & _CONTEXT_NAMES)
    if rebound:
        return f"rebinds the Airflow template variable {rebound[0]!r}"
    parents = {id(child): node for node in _walk(tree) for child in node.iter_child_nodes()}
    for name in names:
        if name.ctx == "load":
            refusal = _name_refusal(name, parents.get(id(name)), bound)
            if refusal:
                return refusal
    return None


def _walk(tree: nodes.Template) -> Iterator[nodes.Node]:
    yield tree
    yield from tree.find_all(nodes.Node)


def _private_name(node: nodes.Node) -> str | None:
    if isinstance(node, nodes.Getattr):
        key: Any = node.attr
    elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        key = node.arg.value
    elif isinstance(node, nodes.Filter) and node.name == "attr" and node.args:
        arg = node.args[0]
        key = arg.value if isinstance(arg, nodes.Const) else None
    else:
        return None
    return key if isinstance(key, str) and key.startswith("_") else None


def _name_refusal(name: nodes.Name, parent: nodes.Node | None, bound: set[str]) -> str | None:
    if name.name in SECRET_NAMES:
        return f"reads {SECRET_NAMES[name.name]} through Jinja ({name.name!r})"
    if name.name in PLAIN_NAMES:
        return None
    allowed = ATTRIBUTE_NAMES.get(name.name)
    if allowed is not None:
        if isinstance(parent, nodes.Getattr) and parent.node is name and parent.attr in allowed:
            return None
        return (
            f"uses {name.name!r} in Jinja other than as {name.name}.<one of "
            f"{', '.join(sorted(allowed))}>"
        )
    if name.name in bound:
        return None
    return (
        f"reads {name.name!r} through Jinja, which is not a plain template value (like ds, "
        "params or dag_run.conf)"
    )


def string_refusals(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(attribute path, reason) for each string inside `value` whose Jinja is refused."""
    if isinstance(value, str):
        refusal = jinja_refusal(value)
        if refusal:
            yield path, refusal
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from string_refusals(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from string_refusals(item, f"{path}[{index}]")
