"""Templates render source that black leaves unchanged, so formatting stays cheap.

Rewriting long lines is most of `black.format_str`'s cost (a 20-task job: ~125 ms when
black must explode dicts, ~45 ms when it finds nothing to change on this machine).
"""

from __future__ import annotations

import ast

import black
import pytest

from bench.synthetic import synthetic_rows
from lambda_compiler.context import job_context, scheduler_context
from lambda_compiler.literals import to_kwarg
from lambda_compiler.render import _BLACK_MODE, environment
from lambda_compiler.rows_file import load_snapshot
from lambda_compiler.snapshot import snapshot_from_json
from lambda_compiler.targets import DEFAULT_TARGET
from lambda_compiler.validate import JobPlan, validate
from tests.conftest import EXAMPLE_ROWS


def _rendered(snapshot):
    for plan in validate(snapshot).plans.values():
        if isinstance(plan, JobPlan):
            yield (
                plan.dag_id,
                environment().get_template("job.py.j2").render(job_context(plan, DEFAULT_TARGET)),
            )
        else:
            context = scheduler_context(plan, DEFAULT_TARGET)
            yield plan.dag_id, environment().get_template("scheduler.py.j2").render(context)


@pytest.mark.parametrize(
    "snapshot",
    [load_snapshot(EXAMPLE_ROWS), snapshot_from_json(synthetic_rows(3, 20, 1))],
    ids=["examples", "synthetic"],
)
def test_black_has_nothing_to_rewrite(snapshot):
    for dag_id, raw in _rendered(snapshot):
        assert black.format_str(raw, mode=_BLACK_MODE) == raw, dag_id


@pytest.mark.parametrize(
    "value",
    [{"k": "v"}, {f"key_{i}": "x" * 10 for i in range(8)}, ["item"] * 30, "s" * 120, {}, []],
    ids=["short-dict", "long-dict", "long-list", "long-string", "empty-dict", "empty-list"],
)
def test_kwarg_layout_matches_black_and_reads_back(value):
    source = f"call(\n{to_kwarg(value, 'name', 4)}\n)\n"
    assert black.format_str(source, mode=_BLACK_MODE) == source
    (keyword,) = ast.parse(source).body[0].value.keywords
    assert ast.literal_eval(keyword.value) == value
