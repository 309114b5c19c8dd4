"""The Lambda handler, driven by records read from moto's DynamoDB Streams API.

Each step writes rows, reads the stream records that the writes produced and hands
them to `lambda_compiler.handler.lambda_handler`, then checks the bucket (objects and
versions) and the registry.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator

import pytest

from lambda_compiler import __version__
from lambda_compiler.handler import lambda_handler, sync_for
from lambda_compiler.warm_container import freeze_after_warm_up
from tests.integration.aws_fixtures import LambdaContext, Stack, deliver
from tests.rowkit import job, scheduler, task

pytestmark = pytest.mark.moto


@pytest.fixture
def stack(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Stack:
    sync_for.cache_clear()
    return Stack(moto_endpoint, monkeypatch)


def handle(stack: Stack) -> list[str]:
    records = stack.records()
    assert records, "the writes produced no stream records"
    return deliver(lambda_handler, records)


def test_insert_modify_remove_of_each_table_publishes_exactly_the_affected_files(stack: Stack):
    # GIVEN two tasks, a job listing them and a scheduler triggering the job
    stack.put("task", task("1"), task("2"))
    stack.put("job", job("10", "1,2", name="load"))
    stack.put("scheduler", scheduler("100", "10", name="daily"))
    # WHEN the inserts reach the handler
    assert handle(stack) == []
    # THEN both DAG files exist once, byte for byte the compile of the tables
    assert stack.files() == stack.expected_files()
    assert set(stack.files()) == {"job-load", "schedule-daily"}
    assert len(stack.versions("job-load")) == 1
    assert len(stack.versions("schedule-daily")) == 1
    record = stack.registry.get_dag("job-load")
    assert record is not None
    assert (record.outcome, record.version_id) == ("written", stack.versions("job-load")[0])
    assert record.sources == (
        "mwaa_job/job_type=etl/job_id=10",
        "mwaa_task/task_id=1",
        "mwaa_task/task_id=2",
    )

    # WHEN a task's SQL changes: only the job DAG gets a new version
    stack.put("task", task("2", task_params={"conn_id": "redshift_default", "sql": "SELECT 22;"}))
    assert handle(stack) == []
    assert "SELECT 22;" in stack.files()["job-load"]
    assert len(stack.versions("job-load")) == 2
    assert len(stack.versions("schedule-daily")) == 1
    assert stack.files() == stack.expected_files()

    # WHEN the job is renamed: the old file gets a delete marker, the scheduler follows
    stack.put("job", job("10", "1,2", name="load_v2"))
    assert handle(stack) == []
    assert set(stack.files()) == {"job-load_v2", "schedule-daily"}
    assert stack.versions("job-load")[0] == "delete-marker"
    assert len(stack.versions("schedule-daily")) == 2
    assert "trigger_dag_id='job-load_v2'" in stack.files()["schedule-daily"].replace('"', "'")
    assert stack.registry.get_dag("job-load").outcome == "deleted"
    assert stack.files() == stack.expected_files()

    # WHEN the scheduler's schedule changes: only the scheduler DAG changes
    stack.put(
        "scheduler",
        scheduler("100", "10", name="daily", schedule_params={"schedule_interval": "0 6 * * *"}),
    )
    assert handle(stack) == []
    assert len(stack.versions("schedule-daily")) == 3
    assert len(stack.versions("job-load_v2")) == 1
    assert stack.files() == stack.expected_files()

    # WHEN a listed task is removed: the job (and so the scheduler) is invalid and
    # both keep their last good files
    before = stack.files()
    stack.delete("task", task_id="2")
    assert handle(stack) == []
    assert stack.files() == before
    job_record = stack.registry.get_dag("job-load_v2")
    assert job_record.outcome == "invalid"
    assert any("task '2' does not exist" in problem for problem in job_record.problems)
    assert stack.registry.get_dag("schedule-daily").outcome == "invalid"

    # WHEN the task comes back and then the scheduler is removed
    stack.put("task", task("2"))
    assert handle(stack) == []
    assert stack.registry.get_dag("job-load_v2").outcome == "written"
    assert stack.registry.get_dag("schedule-daily").outcome == "unchanged"  # valid again
    stack.delete("scheduler", schedule_id="100")
    assert handle(stack) == []
    assert set(stack.files()) == {"job-load_v2"}
    assert stack.versions("schedule-daily")[0] == "delete-marker"

    # WHEN the job is removed: its file goes too, and the registry says so
    stack.delete("job", job_type="etl", job_id="10")
    assert handle(stack) == []
    assert stack.files() == {}
    assert stack.registry.get_dag("job-load_v2").outcome == "deleted"
    assert stack.files() == stack.expected_files()


def test_objects_carry_their_hash_version_and_rows_and_metrics_count_the_outcomes(
    stack: Stack, capsys: pytest.CaptureFixture[str]
):
    wide = [f"warehouse-load-step-with-a-long-id-{i:03d}" for i in range(60)]
    stack.put("task", task("1"), task("2"), *(task(t, f"step_{n}") for n, t in enumerate(wide)))
    stack.put("job", job("small", "1,2"), job("wide", ",".join(wide)))
    capsys.readouterr()
    assert handle(stack) == []
    # THEN each object's metadata names its hash, compiler and rows...
    head = stack.s3.head_object(Bucket=stack.settings.bucket, Key="dags/job-job_small.py")
    assert head["Metadata"] == {
        "sha256": stack.compile_tables().dags["job-job_small"].sha256,
        "compiler-version": __version__,
        "dag-id": "job-job_small",
        "source-row-count": "3",
        "source-rows": "mwaa_job(job_type,job_id)=etl/small;mwaa_task(task_id)=1,2",
    }
    # ...except when the rows do not fit S3's 2 KB: the count stays, the registry has all
    head = stack.s3.head_object(Bucket=stack.settings.bucket, Key="dags/job-job_wide.py")
    assert "source-rows" not in head["Metadata"]
    assert head["Metadata"]["source-row-count"] == "61"
    assert len(stack.registry.get_dag("job-job_wide").sources) == 61
    # AND the EMF metrics of the invocations count what happened
    metrics = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line
    ]
    assert sum(sum(m["DagsWritten"]) for m in metrics) == 2
    assert sum(sum(m["DagsFailed"]) for m in metrics) == 0
    assert all(m["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "dynadag" for m in metrics)


@pytest.mark.parametrize("allow_bash", [False, True])
def test_the_deployments_compiler_options_reach_the_handler(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, allow_bash: bool
):
    # GIVEN a deployment that does (or does not) enable BASH tasks
    monkeypatch.setenv("DYNADAG_ALLOW_BASH", "true" if allow_bash else "false")
    sync_for.cache_clear()
    stack.put("task", task("1", task_type="BASH", task_params={"bash_command": "echo hi"}))
    stack.put("job", job("1", "1", name="shell"))
    # WHEN the rows reach the handler
    assert handle(stack) == []
    # THEN the BASH job is written only where the deployment allows it
    assert ("job-shell" in stack.files()) is allow_bash
    assert stack.registry.get_dag("job-shell").outcome == ("written" if allow_bash else "invalid")


def test_the_handler_returns_what_happened_to_each_dag_and_which_records_led_to_it(stack: Stack):
    # GIVEN a built job whose task then changes, and a new job listing a missing task
    stack.put("task", task("1"))
    stack.put("job", job("10", "1", name="load"))
    assert handle(stack) == []
    stack.put("job", job("11", "9", name="broken"), job("12", "1", name="load"))
    records = stack.records()
    # WHEN the handler gets the job records
    response = lambda_handler({"Records": records}, LambdaContext())
    # THEN beside the (empty) failures it returns each DAG's outcome and its records
    assert response["batchItemFailures"] == []
    dags = {entry["dag_id"]: entry for entry in response["dynadag"]["dags"]}
    assert dags["job-broken"]["outcome"] == "invalid"
    assert "task '9' does not exist" in dags["job-broken"]["problems"][0]
    assert dags["job-broken"]["changes"] == [0]
    assert "kept_file" not in dags["job-broken"]
    # two jobs now claim job-load: invalid, led to by the new job, its last good file kept
    assert (dags["job-load"]["outcome"], dags["job-load"]["changes"]) == ("invalid", [1])
    assert dags["job-load"]["kept_file"] is True
    assert response["dynadag"]["failed"] == []
    assert json.loads(json.dumps(response)) == response


@pytest.fixture
def in_lambda(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As in a Lambda container (``AWS_LAMBDA_FUNCTION_NAME`` set); the collector restored."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "dynadag-compiler")
    freeze_after_warm_up.cache_clear()
    yield
    gc.unfreeze()
    freeze_after_warm_up.cache_clear()


def test_in_lambda_the_first_invocation_freezes_what_stays_alive(stack: Stack, in_lambda: None):
    stack.put("task", task("1"))
    stack.put("job", job("10", "1", name="load"))
    before = gc.get_freeze_count()
    # WHEN the container's first invocation builds a DAG
    assert handle(stack) == []
    # THEN what it left alive (clients, templates, modules) is out of the collector's way
    frozen = gc.get_freeze_count()
    assert frozen > before + 10_000
    # and the next invocation works as before and freezes nothing more
    stack.put("task", task("1", task_params={"conn_id": "redshift_default", "sql": "SELECT 2;"}))
    assert handle(stack) == []
    assert "SELECT 2;" in stack.files()["job-load"]
    assert gc.get_freeze_count() <= frozen  # (frozen objects that die leave the count)
