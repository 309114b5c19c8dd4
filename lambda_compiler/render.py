"""The one Jinja environment: render a DAG template, format it with black, check it."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import black
import jinja2
from black.comments import list_comments
from black.mode import TargetVersion
from black.parsing import InvalidInput

import dag_templates
from lambda_compiler.literals import to_kwarg, to_literal
from lambda_compiler.safety import check_source
from lambda_compiler.task_types import TEMPLATE_DIR as TASK_TEMPLATE_DIR

TEMPLATE_DIR = Path(dag_templates.__file__).parent
_BLACK_MODE = black.Mode(target_versions={TargetVersion.PY311})
BLACK_COMMENT_CACHE_LIMIT = 256
"""black caches the comments of each distinct source prefix it meets, up to 4,096; a
generated file's header is such a prefix, different in every DAG (~12 KB with its
comments), so a container that builds thousands of DAGs would keep ~50 MB of them.
`render_dag` empties that cache once it holds more entries than this."""


class RenderError(RuntimeError):
    """A template failed for one DAG; the message names the DAG."""


@functools.cache
def environment() -> jinja2.Environment:
    """The shared environment: strict undefined names, one `literal` filter, no autoescape.

    ``tasks/<name>.py.j2`` is a task type's template, beside its module in `task_types`.
    """
    loader = jinja2.ChoiceLoader(
        [
            jinja2.FileSystemLoader(TEMPLATE_DIR),
            jinja2.PrefixLoader({"tasks": jinja2.FileSystemLoader(TASK_TEMPLATE_DIR)}),
        ]
    )
    env = jinja2.Environment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["literal"] = to_literal
    env.filters["kwarg"] = to_kwarg
    return env


def render_dag(
    template: str, context: dict[str, Any], import_prefixes: tuple[str, ...] = ()
) -> str:
    """Black-formatted source of one DAG file; raises if it fails the safety check.

    `import_prefixes` widens the import allowlist to the configured `PYTHON` modules.
    """
    dag_id = context["dag"]["dag_id"]
    try:
        raw = environment().get_template(template).render(context)
    except jinja2.TemplateError as exc:
        raise RenderError(f"{dag_id}: template {template} failed: {exc}") from exc
    try:
        source = black.format_str(raw, mode=_BLACK_MODE)
    except InvalidInput as exc:
        raise RenderError(f"{dag_id}: rendered source is not valid Python: {exc}") from exc
    finally:
        if list_comments.cache_info().currsize > BLACK_COMMENT_CACHE_LIMIT:
            list_comments.cache_clear()
    check_source(source, f"{dag_id}.py", import_prefixes)
    return source
