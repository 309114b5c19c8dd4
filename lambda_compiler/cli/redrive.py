"""`dynadag redrive`: replay the fan-out batches in the dead-letter queue, naming their DAGs."""

from __future__ import annotations

import dataclasses
import sys
from typing import Annotated, Any

import typer

from lambda_compiler.cli.aws import aws_command, connect
from lambda_compiler.cli.common import FormatOption, OutputFormat, fail, write_json
from lambda_compiler.cli.output import say


@aws_command
def redrive(
    output: FormatOption = OutputFormat.TEXT,
    here: Annotated[
        bool, typer.Option("--here", help="Build the batches on this machine instead.")
    ] = False,
) -> None:
    """Move the batches that failed for good back to the work queue, printing their DAGs.

    They go as a new run (`dynadag status` shows it). With --here they are built in this
    process; a batch that still fails stays in the dead-letter queue. Exit 1 if one did.
    """
    from lambda_compiler.fanout import Fanout, Runs, Work, WorkItem, WorkItemError, WorkQueue
    from lambda_compiler.fanout_worker import build_item_here, build_worker

    aws = connect()
    url = aws.settings.fanout.queue_url
    if not url:
        fail(
            "DYNADAG_WORK_QUEUE_URL is not set: no fan-out queue",
            hint="name the stack (--stack) or set DYNADAG_WORK_QUEUE_URL",
        )
    sqs = aws.client("sqs")
    dead_letters = dead_letter_url(sqs, url)
    messages = _receive_all(sqs, dead_letters)
    items: list[tuple[dict[str, Any], WorkItem]] = []
    for message in messages:
        try:
            items.append((message, WorkItem.from_body(message["Body"])))
        except WorkItemError as exc:
            say(f"left in the dead-letter queue: {exc}", style="yellow", err=True)
    runs = Runs(aws.dynamodb, aws.settings.registry_table)
    fanout = Fanout(WorkQueue(sqs, url), runs, aws.settings.fanout.batch_rows)
    run, _ = fanout.plan(Work(), "redrive")
    replayed = [
        dataclasses.replace(item, run_id=run.run_id, batch_no=n)
        for n, (_, item) in enumerate(items)
    ]
    report = []
    if replayed:
        runs.start(dataclasses.replace(run, total=len(replayed)))
    worker = build_worker(aws.settings, aws.session) if here and replayed else None
    for (message, item), again in zip(items, replayed, strict=True):
        failed: list[str] = []
        if worker is not None:
            failed = build_item_here(again.body(), worker).failed
        else:
            fanout.queue.send([again])  # type: ignore[union-attr]
        if not failed:
            sqs.delete_message(QueueUrl=dead_letters, ReceiptHandle=message["ReceiptHandle"])
        report.append(
            {
                "run_id": item.run_id,
                "batch_no": item.batch_no,
                "dag_ids": item.names(),
                "rows": [str(ref) for ref in item.owners],
                "replayed_as": run.run_id,
                "failed": failed,
            }
        )
        verb = "rebuilt" if worker is not None and not failed else "queued"
        if failed:
            verb = "still failing"
        say(
            f"{verb}: batch {item.batch_no} of {item.run_id}: {', '.join(item.names())}",
            style="red" if failed else None,
            err=output is OutputFormat.JSON,
        )
    if output is OutputFormat.JSON:
        write_json(report)
    elif not report:
        sys.stderr.write("the dead-letter queue is empty\n")
    raise typer.Exit(1 if any(entry["failed"] for entry in report) else 0)


def dead_letter_url(sqs: Any, queue_url: str) -> str:
    """The URL of the dead-letter queue named in the work queue's redrive policy."""
    import json

    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"])
    policy = attributes.get("Attributes", {}).get("RedrivePolicy")
    if not policy:
        fail(f"the work queue {queue_url} has no dead-letter queue (RedrivePolicy)")
    name = json.loads(policy)["deadLetterTargetArn"].rsplit(":", 1)[-1]
    return str(sqs.get_queue_url(QueueName=name)["QueueUrl"])


def _receive_all(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Every message now in the queue (hidden from others for 5 minutes meanwhile)."""
    found: dict[str, dict[str, Any]] = {}
    while True:
        page = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300)
        messages = page.get("Messages", [])
        if not messages:
            return list(found.values())
        found.update({m["MessageId"]: m for m in messages})
