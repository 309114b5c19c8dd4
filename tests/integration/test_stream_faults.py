"""Transient S3 faults fail only the records that need a retry, and a retry converges."""

from __future__ import annotations

import itertools

import pytest

from lambda_compiler.handler import lambda_handler, sync_for
from lambda_compiler.settings import Settings
from tests.integration.aws_fixtures import Stack, deliver, failing, invoke
from tests.rowkit import job, scheduler, task

pytestmark = pytest.mark.moto


@pytest.fixture
def stack(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Stack:
    sync_for.cache_clear()
    return Stack(moto_endpoint, monkeypatch)


def handler_s3(stack: Stack):  # type: ignore[no-untyped-def]
    """The S3 client the handler's container uses (built on first use)."""
    return sync_for(Settings.from_env()).publisher._client


def retry_like_lambda(records: list[dict], failed: list[str]) -> list[dict]:
    """Lambda retries a stream batch from the first failed record on."""
    sequence = [r["dynamodb"]["SequenceNumber"] for r in records]
    return records[min(sequence.index(s) for s in failed) :]


def test_a_failed_put_fails_only_its_record_and_the_retry_converges(stack: Stack):
    stack.put("task", task("1"), task("2"), task("3"))
    stack.put("job", job("a", "1"), job("b", "2"), job("c", "3"))
    stack.put("scheduler", scheduler("s", "a,b,c"))
    records = stack.records()
    tasks = [r for r in records if ":table/mwaa_task/" in r["eventSourceARN"]]
    schedulers = [r for r in records if ":table/mwaa_scheduler/" in r["eventSourceARN"]]
    records = [r for r in records if ":table/mwaa_job/" in r["eventSourceARN"]]
    assert deliver(lambda_handler, tasks + schedulers) == []
    job_b = next(r for r in records if r["dynamodb"]["Keys"].get("job_id") == {"S": "b"})
    # WHEN every PutObject of job b's file fails with a 503
    with failing(
        handler_s3(stack), "before-send.s3.PutObject", lambda r: "job-job_b" in r.url
    ) as hits:
        failed = invoke(lambda_handler, records)
    # THEN only job b's record is reported, and the other DAGs are in place
    assert hits
    assert failed == [job_b["dynamodb"]["SequenceNumber"]]
    assert set(stack.files()) == {"job-job_a", "job-job_c", "schedule-sched_s"}
    assert stack.registry.get_dag("job-job_b").outcome == "error"
    # WHEN Lambda retries from that record on
    assert invoke(lambda_handler, retry_like_lambda(records, failed)) == []
    # THEN the bucket is the compile of the tables, nothing lost
    assert stack.files() == stack.expected_files()
    assert stack.registry.get_dag("job-job_b").outcome == "written"


def test_intermittent_put_failures_converge_through_retries_without_losing_a_change(stack: Stack):
    stack.put("task", *(task(str(i)) for i in range(6)))
    stack.put("job", *(job(str(i), str(i)) for i in range(6)))
    assert deliver(lambda_handler, stack.records()) == []
    # GIVEN every task changes, so every job DAG has new bytes
    stack.put(
        "task",
        *(
            task(str(i), task_params={"conn_id": "redshift_default", "sql": f"SELECT {i}0;"})
            for i in range(6)
        ),
    )
    records = stack.records()
    calls = itertools.count()
    attempts = 0
    # WHEN every other PutObject fails, and Lambda keeps retrying the failed tail
    with failing(handler_s3(stack), "before-send.s3.PutObject", lambda _: next(calls) % 2 == 0):
        while records:
            attempts += 1
            assert attempts <= 10, "the retries did not converge"
            failed = invoke(lambda_handler, records)
            records = retry_like_lambda(records, failed) if failed else []
    # THEN some attempts failed, and the final bucket is the compile of the tables
    assert attempts > 1
    assert stack.files() == stack.expected_files()
    for i in range(6):
        assert len(stack.versions(f"job-job_{i}")) == 2


def test_a_failed_reverse_index_lookup_fails_only_the_record_that_needed_it(stack: Stack):
    stack.put("task", task("1"), task("2"))
    stack.put("job", job("a", "1"), job("b", "2"))
    assert deliver(lambda_handler, stack.records()) == []
    new_sql = {"conn_id": "redshift_default", "sql": "SELECT 'new';"}
    stack.put("task", task("1", task_params=new_sql), task("2", task_params=new_sql))
    records = stack.records()
    dynamodb = sync_for(Settings.from_env()).registry._client
    # WHEN the registry query for task 1's jobs fails
    with failing(dynamodb, "before-send.dynamodb.Query", lambda r: b"taskref#1" in (r.body or b"")):
        failed = invoke(lambda_handler, records)
    # THEN only task 1's record is retried; job b already has its new file
    assert failed == [records[0]["dynamodb"]["SequenceNumber"]]
    assert "SELECT 'new';" in stack.files()["job-job_b"]
    assert "SELECT 'new';" not in stack.files()["job-job_a"]
    assert invoke(lambda_handler, retry_like_lambda(records, failed)) == []
    assert stack.files() == stack.expected_files()


def _job_records(stack: Stack) -> list[dict]:
    return [r for r in stack.records() if ":table/mwaa_job/" in r["eventSourceARN"]]


def test_a_file_deleted_behind_dynadag_is_written_again_when_s3_answers_403_for_missing_keys(
    stack: Stack,
):
    # GIVEN job a built, and its file then deleted by hand
    stack.put("task", task("1"))
    stack.put("job", job("a", "1"))
    assert invoke(lambda_handler, _job_records(stack)) == []
    stack.s3.delete_object(Bucket=stack.settings.bucket, Key="dags/job-job_a.py")
    # and S3 answering a HEAD of a missing key with 403, as real S3 does when the role
    # may list the bucket only under the dags prefix (moto does not enforce IAM)
    stack.put("job", job("a", "1", job_params={"retries": 4}))
    records = _job_records(stack)[-1:]
    with failing(
        handler_s3(stack), "before-send.s3.HeadObject", lambda _: True, "403", status=403
    ) as hits:
        # WHEN the job changes: the put on the recorded file is refused (no such key)
        failed = invoke(lambda_handler, records)
    # THEN the 403 was taken for "no object" after a listing, and the file exists again
    assert hits and failed == []
    assert stack.files() == stack.expected_files()


def test_a_403_for_an_existing_key_is_an_error_not_a_missing_file_and_not_retried(stack: Stack):
    stack.put("task", task("1"))
    stack.put("job", job("a", "1"))
    assert invoke(lambda_handler, _job_records(stack)) == []
    # GIVEN the job changed, then its first file restored by hand (a copy of that
    # version: another ETag than the one recorded), so the next put looks first
    first = stack.registry.get_dag("job-job_a").version_id
    stack.put("job", job("a", "1", job_params={"retries": 3}))
    assert invoke(lambda_handler, _job_records(stack)[-1:]) == []
    key, bucket = "dags/job-job_a.py", stack.settings.bucket
    stack.s3.copy_object(
        Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key, "VersionId": first}
    )
    stack.put("job", job("a", "1", job_params={"retries": 4}))
    records = _job_records(stack)[-1:]
    with failing(handler_s3(stack), "before-send.s3.HeadObject", lambda _: True, "403", status=403):
        failed = invoke(lambda_handler, records)
    # THEN the file is not overwritten blindly: the DAG is an error, its last good file
    # stays, and the record is not retried (a retry cannot fix permissions)
    assert failed == []
    record = stack.registry.get_dag("job-job_a")
    assert record.outcome == "error"
    assert "403" in record.error
    assert len(stack.versions("job-job_a")) == 3
    # WHEN the permissions are fixed, the next change builds the DAG
    stack.put("job", job("a", "1", job_params={"retries": 5}))
    assert invoke(lambda_handler, _job_records(stack)[-1:]) == []
    assert stack.files() == stack.expected_files()
    assert stack.registry.get_dag("job-job_a").outcome == "written"


def test_a_failed_outcome_write_fails_the_record_and_the_retry_records_the_file(stack: Stack):
    stack.put("task", task("1"))
    stack.put("job", job("a", "1"))
    records = _job_records(stack)
    dynamodb = sync_for(Settings.from_env()).registry._client

    def outcome_write(request) -> bool:  # type: ignore[no-untyped-def]
        body = request.body if isinstance(request.body, bytes) else request.body.encode()
        return b'"outcome"' in body  # not a claim

    # WHEN the write of job a's outcome (sent beside the verify read) fails
    with failing(dynamodb, "before-send.dynamodb.UpdateItem", outcome_write) as failed:
        assert invoke(lambda_handler, records) == [records[0]["dynamodb"]["SequenceNumber"]]
    assert failed
    # THEN the job's record is retried; the retry finds the file written and records it
    assert deliver(lambda_handler, records) == []
    record = stack.registry.get_dag("job-job_a")
    assert record is not None and record.outcome == "unchanged"
    assert record.version_id == stack.versions("job-job_a")[0]
