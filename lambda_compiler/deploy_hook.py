"""CloudFormation custom resource that rebuilds every DAG on deploy (`DagRebuild` in template.yaml).

The hook is the fan-out's coordinator (`fanout.py`): for Create and Update it uploads the
runtime files, enumerates the work (keys only), writes a run record holding this
request's ResponseURL and ids, enqueues the batches and a watchdog, and returns
**without answering**: the worker whose batch ends the run answers (`answer_run`),
SUCCESS, or FAILED naming the DAGs that could not be built; the watchdog answers FAILED
if the run has not ended by its deadline (`DYNADAG_REBUILD_DEADLINE_SECONDS`, within the
custom resource's `ServiceTimeout`). With nothing to build it answers at once.

So the deploy never waits on one invocation's time or memory, and a failed rebuild never
wedges the stack: Delete answers SUCCESS at once without touching the DAG files (deleting
the stack must not take pipelines down), and so does any request CloudFormation sends
while rolling back (the stack's status ends in ``ROLLBACK_IN_PROGRESS``): the rebuild then
still runs, best effort, but the rollback does not wait on it. An error before the run is
queued (a missing setting, a missing bucket) answers FAILED with the reason.

DAGs with invalid rows, or whose compile crashed, are recorded and alerted as usual and do
not fail the deploy; only DAGs an AWS error kept from being built (after the queue's
retries) do.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from aws_lambda_powertools import Logger

from lambda_compiler.fanout import Fanout, RunRecord, Runs, WorkQueue, prepare_rebuild
from lambda_compiler.settings import Settings, SettingsError
from lambda_compiler.sync import build_sync

logger = Logger(service="dynadag")

PHYSICAL_RESOURCE_ID = "dynadag-dag-rebuild"
REASON_LIMIT = 1000
"""CloudFormation rejects responses over 4 KB; the reason is cut to this many characters."""
SEND_ATTEMPTS = 4
DATA_KEYS = ("written", "unchanged", "deleted", "invalid", "failed", "crashed")
"""The custom resource's `Data` (readable with `!GetAtt`): DAG counts by outcome."""


def handler(event: dict[str, Any], context: Any) -> None:
    """Start the rebuild for Create/Update (the workers answer), answer Delete and any
    request made during a rollback at once; FAILED when the rebuild cannot even start."""
    request_type = event.get("RequestType")
    if request_type == "Delete":
        reason = "DAG files and the registry are kept when the stack is deleted"
        send_response(event, "SUCCESS", reason, {})
        return
    try:
        settings = Settings.from_env()
        rolling_back = _rolling_back(event)
        run = start_rebuild(settings, None if rolling_back else event)
    except Exception as exc:
        logger.exception("deploy-time rebuild failed", extra={"request_type": request_type})
        reason = f"{type(exc).__name__}: {exc}"
        reason += f" (log stream {getattr(context, 'log_stream_name', '?')})"
        send_response(event, "FAILED", reason, {})
        return
    if rolling_back:
        reason = f"rolling back: rebuild {run.run_id} runs in the background ({run.total} batches)"
        send_response(event, "SUCCESS", reason, {})
    elif run.total == 0:
        send_response(event, "SUCCESS", "no DAGs to build", dict.fromkeys(DATA_KEYS, 0))
    else:
        logger.info("rebuild queued", extra={"run_id": run.run_id, "batches": run.total})


def start_rebuild(settings: Settings, cloudformation: dict[str, Any] | None) -> RunRecord:
    """Upload the runtime, enqueue every DAG's rows and arm the watchdog; the run.

    With `cloudformation` (the request), the run answers it when it ends; an empty run is
    recorded as answered (the caller answers).
    """
    import boto3

    if not settings.fanout.queue_url:
        raise SettingsError("DYNADAG_WORK_QUEUE_URL is not set: name the fan-out work queue")
    session = boto3.Session()
    sync = build_sync(settings, logger, session)
    queue = WorkQueue(session.client("sqs"), settings.fanout.queue_url)
    runs = Runs(sync.source.client, settings.registry_table)
    fanout = Fanout(queue, runs, settings.fanout.batch_rows)
    work, runtime = prepare_rebuild(sync)
    logger.info("runtime files written", extra={"files": runtime})
    now = time.time()
    deadline = now + settings.fanout.deadline_seconds
    empty = not work.owners and not work.gone
    run = fanout.start(
        work, "deploy", deadline=deadline, cloudformation=None if empty else cloudformation
    )
    if not empty and cloudformation is not None:
        queue.arm_watchdog(run.run_id, deadline, now)
    return run


def _rolling_back(event: dict[str, Any]) -> bool:
    """True when the stack that sent `event` is rolling back (DescribeStacks)."""
    import boto3

    stack_id = event.get("StackId")
    if not stack_id:
        return False
    try:
        stacks = boto3.client("cloudformation").describe_stacks(StackName=stack_id)["Stacks"]
    except Exception as exc:  # unknown: treat as a normal deploy, which answers either way
        logger.warning("stack status unknown", extra={"error": f"{type(exc).__name__}: {exc}"})
        return False
    return any(s.get("StackStatus", "").endswith("ROLLBACK_IN_PROGRESS") for s in stacks)


def answer_run(run: RunRecord, *, timed_out: bool = False) -> None:
    """Answer the CloudFormation request a run was started for (if any)."""
    event = run.cloudformation
    if event is None:
        return
    counts = run.counts
    data = {
        "written": counts.get("written", 0),
        "unchanged": counts.get("unchanged", 0),
        "deleted": counts.get("deleted", 0),
        "invalid": counts.get("invalid", 0),
        "failed": counts.get("error", 0),
        "crashed": counts.get("crashed", 0),
    }
    if timed_out:
        status = "FAILED"
        reason = (
            f"the rebuild {run.run_id} did not finish in time: {run.done} of {run.total} "
            f"batches done, {run.failed} failed, {run.pending} pending; it goes on in the "
            "background (`dynadag status`)"
        )
    elif run.failed:
        status = "FAILED"
        reason = (
            f"{run.failed} of {run.total} batch(es) of rebuild {run.run_id} could not be "
            f"built; DAGs: {', '.join(run.failed_dags)}; replay with `dynadag redrive`"
        )
    else:
        status = "SUCCESS"
        reason = ", ".join(f"{count} {outcome}" for outcome, count in data.items())
    logger.info("answering CloudFormation", extra={"status": status, "reason": reason})
    send_response(event, status, reason, data)


def send_response(event: dict[str, Any], status: str, reason: str, data: dict[str, Any]) -> None:
    """PUT the cfn-response document to the request's presigned ResponseURL, with retries."""
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason[:REASON_LIMIT],
            "PhysicalResourceId": event.get("PhysicalResourceId") or PHYSICAL_RESOURCE_ID,
            "StackId": event.get("StackId"),
            "RequestId": event.get("RequestId"),
            "LogicalResourceId": event.get("LogicalResourceId"),
            "NoEcho": False,
            "Data": {name: str(value) for name, value in data.items()},
        }
    ).encode()
    # The presigned URL was signed without a content type: send an empty one.
    request = urllib.request.Request(
        event["ResponseURL"],
        data=body,
        method="PUT",
        headers={"Content-Type": "", "Content-Length": str(len(body))},
    )
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                logger.info("CloudFormation answered", extra={"http_status": response.status})
                return
        except (urllib.error.URLError, TimeoutError) as exc:
            logger.warning("answer not delivered", extra={"attempt": attempt, "error": str(exc)})
            if attempt == SEND_ATTEMPTS:
                raise
            time.sleep(2 ** (attempt - 1))
