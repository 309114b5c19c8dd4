"""The local stand-in for Lambda's event source mapping, against moto's DynamoDB Streams API."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from lambda_compiler.local.provision import provision
from lambda_compiler.local.resources import read_resources
from lambda_compiler.local.streams import Invocation, StreamWorker

pytestmark = pytest.mark.moto


class RecordingHandler:
    """A Lambda handler that records its events and answers from a script of responses."""

    def __init__(self, *responses: Any) -> None:
        self.events: list[dict[str, Any]] = []
        self._responses = list(responses)

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        response = self._responses.pop(0) if self._responses else {"batchItemFailures": []}
        if isinstance(response, Exception):
            raise response
        return response

    def sequence_numbers(self, call: int) -> list[str]:
        return [r["dynamodb"]["SequenceNumber"] for r in self.events[call]["Records"]]


@pytest.fixture
def dynamodb(moto_endpoint: str) -> Any:
    client = boto3.client("dynamodb", endpoint_url=moto_endpoint)
    provision(read_resources(), client, boto3.client("s3", endpoint_url=moto_endpoint), "dags")
    return client


def _worker(dynamodb: Any, handler: RecordingHandler, **kwargs: Any) -> StreamWorker:
    streams = boto3.client("dynamodbstreams", endpoint_url=dynamodb.meta.endpoint_url)
    return StreamWorker(
        dynamodb, streams, ["mwaa_task", "mwaa_job"], handler, retry_delay=0, **kwargs
    )


def _put_tasks(dynamodb: Any, *ids: str) -> None:
    for task_id in ids:
        dynamodb.put_item(
            TableName="mwaa_task", Item={"task_id": {"S": task_id}, "status": {"N": "1"}}
        )


def test_records_reach_the_handler_in_lambda_shape_and_empty_polls_call_nothing(
    dynamodb: Any,
) -> None:
    handler = RecordingHandler()
    worker = _worker(dynamodb, handler)
    assert worker.poll_once() == 0
    assert handler.events == []

    _put_tasks(dynamodb, "1")
    dynamodb.put_item(TableName="mwaa_task", Item={"task_id": {"S": "1"}, "status": {"N": "0"}})
    dynamodb.delete_item(TableName="mwaa_task", Key={"task_id": {"S": "1"}})
    assert worker.poll_once() == 3
    assert worker.poll_once() == 0

    (event,) = handler.events
    insert, modify, remove = event["Records"]
    arn = dynamodb.describe_table(TableName="mwaa_task")["Table"]["LatestStreamArn"]
    for record in (insert, modify, remove):
        assert record["eventSourceARN"] == arn
        assert record["eventSource"] == "aws:dynamodb"
        assert record["awsRegion"] == "us-east-1"
        assert record["dynamodb"]["Keys"] == {"task_id": {"S": "1"}}
        assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
    assert [r["eventName"] for r in (insert, modify, remove)] == ["INSERT", "MODIFY", "REMOVE"]
    assert (
        insert["dynamodb"]["NewImage"]["status"] == {"N": "1"}
        and "OldImage" not in insert["dynamodb"]
    )
    assert modify["dynamodb"]["OldImage"]["status"] == {"N": "1"}
    assert modify["dynamodb"]["NewImage"]["status"] == {"N": "0"}
    assert "NewImage" not in remove["dynamodb"]


def test_batch_item_failures_are_retried_from_the_first_failed_record(dynamodb: Any) -> None:
    _put_tasks(dynamodb, "1", "2", "3")
    handler = RecordingHandler()
    worker = _worker(dynamodb, handler)
    worker.poll_once()
    first_call = handler.sequence_numbers(0)
    assert len(first_call) == 3

    # a second worker reads the same stream from its start, with a partly failing handler
    handler = RecordingHandler({"batchItemFailures": [{"itemIdentifier": first_call[1]}]})
    invocations: list[Invocation] = []
    _worker(dynamodb, handler, on_invocation=invocations.append).poll_once()

    assert handler.sequence_numbers(0) == first_call
    assert handler.sequence_numbers(1) == first_call[1:]
    assert len(handler.events) == 2
    assert invocations[0].failed == (first_call[1],) and not invocations[0].gave_up
    assert invocations[1].failed == ()


def test_a_crashing_handler_gets_the_whole_batch_again_then_the_worker_gives_up(
    dynamodb: Any,
) -> None:
    _put_tasks(dynamodb, "1", "2")
    handler = RecordingHandler(*[RuntimeError("boom")] * 5)
    invocations: list[Invocation] = []
    worker = _worker(dynamodb, handler, max_retries=2, on_invocation=invocations.append)

    worker.poll_once()

    assert len(handler.events) == 3
    assert all(len(e["Records"]) == 2 for e in handler.events)
    assert [i.gave_up for i in invocations] == [False, False, True]
    assert invocations[0].error == "RuntimeError: boom"
    _put_tasks(dynamodb, "3")
    worker.poll_once()
    assert [r["dynamodb"]["Keys"]["task_id"]["S"] for r in handler.events[-1]["Records"]] == ["3"]


def test_batches_are_at_most_batch_size_records(dynamodb: Any) -> None:
    _put_tasks(dynamodb, *[str(i) for i in range(5)])
    handler = RecordingHandler()
    worker = _worker(dynamodb, handler, batch_size=2)

    while worker.poll_once():
        pass

    assert [len(e["Records"]) for e in handler.events] == [2, 2, 1]
