"""dynadag touches only what it wrote: the user's `.airflowignore` lines, sub-folders and
hand-written DAG files survive the stream handler and the rebuild."""

from __future__ import annotations

import pytest

from lambda_compiler.airflowignore import BEGIN, END
from lambda_compiler.handler import lambda_handler, sync_for
from lambda_compiler.rebuild import run_rebuild
from tests.integration.aws_fixtures import Stack, deliver
from tests.rowkit import job, task

pytestmark = pytest.mark.moto

BLOCK = f"{BEGIN}\ndags_runtime/\n{END}\n"


@pytest.fixture
def stack(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Stack:
    sync_for.cache_clear()
    return Stack(moto_endpoint, monkeypatch)


def put(stack: Stack, name: str, body: bytes, **extra: object) -> None:
    key = stack.settings.dags_prefix + name
    stack.s3.put_object(Bucket=stack.settings.bucket, Key=key, Body=body, **extra)


def body(stack: Stack, name: str) -> bytes:
    key = stack.settings.dags_prefix + name
    return stack.s3.get_object(Bucket=stack.settings.bucket, Key=key)["Body"].read()


def version_count(stack: Stack, name: str) -> int:
    key = stack.settings.dags_prefix + name
    listing = stack.s3.list_object_versions(Bucket=stack.settings.bucket, Prefix=key)
    entries = listing.get("Versions", []) + listing.get("DeleteMarkers", [])
    return sum(1 for entry in entries if entry["Key"] == key)


def test_the_users_airflowignore_rules_survive_every_rebuild(stack: Stack) -> None:
    # GIVEN the user's own .airflowignore, with CRLF line endings
    put(stack, ".airflowignore", b"scratch/\r\nold_.*\\.py\r\n")
    # WHEN dynadag rebuilds
    report = run_rebuild(stack.settings)
    # THEN their rules stay as they were and dynadag's block is added after them
    crlf_block = BLOCK.replace("\n", "\r\n").encode()
    assert body(stack, ".airflowignore") == b"scratch/\r\nold_.*\\.py\r\n" + crlf_block
    assert ".airflowignore" in report.runtime_files_written
    # WHEN the user adds a rule before the block, and dynadag rebuilds again
    put(stack, ".airflowignore", b"new/\r\nscratch/\r\nold_.*\\.py\r\n" + crlf_block)
    versions = version_count(stack, ".airflowignore")
    report = run_rebuild(stack.settings)
    # THEN nothing is written: the merged bytes are the ones already there
    assert body(stack, ".airflowignore") == b"new/\r\nscratch/\r\nold_.*\\.py\r\n" + crlf_block
    assert report.runtime_files_written == []
    assert version_count(stack, ".airflowignore") == versions


def test_the_whole_file_an_older_dynadag_wrote_becomes_just_the_block(stack: Stack) -> None:
    metadata = {"sha256": "0", "compiler-version": "0.0.1"}
    put(stack, ".airflowignore", b"dags_runtime/\n", Metadata=metadata)
    run_rebuild(stack.settings)
    assert body(stack, ".airflowignore") == BLOCK.encode()


def test_files_in_sub_folders_are_never_touched(stack: Stack) -> None:
    # GIVEN hand-written DAGs in sub-folders named like dynadag's DAG files
    mine = {
        "job-job_a/mine.py": b"# mine a\n",
        "job-team-x/y.py": b"# mine y\n",
        "schedule-s/z.py": b"# mine z\n",
    }
    for name, data in mine.items():
        put(stack, name, data)
    # and a job row whose DAG id (key-based: its name is not a valid id) would be the
    # sub-folder file job-team-x/y.py
    stack.put("task", task("1"))
    stack.put("job", job("a", "1"), job("x/y", "1", name="not a valid id", job_type="team"))
    assert deliver(lambda_handler, stack.records()) == []
    assert stack.registry.get_dag("job-team-x/y").outcome == "invalid"
    # WHEN that row is deleted (stream), and everything is rebuilt
    stack.dynamodb.delete_item(
        TableName=stack.tables.job, Key={"job_type": {"S": "team"}, "job_id": {"S": "x/y"}}
    )
    assert deliver(lambda_handler, stack.records()) == []
    report = run_rebuild(stack.settings)
    stack.delete("job", job_type="etl", job_id="a")
    assert deliver(lambda_handler, stack.records()) == []
    run_rebuild(stack.settings)
    # THEN every sub-folder file still has its one, original version
    assert report.ok
    for name, data in mine.items():
        assert body(stack, name) == data
        assert version_count(stack, name) == 1
    assert stack.versions("job-job_a")[0] == "delete-marker"  # dynadag's own file did go


def test_a_hand_written_top_level_file_is_never_overwritten_or_deleted(stack: Stack) -> None:
    # GIVEN a hand-written file with the name of a DAG's file
    put(stack, "job-job_a.py", b"# my own DAG\n")
    # WHEN a row produces that DAG (stream, then rebuild)
    stack.put("task", task("1"))
    stack.put("job", job("a", "1"), job("b", "1"))
    assert deliver(lambda_handler, stack.records()) == []
    report = run_rebuild(stack.settings)
    # THEN the file stays, and the DAG is reported with a problem naming the row and file
    assert body(stack, "job-job_a.py") == b"# my own DAG\n"
    assert version_count(stack, "job-job_a.py") == 1
    assert report.ok and report.written == [] and report.unchanged == ["job-job_b"]
    (problem,) = report.invalid["job-job_a"]
    assert problem.startswith("mwaa_job[job_type='etl', job_id='a']: job_name: ")
    assert "dags/job-job_a.py is in the way: it was not written by dynadag" in problem
    assert problem.endswith("[foreign-file]")
    record = stack.registry.get_dag("job-job_a")
    assert record.outcome == "invalid" and record.problems == (problem,)
    # WHEN the row goes (stream, then rebuild)
    stack.delete("job", job_type="etl", job_id="a")
    assert deliver(lambda_handler, stack.records()) == []
    report = run_rebuild(stack.settings)
    # THEN the file is still not deleted, and is reported as left in place
    assert report.foreign_files == ["job-job_a"] and report.deleted == []
    assert body(stack, "job-job_a.py") == b"# my own DAG\n"
    assert version_count(stack, "job-job_a.py") == 1
    assert stack.registry.get_dag("job-job_a").outcome == "deleted"


def test_a_hand_written_file_put_over_a_dags_file_is_left_alone(stack: Stack) -> None:
    # GIVEN job a built by dynadag, then its file replaced by a hand-written one
    stack.put("task", task("1"))
    stack.put("job", job("a", "1"))
    assert deliver(lambda_handler, stack.records()) == []
    put(stack, "job-job_a.py", b"# my own DAG\n")
    # WHEN the job changes (its put is conditional on the file dynadag recorded)
    stack.put("job", job("a", "1", job_params={"retries": 4}))
    assert deliver(lambda_handler, stack.records()) == []
    # THEN the hand-written file stays, and the DAG is invalid with a foreign-file problem
    assert body(stack, "job-job_a.py") == b"# my own DAG\n"
    assert version_count(stack, "job-job_a.py") == 2
    record = stack.registry.get_dag("job-job_a")
    assert record.outcome == "invalid"
    assert record.problems[0].endswith("[foreign-file]")
