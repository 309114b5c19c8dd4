"""The deploy-time rebuild custom resource, answering a CloudFormation stand-in on 127.0.0.1.

The rebuild itself runs for real against a moto server; the ResponseURL is a local HTTP
server that records what CloudFormation would receive.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from lambda_compiler import deploy_hook
from tests.integration.aws_fixtures import Stack, crash_rendering
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


def test_create_builds_every_dag_and_answers_success(
    stack: Stack, cloudformation: CloudFormationStandIn
) -> None:
    # GIVEN rows written before dynadag was deployed (no stream record will ever announce them)
    # WHEN CloudFormation creates the custom resource
    deploy_hook.handler(request("Create", cloudformation.url), Context())

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


def test_update_rewrites_only_what_changed(
    stack: Stack, cloudformation: CloudFormationStandIn
) -> None:
    deploy_hook.handler(request("Create", cloudformation.url), Context())
    versions_before = stack.versions("job-job_10")

    # a row changed while the stream was not watched (e.g. before the stack was updated)
    stack.put("task", task("1", name="renamed_task"))
    deploy_hook.handler(
        request("Update", cloudformation.url, deploy_hook.PHYSICAL_RESOURCE_ID), Context()
    )

    answer = cloudformation.answers[-1]
    assert answer["Status"] == "SUCCESS"
    assert answer["Data"]["written"] == "1"
    assert answer["Data"]["unchanged"] == "2"
    assert "renamed_task" in stack.files()["job-job_10"]
    assert len(stack.versions("job-job_10")) == len(versions_before) + 1
    assert answer["PhysicalResourceId"] == deploy_hook.PHYSICAL_RESOURCE_ID


def test_invalid_rows_are_reported_without_failing_the_deploy(
    stack: Stack, cloudformation: CloudFormationStandIn
) -> None:
    stack.put("job", job("12", "1,99"))  # task 99 does not exist

    deploy_hook.handler(request("Create", cloudformation.url), Context())

    answer = cloudformation.only_answer()
    assert answer["Status"] == "SUCCESS"
    assert answer["Data"]["invalid"] == "1"
    assert "1 invalid" in answer["Reason"]
    assert "job-job_12" not in stack.files()
    assert {"job-job_10", "job-job_11"} <= set(stack.files())


def test_a_dag_whose_build_crashes_does_not_fail_the_deploy(
    stack: Stack, cloudformation: CloudFormationStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN one DAG whose rendering raises (a compiler bug some row content triggers)
    crash_rendering(monkeypatch, {"job-job_11"})

    deploy_hook.handler(request("Create", cloudformation.url), Context())

    # THEN the deploy succeeds: the crash is that DAG's error, the others are built
    answer = cloudformation.only_answer()
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["Data"]["crashed"] == "1" and answer["Data"]["failed"] == "0"
    assert "job-job_11" not in stack.files()
    assert {"job-job_10", "schedule-sched_100"} <= set(stack.files())


def test_delete_keeps_the_dag_files(stack: Stack, cloudformation: CloudFormationStandIn) -> None:
    deploy_hook.handler(request("Create", cloudformation.url), Context())
    files = stack.files()

    deploy_hook.handler(request("Delete", cloudformation.url, "dynadag-dag-rebuild"), Context())

    answer = cloudformation.answers[-1]
    assert answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == "dynadag-dag-rebuild"
    assert stack.files() == files


def test_missing_bucket_fails_the_deploy_with_the_reason(
    stack: Stack, cloudformation: CloudFormationStandIn, monkeypatch: pytest.MonkeyPatch
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


def test_a_rebuild_running_into_the_timeout_is_answered_as_failed(
    cloudformation: CloudFormationStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DYNADAG_BUCKET", "dags-bucket")
    release = threading.Event()

    def stuck_rebuild(settings: Any) -> None:
        release.wait(10)

    monkeypatch.setattr(deploy_hook, "run_rebuild", stuck_rebuild)
    margin_ms = int(deploy_hook.ANSWER_MARGIN_SECONDS * 1000)
    try:
        deploy_hook.handler(
            request("Create", cloudformation.url), Context(remaining_ms=margin_ms + 200)
        )
    finally:
        release.set()

    answer = cloudformation.only_answer()
    assert answer["Status"] == "FAILED"
    assert "did not finish" in answer["Reason"]


def test_the_answer_is_retried_when_the_response_url_errors(
    cloudformation: CloudFormationStandIn,
) -> None:
    cloudformation.fail_first = 1

    deploy_hook.handler(request("Delete", cloudformation.url, "dynadag-dag-rebuild"), Context())

    assert cloudformation.attempts == 2
    assert cloudformation.only_answer()["Status"] == "SUCCESS"
