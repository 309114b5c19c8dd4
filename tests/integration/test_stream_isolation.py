"""A DAG that crashes, or rows too big for AWS's limits, stay that DAG's business.

The crash is injected two ways: a row value that has no literal form (NaN inside a
JSON-string `task_params`; the core may learn to reject it as a problem instead), and
a fault hook in this process that makes rendering one DAG raise.
"""

from __future__ import annotations

import json

import pytest

from lambda_compiler.handler import lambda_handler, sync_for
from lambda_compiler.limits import utf8_size
from lambda_compiler.model import DagId
from lambda_compiler.registry import OutcomeRecord
from tests.integration.aws_fixtures import Stack, alert_queue, crash_rendering, deliver, received
from tests.rowkit import job, task

pytestmark = pytest.mark.moto

NAN_PARAMS = '{"conn_id": "redshift_default", "sql": "SELECT 2;", "parameters": {"a": NaN}}'
SNS_MESSAGE_LIMIT = 262_144
REGISTRY_ITEM_LIMIT = 400 * 1024


@pytest.fixture
def stack(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Stack:
    sync_for.cache_clear()
    return Stack(moto_endpoint, monkeypatch)


def emf_lines(capsys: pytest.CaptureFixture[str]) -> list[dict]:
    """The EMF metric lines printed since the last call."""
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]


def metric(lines: list[dict], name: str) -> int:
    return sum(sum(line.get(name, [0])) for line in lines)


@pytest.mark.parametrize("poison", ["nan-row-value", "render-fault"])
def test_a_dag_that_crashes_is_an_error_while_dags_sharing_its_rows_are_built(
    stack: Stack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    poison: str,
):
    queue = alert_queue(stack, monkeypatch)
    crashing = {"job-poison"} if poison == "render-fault" else set()
    crash_rendering(monkeypatch, crashing)
    params = NAN_PARAMS if poison == "nan-row-value" else task("2")["task_params"]
    # GIVEN a healthy job and a poison job sharing task 1
    stack.put("task", task("1"), task("2", task_params=params))
    stack.put("job", job("p", "1,2", name="poison"), job("h", "1", name="healthy"))
    first = stack.records()
    capsys.readouterr()
    # WHEN the inserts reach the handler
    assert deliver(lambda_handler, first) == []
    # THEN the healthy DAG is written, the poison DAG is recorded with its cause
    assert set(stack.files()) == {"job-healthy"}
    record = stack.registry.get_dag("job-poison")
    if poison == "render-fault":
        assert record.outcome == "error"
        assert record.error == "RuntimeError: injected crash while rendering job-poison"
        assert record.sources == (
            "mwaa_job/job_type=etl/job_id=p",
            "mwaa_task/task_id=1",
            "mwaa_task/task_id=2",
        )
    else:  # a crash today; a problem once the core rejects NaN itself: named either way
        assert record.outcome in ("error", "invalid")
        assert "nan" in (record.error or " ".join(record.problems)).lower()
    # AND it was logged with its traceback, counted, and alerted once
    lines = emf_lines(capsys)
    if record.outcome == "error":
        (logged,) = [r for r in caplog.records if getattr(r, "dag_id", None) == "job-poison"]
        assert logged.levelname == "ERROR"
        assert logged.exc_info and "Traceback" in logged.exc_text
        assert metric(lines, "DagsCrashed") == 1
    assert metric(lines, "DagsFailed") + metric(lines, "DagsInvalid") == 1
    (alert,) = received(stack, queue)
    assert alert["Subject"].startswith("dynadag: DAG job-poison ")
    # WHEN the shared task changes
    stack.put("task", task("1", task_params={"conn_id": "redshift_default", "sql": "SELECT 11;"}))
    assert deliver(lambda_handler, stack.records()) == []
    # THEN the healthy DAG follows, the poison one stays as it was, with no new alert
    assert "SELECT 11;" in stack.files()["job-healthy"]
    assert set(stack.files()) == {"job-healthy"}
    assert stack.registry.get_dag("job-poison").outcome == record.outcome
    assert received(stack, queue) == []
    # WHEN the poison records are replayed, and then the shared task changes again
    assert deliver(lambda_handler, first) == []
    stack.put("task", task("1", task_params={"conn_id": "redshift_default", "sql": "SELECT 111;"}))
    assert deliver(lambda_handler, stack.records()) == []
    # THEN the change still reaches the healthy DAG
    assert "SELECT 111;" in stack.files()["job-healthy"]
    assert len(stack.versions("job-healthy")) == 3
    # WHEN the cause is fixed and the poison job's task changes: it is built
    crashing.clear()
    stack.put("task", task("2"))
    assert deliver(lambda_handler, stack.records()) == []
    assert stack.files() == stack.expected_files()
    fixed = stack.registry.get_dag("job-poison")
    assert (fixed.outcome, fixed.error) == ("written", None)


def test_a_350_kb_bad_value_is_a_bounded_problem_in_the_registry_and_the_alert(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
):
    queue = alert_queue(stack, monkeypatch)
    stack.put("task", task("1"))
    stack.put("job", job("big", "1", name="big"), job("ok", "1", name="fine"))
    assert deliver(lambda_handler, stack.records()) == []
    # WHEN a job's status holds a 350 KB value that is not 1 or 0
    stack.put("job", job("big", "1", name="big", status="9" * 350_000))
    records = stack.records()
    # THEN the record is processed (not retried), the DAG is invalid and keeps its file
    assert deliver(lambda_handler, records) == []
    record = stack.registry.get_dag("job-big")
    assert record.outcome == "invalid"
    assert record.problems[0].startswith("mwaa_job[job_type='etl', job_id='big']: status: ")
    item = stack.dynamodb.get_item(
        TableName=stack.settings.registry_table,
        Key={"pk": {"S": "dag#job-big"}, "sk": {"S": "dag"}},
    )["Item"]
    assert utf8_size(json.dumps(item)) < REGISTRY_ITEM_LIMIT
    assert len(stack.versions("job-big")) == 1
    # AND one alert names the DAG, within SNS's message limit
    (alert,) = received(stack, queue)
    assert alert["Subject"] == "dynadag: DAG job-big is invalid"
    assert "status: " in alert["Message"]
    assert utf8_size(alert["Message"]) + utf8_size(alert["Subject"]) < SNS_MESSAGE_LIMIT
    # AND a replay changes nothing and alerts no more
    assert deliver(lambda_handler, records) == []
    assert received(stack, queue) == []
    assert stack.registry.get_dag("job-fine").outcome == "written"


def test_the_registry_keeps_an_item_under_400_kb_whatever_it_is_given(stack: Stack):
    # GIVEN an outcome with far too much to store: problems, an error, source rows
    problems = tuple(f"problem {i}: " + "é" * 300_000 for i in range(100))
    sources = tuple(f"mwaa_task/task_id={'%C3%A9' * 500}{i}" for i in range(5000))
    outcome = OutcomeRecord(
        DagId("job-x"), "invalid", problems=problems, sources=sources, error="e" * 10**6
    )
    # WHEN it is recorded: the write succeeds, capped, and says what was left out
    stack.registry.record_outcome(outcome)
    record = stack.registry.get_dag("job-x")
    assert record.problems[0].startswith("problem 0: éé")
    assert record.problems[-1].endswith("more problems omitted")
    assert record.sources[-1].endswith("more rows omitted")
    assert record.error.endswith("[cut: 1000000 bytes in all]")
    assert stack.registry.list_dags() == [record]
