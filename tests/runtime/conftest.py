"""Runtime fixtures: AWS on a moto server for Airflow, an SNS topic read through SQS, a Slack stub.

Generated DAGs reach AWS through the Airflow connection ``aws_default``, whose extra
points at the moto server; `dags_runtime` reads its defaults from ``[dynadag]``
options set as ``AIRFLOW__DYNADAG__*`` variables.
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

from lambda_compiler.local.resources import read_resources

REGION = "us-east-1"


@dataclass
class AwsForAirflow:
    """Clients on the moto server, and the resources the runtime writes to."""

    endpoint: str
    sns: Any
    sqs: Any
    dynamodb: Any
    history_table: str = ""
    topic_arn: str = ""
    queue_url: str = ""

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION)

    def alerts(self, expected: int) -> list[dict[str, Any]]:
        """The alert bodies that reached the topic's queue (waits for `expected` of them)."""
        bodies: list[dict[str, Any]] = []
        for _ in range(10):
            response = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
            )
            for message in response.get("Messages", []):
                envelope = json.loads(message["Body"])
                bodies.append({"Subject": envelope["Subject"], **json.loads(envelope["Message"])})
            if len(bodies) >= expected and not response.get("Messages"):
                break
        return bodies

    def history(self, dag_id: str) -> dict[str, dict[str, Any]]:
        """Run-history items of `dag_id`, by ``run_key``, as plain values."""
        from boto3.dynamodb.types import TypeDeserializer

        deserializer = TypeDeserializer()
        items = self.dynamodb.query(
            TableName=self.history_table,
            KeyConditionExpression="dag_id = :d",
            ExpressionAttributeValues={":d": {"S": dag_id}},
        )["Items"]
        return {
            item["run_key"]["S"]: {k: deserializer.deserialize(v) for k, v in item.items()}
            for item in items
        }


@pytest.fixture
def aws_for_airflow(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsForAirflow]:
    """``aws_default`` on moto, the template's run-history table, and a topic → queue."""
    from dags_runtime.aws import client

    client.cache_clear()
    extra = {"endpoint_url": moto_endpoint, "region_name": REGION}
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps({"conn_type": "aws", "extra": extra}))
    aws = AwsForAirflow(
        moto_endpoint,
        sns=boto3.client("sns", endpoint_url=moto_endpoint, region_name=REGION),
        sqs=boto3.client("sqs", endpoint_url=moto_endpoint, region_name=REGION),
        dynamodb=boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name=REGION),
    )
    table = read_resources().tables["RunHistoryTable"]
    aws.dynamodb.create_table(**table.create_table_kwargs())
    aws.history_table = table.name
    aws.topic_arn = aws.sns.create_topic(Name="dynadag-alerts")["TopicArn"]
    aws.queue_url = aws.sqs.create_queue(QueueName="alerts")["QueueUrl"]
    queue_arn = aws.sqs.get_queue_attributes(QueueUrl=aws.queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    aws.sns.subscribe(TopicArn=aws.topic_arn, Protocol="sqs", Endpoint=queue_arn)
    monkeypatch.setenv("AIRFLOW__DYNADAG__ALERT_TOPIC_ARN", aws.topic_arn)
    monkeypatch.setenv("AIRFLOW__DYNADAG__RUN_HISTORY_TABLE", aws.history_table)
    yield aws
    client.cache_clear()


@dataclass
class SlackStub:
    """A webhook receiver on 127.0.0.1: what Slack would have been sent."""

    url: str
    posts: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def slack_stub() -> Iterator[SlackStub]:
    """An HTTP server on a free loopback port that records JSON posts."""
    posts: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            posts.append({"path": self.path, **json.loads(self.rfile.read(length))})
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield SlackStub(f"http://127.0.0.1:{server.server_address[1]}", posts)
    finally:
        server.shutdown()
        server.server_close()
