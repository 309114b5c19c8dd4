"""A rebuild or a replayed record that changes nothing compiles nothing and writes no
registry item: the inputs key recorded for each DAG's file proves the file current."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from lambda_compiler import compiler as compiler_module
from lambda_compiler import render as render_module
from lambda_compiler.handler import lambda_handler, sync_for
from lambda_compiler.rebuild import run_rebuild
from lambda_compiler.settings import Settings
from tests.integration.aws_fixtures import Stack, count_requests, deliver
from tests.rowkit import job, scheduler, task

pytestmark = pytest.mark.moto
REGISTRY_WRITES = ("UpdateItem", "PutItem", "DeleteItem", "BatchWriteItem")


@pytest.fixture
def stack(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Stack:
    sync_for.cache_clear()
    stack = Stack(moto_endpoint, monkeypatch)
    stack.put("task", task("1"), task("2"), task("3"))
    stack.put("job", job("a", "1,2"), job("b", "3"), job("c", "9"))  # c lists a missing task
    stack.put("scheduler", scheduler("s", "a,b"))
    stack.records()
    return stack


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The DAG ids rendered (templates + black), in order."""
    rendered: list[str] = []
    render = render_module.render_dag

    def counting(template: str, context: dict[str, Any], *args: Any) -> str:
        rendered.append(context["dag"]["dag_id"])
        return render(template, context, *args)

    monkeypatch.setattr(render_module, "render_dag", counting)
    yield rendered


def writes(counts: Counter[str]) -> int:
    return sum(counts[f"dynamodb.{name}"] for name in REGISTRY_WRITES)


def rebuild(stack: Stack) -> tuple[Any, Counter[str]]:
    sync = sync_for(Settings.from_env())
    with count_requests(sync.source._client, sync.publisher._client) as counts:
        report = run_rebuild(stack.settings, sync=sync)
    return report, counts


def test_a_second_rebuild_compiles_nothing_and_writes_no_registry_item(
    stack: Stack, renders: list[str]
):
    first, counts = rebuild(stack)
    assert first.written == ["job-job_a", "job-job_b", "schedule-sched_s"]
    assert renders == ["job-job_a", "job-job_b", "schedule-sched_s"]
    files = stack.files()
    renders.clear()
    # WHEN the rebuild runs again over the same rows
    second, counts = rebuild(stack)
    # THEN no DAG is rendered, nothing is written to S3 or the registry, every valid DAG
    # is reported unchanged and the invalid one still invalid
    assert renders == []
    assert writes(counts) == 0, counts
    assert counts["s3.PutObject"] == 0
    assert second.unchanged == ["job-job_a", "job-job_b", "schedule-sched_s"]
    assert set(second.invalid) == {"job-job_c"}
    assert stack.files() == files == stack.expected_files()


def test_a_changed_row_is_still_rebuilt_and_its_dependents_are_not(
    stack: Stack, renders: list[str]
):
    rebuild(stack)
    renders.clear()
    # WHEN task 3's SQL changes behind the stream's back and the rebuild runs
    stack.put("task", task("3", task_params={"conn_id": "redshift_default", "sql": "SELECT 33;"}))
    report, counts = rebuild(stack)
    # THEN only job b (which lists it) is rendered, published and recorded
    assert renders == ["job-job_b"]
    assert report.written == ["job-job_b"]
    assert counts["dynamodb.UpdateItem"] == 1
    assert "SELECT 33;" in stack.files()["job-job_b"]


def test_a_new_compiler_version_or_changed_templates_are_never_skipped(
    stack: Stack, renders: list[str], monkeypatch: pytest.MonkeyPatch
):
    rebuild(stack)
    renders.clear()
    # WHEN the compiler reports another version, every valid DAG is rendered again
    monkeypatch.setattr(compiler_module, "__version__", "9.9.9")
    rebuild(stack)
    assert renders == ["job-job_a", "job-job_b", "schedule-sched_s"]
    renders.clear()
    # and again when the templates (or rendering code) change
    monkeypatch.setattr(compiler_module, "renderer_sha256", lambda: "another template")
    rebuild(stack)
    assert renders == ["job-job_a", "job-job_b", "schedule-sched_s"]


def test_a_file_replaced_in_s3_is_rendered_and_written_again(stack: Stack, renders: list[str]):
    rebuild(stack)
    renders.clear()
    key = f"{stack.settings.dags_prefix}job-job_a.py"
    stack.s3.delete_object(Bucket=stack.settings.bucket, Key=key)
    # WHEN the rebuild runs after job a's file was deleted by hand
    report, _ = rebuild(stack)
    # THEN the recorded key alone is not trusted: job a is rendered and put back
    assert renders == ["job-job_a"]
    assert report.written == ["job-job_a"]
    assert stack.files() == stack.expected_files()


def test_a_replayed_record_compiles_nothing_and_writes_no_registry_item(
    stack: Stack, renders: list[str]
):
    rebuild(stack)
    stack.put("task", task("1", task_params={"conn_id": "redshift_default", "sql": "SELECT 9;"}))
    records = stack.records()
    assert deliver(lambda_handler, records) == []
    sync = sync_for(Settings.from_env())
    renders.clear()
    # WHEN Lambda delivers the same record again
    with count_requests(sync.source._client, sync.publisher._client) as counts:
        assert deliver(lambda_handler, records) == []
    # THEN job a is not rendered and neither S3 nor the registry is written
    assert renders == []
    assert writes(counts) == 0, counts
    assert counts["s3.PutObject"] == 0
    assert "SELECT 9;" in stack.files()["job-job_a"]
