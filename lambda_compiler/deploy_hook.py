"""CloudFormation custom resource that rebuilds every DAG on deploy (`DagRebuild` in template.yaml).

Create and Update run `run_rebuild`, so a new compiler or new templates reach every DAG file;
Delete succeeds without touching the DAG files (deleting the stack must not take pipelines
down). Whatever happens, CloudFormation gets an answer: a rebuild still running shortly before
the function's timeout is reported as failed rather than leaving the stack waiting.

A rebuild fails the deploy only when a DAG could not be built for an infrastructure reason
(permissions, a missing bucket); DAGs with invalid rows are recorded and alerted as usual,
and the deploy goes on.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from aws_lambda_powertools import Logger

from lambda_compiler.rebuild import RebuildReport, run_rebuild
from lambda_compiler.settings import Settings

logger = Logger(service="dynadag")

PHYSICAL_RESOURCE_ID = "dynadag-dag-rebuild"
ANSWER_MARGIN_SECONDS = 20.0
"""Time kept back from the function's timeout to answer CloudFormation."""
REASON_LIMIT = 1000
"""CloudFormation rejects responses over 4 KB; the reason is cut to this many characters."""
SEND_ATTEMPTS = 4


class RebuildTimeoutError(TimeoutError):
    """The rebuild did not finish before the function had to answer CloudFormation."""


def handler(event: dict[str, Any], context: Any) -> None:
    """Run the rebuild for Create/Update, skip it for Delete, and always answer CloudFormation."""
    request_type = event.get("RequestType")
    status, data = "SUCCESS", {}
    try:
        if request_type == "Delete":
            reason = "DAG files and the registry are kept when the stack is deleted"
        else:
            budget = context.get_remaining_time_in_millis() / 1000 - ANSWER_MARGIN_SECONDS
            report = _rebuild_within(Settings.from_env(), budget)
            data = summary(report)
            reason = ", ".join(f"{count} {outcome}" for outcome, count in data.items())
            if report.failed:
                status = "FAILED"
                failed = ", ".join(
                    f"{dag}: {error}" for dag, error in sorted(report.failed.items())
                )
                reason = f"{len(report.failed)} DAG(s) could not be built: {failed}"
    except Exception as exc:
        logger.exception("deploy-time rebuild failed", extra={"request_type": request_type})
        status = "FAILED"
        reason = f"{type(exc).__name__}: {exc}"
    if status == "FAILED":
        reason += f" (log stream {getattr(context, 'log_stream_name', '?')})"
    logger.info("answering CloudFormation", extra={"status": status, "reason": reason})
    send_response(event, status, reason, data)


def _rebuild_within(settings: Settings, seconds: float) -> RebuildReport:
    """`run_rebuild(settings)`, or RebuildTimeoutError if it takes longer than `seconds`."""
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["report"] = run_rebuild(settings)
        except Exception as exc:  # handed over to the caller's thread
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="dag-rebuild", daemon=True)
    worker.start()
    worker.join(max(seconds, 0.0))
    if worker.is_alive():
        raise RebuildTimeoutError(
            f"the rebuild did not finish within {seconds:.0f} s; raise the DeployHookFunction "
            "timeout or rebuild from a workstation with `dynadag rebuild`"
        )
    if "error" in outcome:
        raise outcome["error"]
    report: RebuildReport = outcome["report"]
    return report


def summary(report: RebuildReport) -> dict[str, int]:
    """DAG counts by outcome: the custom resource's `Data` (readable with `!GetAtt`)."""
    return {
        "written": len(report.written),
        "unchanged": len(report.unchanged),
        "deleted": len(report.deleted),
        "invalid": len(report.invalid),
        "failed": len(report.failed),
        "crashed": len(report.crashed),
    }


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
