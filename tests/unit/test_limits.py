"""What the registry stores and the alerts send stays within AWS's limits, saying so when cut."""

from __future__ import annotations

import pytest

from lambda_compiler import render as render_module
from lambda_compiler.alerts import MESSAGE_BYTES, alert_text, failure_text
from lambda_compiler.isolation import CompileCrash, compile_isolated
from lambda_compiler.limits import (
    LIST_BYTES,
    PARTITION_KEY_BYTES,
    PROBLEM_BYTES,
    PROBLEMS_STORED,
    SORT_KEY_BYTES,
    bounded_key,
    bounded_problems,
    clip,
    utf8_size,
)
from lambda_compiler.model import DagId
from lambda_compiler.snapshot import snapshot_from_json
from lambda_compiler.validate import validate
from tests.rowkit import job, task


def test_clip_keeps_short_text_and_cuts_long_text_with_a_note():
    assert clip("short", 10) == "short"
    cut = clip("é" * 10_000, 1000)
    assert utf8_size(cut) <= 1000
    assert cut.startswith("éé")
    assert cut.endswith("[cut: 20000 bytes in all]")


def test_stored_problems_are_capped_in_count_length_and_total_with_the_omitted_counted():
    many = [f"problem {i}" for i in range(PROBLEMS_STORED + 7)]
    stored = bounded_problems(many)
    assert stored[:PROBLEMS_STORED] == tuple(many[:PROBLEMS_STORED])
    assert stored[-1] == "... and 7 more problems omitted"
    huge = ["x" * 350_000] * 200
    stored = bounded_problems(huge)
    assert all(utf8_size(p) <= PROBLEM_BYTES for p in stored)
    assert sum(map(utf8_size, stored)) <= LIST_BYTES + 100
    assert stored[-1].endswith("more problems omitted")
    assert bounded_problems(["a", "b"]) == ("a", "b")


@pytest.mark.parametrize("limit", [PARTITION_KEY_BYTES, SORT_KEY_BYTES])
def test_long_keys_are_hashed_to_fit_and_stay_distinct(limit: int):
    fits = "taskref#" + "x" * (limit - 8)
    assert bounded_key(fits, limit) == fits
    one, other = "taskref#" + "é" * limit, "taskref#" + "é" * (limit - 1) + "e"
    assert utf8_size(bounded_key(one, limit)) <= limit
    assert bounded_key(one, limit).startswith("taskref#éé")
    assert bounded_key(one, limit) != bounded_key(other, limit)
    assert bounded_key(one, limit) == bounded_key(one, limit)
    # a short key that looks like a hashed one is hashed too: no two texts share a key
    lookalike = bounded_key(one, limit)
    assert bounded_key(lookalike, limit) != lookalike


def test_alerts_stay_under_the_sns_limit_and_say_they_were_cut():
    subject, message = alert_text(DagId("job-big"), ["mwaa_job/job_id=1"], ["é" * 400_000])
    assert subject == "dynadag: DAG job-big is invalid"
    assert utf8_size(message) <= MESSAGE_BYTES
    assert message.endswith("`dynadag status job-big` and the compiler's logs have the rest]")
    _, message = failure_text(DagId("job-x"), ["mwaa_job/job_id=1"], "RuntimeError: boom")
    assert "Error:\n  RuntimeError: boom" in message
    assert "cut" not in message


def test_a_crash_in_one_dag_is_that_dags_result_and_the_others_compile(monkeypatch):
    snapshot = snapshot_from_json(
        {
            "mwaa_task": [task("1")],
            "mwaa_job": [job("a", "1", name="a"), job("b", "1", name="b"), job("c", "1", name="c")],
            "mwaa_scheduler": [],
        }
    )
    render = render_module.render_dag

    def faulty(template, context, *args):  # type: ignore[no-untyped-def]
        if context["dag"]["dag_id"] == "job-b":
            raise ZeroDivisionError("injected")
        return render(template, context, *args)

    monkeypatch.setattr(render_module, "render_dag", faulty)
    results = list(compile_isolated(validate(snapshot)))
    assert [r.dag_id for r in results] == ["job-a", "job-b", "job-c"]
    crash = results[1]
    assert isinstance(crash, CompileCrash)
    assert isinstance(crash.error, ZeroDivisionError)
    assert [str(ref) for ref in crash.inputs] == [
        "mwaa_job[job_type='etl', job_id='b']",
        "mwaa_task[task_id='1']",
    ]
    assert results[0].ok and results[2].ok  # type: ignore[union-attr]
