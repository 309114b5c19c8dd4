"""A stand-in for Lambda's SQS event source mapping: the fan-out's work queue, locally.

`local_queues` finds the work queue and its dead-letter queue (``WorkQueue``/
``WorkDeadLetterQueue``) that `provision` created from `template.yaml` on the moto server;
`create_queues` makes a pair with the same redrive policy under another name (tests).
`QueueWorker` polls the work queue and invokes the worker handler
(`lambda_compiler.fanout_worker.handler`) with one message per event, shaped as Lambda
delivers SQS records (`body`, `messageId`, `receiptHandle`,
`attributes.ApproximateReceiveCount`); a message reported in `batchItemFailures` is made
visible again after `retry_delay` seconds (Lambda waits for the visibility timeout),
others are deleted. moto moves a message received more than ``maxReceiveCount`` times to
the dead-letter queue, as SQS does. Each of `dynadag local`'s `--queue-workers` processes polls
one (`children.py`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lambda_compiler.local.resources import StackResources, read_resources
from lambda_compiler.local.streams import Event, Handler, LambdaContext

WORK_QUEUE = "WorkQueue"
WORK_DLQ = "WorkDeadLetterQueue"


@dataclass(frozen=True)
class Queues:
    """The work queue and its dead-letter queue."""

    work_url: str
    dead_letter_url: str
    max_receives: int


LOCAL_VISIBILITY_SECONDS = 30
"""A local work message reappears after this long (Lambda's visibility timeout is
minutes: a local retry should not wait that long)."""


def _max_receives(resources: StackResources) -> int:
    """The work queue's redrive `maxReceiveCount`, as template.yaml sets it."""
    policy = resources.queues[WORK_QUEUE].attributes["RedrivePolicy"]
    return int(json.loads(policy)["maxReceiveCount"])


def local_queues(sqs: Any, resources: StackResources) -> Queues:
    """The work queue and its dead-letter queue that `provision` created from the template,
    with the local visibility timeout."""
    url = {
        name: sqs.get_queue_url(QueueName=resources.queues[name].name)["QueueUrl"]
        for name in (WORK_QUEUE, WORK_DLQ)
    }
    sqs.set_queue_attributes(
        QueueUrl=url[WORK_QUEUE], Attributes={"VisibilityTimeout": str(LOCAL_VISIBILITY_SECONDS)}
    )
    return Queues(url[WORK_QUEUE], url[WORK_DLQ], _max_receives(resources))


def create_queues(sqs: Any, prefix: str, resources: StackResources | None = None) -> Queues:
    """A work queue and its dead-letter queue named after `prefix` (tests keep theirs apart
    on one server), redriven as template.yaml's are, with the local visibility timeout."""
    max_receives = _max_receives(resources or read_resources())
    dlq_url = sqs.create_queue(QueueName=f"{prefix}-work-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives})
    work_url = sqs.create_queue(
        QueueName=f"{prefix}-work",
        Attributes={"RedrivePolicy": policy, "VisibilityTimeout": str(LOCAL_VISIBILITY_SECONDS)},
    )["QueueUrl"]
    return Queues(work_url, dlq_url, max_receives)


def sqs_record(message: dict[str, Any], queue_arn: str) -> Event:
    """A `ReceiveMessage` message in the shape Lambda delivers it to the function."""
    attributes = message.get("Attributes", {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
            "SentTimestamp": attributes.get("SentTimestamp", "0"),
            "SenderId": "dynadag-local",
            "ApproximateFirstReceiveTimestamp": attributes.get("SentTimestamp", "0"),
        },
        "messageAttributes": {},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": "us-east-1",
    }


class QueueWorker:
    """Receives work messages one at a time and feeds them to `handler`."""

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        handler: Handler,
        *,
        retry_delay: int = 1,
        on_message: Callable[[Event, bool], None] = lambda record, ok: None,
    ) -> None:
        self._sqs = sqs
        self._url = queue_url
        self._handler = handler
        self._retry_delay = retry_delay
        self._on_message = on_message
        self._arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]

    def poll_once(self) -> int:
        """Receive and handle at most one message; how many were handled."""
        messages = self._sqs.receive_message(
            QueueUrl=self._url, MaxNumberOfMessages=1, AttributeNames=["All"]
        ).get("Messages", [])
        for message in messages:
            record = sqs_record(message, self._arn)
            try:
                response = self._handler({"Records": [record]}, LambdaContext())
                ok = not (response or {}).get("batchItemFailures")
            except Exception:  # a crashed invocation: the message comes back, as in Lambda
                ok = False
            self._on_message(record, ok)
            if ok:
                self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=record["receiptHandle"])
            else:
                self._sqs.change_message_visibility(
                    QueueUrl=self._url,
                    ReceiptHandle=record["receiptHandle"],
                    VisibilityTimeout=self._retry_delay,
                )
        return len(messages)


def queue_depth(sqs: Any, url: str) -> int:
    """Visible plus in-flight plus delayed messages."""
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(attributes.get(name, 0)) for name in names)
