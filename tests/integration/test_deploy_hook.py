"""The deploy-time rebuild custom resource, answering a CloudFormation stand-in on 127.0.0.1.

The hook queues the rebuild; fan-out workers (`fanout_worker`, fed by the local SQS
poller) build it for real against a moto server and the one that ends the run answers.
The ResponseURL is a local HTTP server that records what CloudFormation would receive.
Faults are injected with botocore event hooks on the workers' session.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest

from lambda_compiler import deploy_hook
from tests.integration.aws_fixtures import (
    FanoutQueues,
    Stack,
    crash_rendering,
    failing,
    fanout_queues,
)
from tests.rowkit import job, scheduler, task

pytestmark = pytest.mark.moto


@dataclass
class CloudFormationStandIn:
    """Records the PUTs sent to its URL; answers 500 to the first `fail_first` of them."""

    url: str = ""
    fail_first: int = 0
    answers: list[dict[str, Any]] = field(default_factory=list)
    content_types: list[str | None] = field(default_factory=list)
    attempts: int = 0

    def only_answer(self) -> dict[str, Any]:
        assert len(self.answers) == 1, self.answers
        return self.answers[0]


@pytest.fixture
def cloudformation() -> Iterator[CloudFormationStandIn]:
    stand_in = CloudFormationStandIn()

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            stand_in.attempts += 1
            if stand_in.attempts <= stand_in.fail_first:
                self.send_response(500)
            else:
                stand_in.answers.append(json.loads(body))
                stand_in.content_types.append(self.headers.get("Content-Type"))
                self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stand_in.url = f"http://127.0.0.1:{server.server_port}/response?X-Amz-Signature=abc"
    try:
        yield stand_in
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Context:
    remaining_ms: int = 900_000
    log_stream_name: str = "2026/11/21/[$LATEST]abc"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def request(kind: str, url: str, physical_id: str | None = None) -> dict[str, Any]:
    event = {
        "RequestType": kind,
        "ResponseURL": url,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/dynadag/guid",
        "RequestId": f"request-{kind}",
        "LogicalResourceId": "DagRebuild",
        "ResourceType": "Custom::DagRebuild",
        "ResourceProperties": {"ServiceToken": "arn", "CompilerVersion": "arn:...:7"},
    }
    if physical_id:
        event["PhysicalResourceId"] = physical_id
    return event


@pytest.fixture
def stack(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Stack:
    stack = Stack(moto_endpoint, monkeypatch)
    stack.put("task", task("1"), task("2"))
    stack.put("job", job("10", "1,2"), job("11", "2"))
    stack.put("scheduler", scheduler("100", "10,11"))
    return stack


@pytest.fixture
def queues(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> FanoutQueues:
    monkeypatch.setenv("DYNADAG_BATCH_ROWS", "1")  # one batch per row: several workers' answers
    return fanout_queues(stack, monkeypatch)


def deploy(kind: str, cloudformation: CloudFormationStandIn, queues: FanoutQueues) -> None:
    """CloudFormation sends the request; the workers drain the queue."""
    physical = None if kind == "Create" else deploy_hook.PHYSICAL_RESOURCE_ID
    deploy_hook.handler(request(kind, cloudformation.url, physical), Context())
    queues.drain()


@pytest.fixture
def default_session() -> Iterator[boto3.Session]:
    """A fresh boto3 default session (the one the hook's clients come from), dropped after."""
    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    try:
        yield boto3.DEFAULT_SESSION
    finally:
        boto3.DEFAULT_SESSION = None


def stack_status(session: boto3.Session, status: str) -> None:
    """Make DescribeStacks of `session` report `status` for the stack."""
    body = (
        "<DescribeStacksResponse><DescribeStacksResult><Stacks><member>"
        "<StackName>dynadag</StackName><StackId>arn:aws:cloudformation:us-east-1:"
        "123456789012:stack/dynadag/guid</StackId><CreationTime>2026-01-01T00:00:00Z"
        f"</CreationTime><StackStatus>{status}</StackStatus></member></Stacks>"
        "</DescribeStacksResult></DescribeStacksResponse>"
    )
    from botocore.awsrequest import AWSResponse

    from tests.integration.aws_fixtures import _RawBody

    def respond(request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(request.url, 200, {}, _RawBody(body.encode()))

    session.events.register("before-send.cloudformation.DescribeStacks", respond)


def test_create_builds_every_dag_and_answers_success(
    stack: Stack, cloudformation: CloudFormationStandIn, queues: FanoutQueues
) -> None:
    # GIVEN rows written before dynadag was deployed (no stream record will ever announce them)
    # WHEN CloudFormation creates the custom resource
    deploy_hook.handler(request("Create", cloudformation.url), Context())

    # THEN the hook only queued the work: no answer yet, one batch per row, and a watchdog
    assert cloudformation.answers == []
    assert queues.depth() == 3 + 1

    # WHEN the workers drain the queue
    queues.drain()

    # THEN every DAG is in S3, exactly as a full compile of the tables gives it
    assert stack.files() == stack.expected_files()
    assert len(stack.files()) == 3
    answer = cloudformation.only_answer()
    assert answer["Status"] == "SUCCESS"
    assert answer["Data"] == {
        "written": "3",
        "unchanged": "0",
        "deleted": "0",
        "invalid": "0",
        "failed": "0",
        "crashed": "0",
    }
    assert answer["RequestId"] == "request-Create"
    assert answer["LogicalResourceId"] == "DagRebuild"
    assert answer["StackId"].endswith("stack/dynadag/guid")
    assert answer["PhysicalResourceId"] == deploy_hook.PHYSICAL_RESOURCE_ID
    assert cloudformation.content_types == [""]  # what the presigned URL was signed for


def test_update_rewrites_only_what_changed_and_settles_deleted_rows(
    stack: Stack, cloudformation: CloudFormationStandIn, queues: FanoutQueues
) -> None:
    stack.put("job", job("12", "2"))
    deploy("Create", cloudformation, queues)
    versions_before = stack.versions("job-job_10")

    # rows changed while the stream was not watched (e.g. before the stack was updated)
    stack.put("task", task("1", name="renamed_task"))
    stack.delete("job", job_type="etl", job_id="12")
    deploy("Update", cloudformation, queues)

    answer = cloudformation.answers[-1]
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["Data"]["written"] == "1"
    assert answer["Data"]["unchanged"] == "2"
    assert answer["Data"]["deleted"] == "1"  # the row is gone: found through the registry
    assert "renamed_task" in stack.files()["job-job_10"]
    assert "job-job_12" not in stack.files()
    assert stack.files() == stack.expected_files()
    assert len(stack.versions("job-job_10")) == len(versions_before) + 1
    assert answer["PhysicalResourceId"] == deploy_hook.PHYSICAL_RESOURCE_ID


def test_invalid_rows_are_reported_without_failing_the_deploy(
    stack: Stack, cloudformation: CloudFormationStandIn, queues: FanoutQueues
) -> None:
    stack.put("job", job("12", "1,99"))  # task 99 does not exist

    deploy("Create", cloudformation, queues)

    answer = cloudformation.only_answer()
    assert answer["Status"] == "SUCCESS"
    assert answer["Data"]["invalid"] == "1"
    assert "1 invalid" in answer["Reason"]
    assert "job-job_12" not in stack.files()
    assert {"job-job_10", "job-job_11"} <= set(stack.files())


def test_a_dag_whose_build_crashes_does_not_fail_the_deploy(
    stack: Stack,
    cloudformation: CloudFormationStandIn,
    queues: FanoutQueues,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN one DAG whose rendering raises (a compiler bug some row content triggers)
    crash_rendering(monkeypatch, {"job-job_11"})

    deploy("Create", cloudformation, queues)

    # THEN the deploy succeeds: the crash is that DAG's error, the others are built
    answer = cloudformation.only_answer()
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["Data"]["crashed"] == "1" and answer["Data"]["failed"] == "0"
    assert "job-job_11" not in stack.files()
    assert {"job-job_10", "schedule-sched_100"} <= set(stack.files())


def test_a_worker_error_is_retried_and_the_run_converges(
    stack: Stack, cloudformation: CloudFormationStandIn, queues: FanoutQueues
) -> None:
    # GIVEN S3 throttles the first put of job 10's file (a worker's batch fails mid-way)
    deploy_hook.handler(request("Create", cloudformation.url), Context())
    fails = iter([True])
    should_fail = lambda request: "job-job_10" in request.url and next(fails, False)  # noqa: E731
    with failing(queues.session, "before-send.s3.PutObject", should_fail) as failed:
        queues.drain(queues.worker())

    # THEN SQS delivered that batch again and the run still ended in SUCCESS, once
    assert len(failed) == 1
    assert cloudformation.only_answer()["Status"] == "SUCCESS"
    assert stack.files() == stack.expected_files()
    assert queues.dead_letters() == []


def test_a_batch_failing_every_receive_fails_the_deploy_naming_its_dag(
    stack: Stack, cloudformation: CloudFormationStandIn, queues: FanoutQueues
) -> None:
    deploy_hook.handler(request("Create", cloudformation.url), Context())
    broken = lambda request: "job-job_11" in request.url  # noqa: E731
    with failing(queues.session, "before-send.s3.PutObject", broken) as failed:
        queues.drain(queues.worker())

    # THEN after maxReceiveCount (3) tries the batch is counted failed: FAILED names the DAG
    assert len(failed) == 3
    answer = cloudformation.only_answer()
    assert answer["Status"] == "FAILED"
    assert "job-job_11" in answer["Reason"] and "dynadag redrive" in answer["Reason"]
    # AND the other DAGs were built; the failed batch is in the dead-letter queue by DAG id
    assert {"job-job_10", "schedule-sched_100"} <= set(stack.files())
    queues.drain()  # the next receive moves it (as SQS does)
    assert [item["dag_ids"] for item in queues.dead_letters()] == [["job-job_11"]]


def test_the_watchdog_answers_failed_when_the_run_misses_its_deadline(
    stack: Stack,
    cloudformation: CloudFormationStandIn,
    queues: FanoutQueues,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a deadline already passed and workers that have not started
    monkeypatch.setenv("DYNADAG_REBUILD_DEADLINE_SECONDS", "0")
    deploy_hook.handler(request("Create", cloudformation.url), Context())
    messages = queues.sqs.receive_message(
        QueueUrl=queues.queues.work_url, MaxNumberOfMessages=10, VisibilityTimeout=0
    )["Messages"]
    watchdog = next(m["Body"] for m in messages if "watchdog" in m["Body"])

    # WHEN the watchdog message is handled
    worker = queues.worker()
    worker.handle(watchdog)

    # THEN CloudFormation hears FAILED with the run's progress, and only once
    answer = cloudformation.only_answer()
    assert answer["Status"] == "FAILED"
    assert "did not finish in time: 0 of 3 batches done" in answer["Reason"]
    queues.drain(worker)
    assert len(cloudformation.answers) == 1
    assert stack.files() == stack.expected_files()  # the rebuild still completes


def test_a_watchdog_before_the_deadline_re_arms_itself(
    stack: Stack, cloudformation: CloudFormationStandIn, queues: FanoutQueues
) -> None:
    deploy_hook.handler(request("Create", cloudformation.url), Context())
    run = queues.worker().runs.latest()
    assert run is not None and run.deadline is not None

    queues.worker().watch(run.run_id, run.deadline)

    assert cloudformation.answers == []
    assert queues.depth() == 3 + 2  # the batches, the first watchdog and the re-armed one


@pytest.mark.parametrize("status", ["UPDATE_ROLLBACK_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"])
def test_a_rollback_is_answered_success_at_once_and_rebuilt_in_the_background(
    stack: Stack,
    cloudformation: CloudFormationStandIn,
    queues: FanoutQueues,
    default_session: boto3.Session,
    status: str,
) -> None:
    # GIVEN the stack is rolling back (DescribeStacks on the event's StackId says so)
    stack_status(default_session, status)

    deploy_hook.handler(
        request("Update", cloudformation.url, deploy_hook.PHYSICAL_RESOURCE_ID), Context()
    )

    # THEN SUCCESS at once (a rollback never waits on, nor fails because of, a rebuild)
    answer = cloudformation.only_answer()
    assert answer["Status"] == "SUCCESS"
    assert "rolling back" in answer["Reason"]
    # AND the rebuild still runs, answering nobody
    queues.drain()
    assert stack.files() == stack.expected_files()
    assert len(cloudformation.answers) == 1


def test_empty_tables_are_answered_at_once(
    moto_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
    cloudformation: CloudFormationStandIn,
) -> None:
    stack = Stack(moto_endpoint, monkeypatch)
    queues = fanout_queues(stack, monkeypatch)

    deploy_hook.handler(request("Create", cloudformation.url), Context())

    answer = cloudformation.only_answer()
    assert answer["Status"] == "SUCCESS"
    assert answer["Data"]["written"] == "0"
    assert queues.depth() == 0


def test_delete_keeps_the_dag_files(
    stack: Stack, cloudformation: CloudFormationStandIn, queues: FanoutQueues
) -> None:
    deploy("Create", cloudformation, queues)
    files = stack.files()

    deploy_hook.handler(request("Delete", cloudformation.url, "dynadag-dag-rebuild"), Context())

    answer = cloudformation.answers[-1]
    assert answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == "dynadag-dag-rebuild"
    assert stack.files() == files
    assert queues.depth(delayed=False) == 0  # nothing queued


def test_missing_bucket_fails_the_deploy_with_the_reason(
    stack: Stack,
    cloudformation: CloudFormationStandIn,
    queues: FanoutQueues,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DYNADAG_BUCKET", "no-such-dags-bucket")

    deploy_hook.handler(request("Create", cloudformation.url), Context())

    answer = cloudformation.only_answer()
    assert answer["Status"] == "FAILED"
    assert "NoSuchBucket" in answer["Reason"]
    assert "log stream 2026/11/21/[$LATEST]abc" in answer["Reason"]


def test_missing_setting_fails_the_deploy_naming_the_variable(
    cloudformation: CloudFormationStandIn,
) -> None:
    # no DYNADAG_BUCKET in the environment (the autouse fixture strips DYNADAG_*)
    deploy_hook.handler(request("Create", cloudformation.url), Context())

    answer = cloudformation.only_answer()
    assert answer["Status"] == "FAILED"
    assert "DYNADAG_BUCKET" in answer["Reason"]


def test_missing_work_queue_fails_the_deploy_naming_the_variable(
    stack: Stack, cloudformation: CloudFormationStandIn
) -> None:
    deploy_hook.handler(request("Create", cloudformation.url), Context())

    answer = cloudformation.only_answer()
    assert answer["Status"] == "FAILED"
    assert "DYNADAG_WORK_QUEUE_URL" in answer["Reason"]


def test_the_answer_is_retried_when_the_response_url_errors(
    cloudformation: CloudFormationStandIn,
) -> None:
    cloudformation.fail_first = 1

    deploy_hook.handler(request("Delete", cloudformation.url, "dynadag-dag-rebuild"), Context())

    assert cloudformation.attempts == 2
    assert cloudformation.only_answer()["Status"] == "SUCCESS"
