"""`run_rebuild` and `dynadag rebuild`: every DAG from full scans, only changes written."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from lambda_compiler.airflowignore import BEGIN, END
from lambda_compiler.cli import app
from lambda_compiler.handler import lambda_handler, sync_for
from lambda_compiler.rebuild import default_runtime_dir, run_rebuild
from lambda_compiler.rows import RowRef
from tests.integration.aws_fixtures import Stack, deliver
from tests.rowkit import job, scheduler, task

pytestmark = pytest.mark.moto


@pytest.fixture
def stack(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Stack:
    sync_for.cache_clear()
    return Stack(moto_endpoint, monkeypatch)


def rows(stack: Stack) -> None:
    stack.put("task", task("1"), task("2"), task("3"))
    stack.put("job", job("a", "1,2"), job("b", "3"), job("c", "9"))  # c lists a missing task
    stack.put("scheduler", scheduler("s", "a,b"))
    stack.records()


def object_body(stack: Stack, key: str) -> bytes:
    return stack.s3.get_object(Bucket=stack.settings.bucket, Key=key)["Body"].read()


def test_rebuild_publishes_every_valid_dag_the_runtime_and_the_airflowignore(stack: Stack):
    rows(stack)
    report = run_rebuild(stack.settings)
    assert report.written == ["job-job_a", "job-job_b", "schedule-sched_s"]
    assert set(report.invalid) == {"job-job_c"}
    assert report.ok
    assert stack.files() == stack.expected_files()
    prefix = stack.settings.dags_prefix
    assert object_body(stack, f"{prefix}.airflowignore") == (
        f"{BEGIN}\ndags_runtime/\n{END}\n".encode()
    )
    shipped = sorted(default_runtime_dir().glob("*.py"))
    assert shipped, "dags_runtime ships Python files"
    for path in shipped:
        assert object_body(stack, f"{prefix}dags_runtime/{path.name}") == path.read_bytes()
    listed = {r.dag_id: r.outcome for r in stack.registry.list_dags()}
    assert listed == {
        "job-job_a": "written",
        "job-job_b": "written",
        "job-job_c": "invalid",
        "schedule-sched_s": "written",
    }
    record = stack.registry.get_dag("job-job_c")
    assert record.outcome == "invalid"
    assert any("task '9' does not exist" in p for p in record.problems)


def test_a_second_rebuild_writes_nothing(stack: Stack):
    rows(stack)
    run_rebuild(stack.settings)
    versions = {dag_id: stack.versions(dag_id) for dag_id in stack.files()}
    report = run_rebuild(stack.settings)
    assert report.written == []
    assert report.runtime_files_written == []
    assert report.unchanged == ["job-job_a", "job-job_b", "schedule-sched_s"]
    assert {dag_id: stack.versions(dag_id) for dag_id in stack.files()} == versions


def test_rebuild_deletes_files_of_dags_that_no_longer_exist_but_not_hand_written_ones(
    stack: Stack,
):
    rows(stack)
    run_rebuild(stack.settings)
    prefix, bucket = stack.settings.dags_prefix, stack.settings.bucket
    stack.s3.put_object(Bucket=bucket, Key=f"{prefix}handmade.py", Body=b"# mine\n")
    stack.s3.put_object(
        Bucket=bucket,
        Key=f"{prefix}dags_runtime/retired.py",
        Body=b"",
        Metadata={"sha256": "0", "compiler-version": "0.0.1"},  # as an older dynadag wrote it
    )
    # WHEN job b is removed and its file is no longer produced by any row
    stack.delete("job", job_type="etl", job_id="b")
    stack.put("scheduler", scheduler("s", "a"))
    report = run_rebuild(stack.settings)
    # THEN its file gets a delete marker; the hand-written DAG stays; a retired runtime
    # file goes
    assert report.deleted == ["job-job_b"]
    assert report.foreign_files == ["handmade"]
    assert stack.versions("job-job_b")[0] == "delete-marker"
    assert set(stack.files()) == {"job-job_a", "schedule-sched_s", "handmade"}
    runtime = stack.s3.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}dags_runtime/")
    assert f"{prefix}dags_runtime/retired.py" not in {o["Key"] for o in runtime["Contents"]}


def test_rebuild_repairs_the_reverse_index_so_the_next_change_reaches_the_right_dags(
    stack: Stack,
):
    rows(stack)
    job_a = RowRef("mwaa_job", (("job_type", "etl"), ("job_id", "a")))
    stale = RowRef("mwaa_job", (("job_type", "etl"), ("job_id", "gone")))
    stack.registry.add_index(stale, {"taskref#1"})
    report = run_rebuild(stack.settings)
    assert stack.registry.dependents({"taskref#1"}) == {job_a}
    assert report.index_removed == 1
    # WHEN task 1 changes, the handler finds job a through the rebuilt index
    stack.put("task", task("1", task_params={"conn_id": "redshift_default", "sql": "SELECT 11;"}))
    assert deliver(lambda_handler, stack.records()) == []
    assert "SELECT 11;" in stack.files()["job-job_a"]


def test_the_rebuild_command_reports_what_it_did(stack: Stack, monkeypatch: pytest.MonkeyPatch):
    rows(stack)
    result = CliRunner().invoke(app, ["rebuild", "--format", "json"])
    assert result.exit_code == 1, result.output  # job_c is invalid
    summary = json.loads(result.stdout)
    assert summary["written"] == ["job-job_a", "job-job_b", "schedule-sched_s"]
    assert list(summary["invalid"]) == ["job-job_c"]
    text = CliRunner().invoke(app, ["rebuild"])
    assert text.exit_code == 1
    assert "0 written, 3 unchanged, 0 deleted, 1 invalid, 0 failed" in text.stdout
    assert "job-job_c: mwaa_job[job_type='etl', job_id='c']: task_list:" in text.stdout
