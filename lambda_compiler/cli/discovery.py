"""Where a deployment is, without exported variables: a CloudFormation stack, or `dynadag local`.

`--stack NAME` (or `DYNADAG_STACK`) reads the stack's outputs and parameters and gives
the `DYNADAG_*` variables the compiler Lambda has. `dynadag local` records what it serves
in `.dynadag/local.json` (beside its dags folder and Lambda log); any shell in that
project folder (or below it) finds the record.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

RECORD_NAME = "local.json"
RECORD_FOLDER = ".dynadag"

# CloudFormation output -> variable, as template.yaml's Globals give them to the Lambda.
STACK_OUTPUTS = {
    "DagsBucketName": "DYNADAG_BUCKET",
    "MwaaDagS3Path": "DYNADAG_DAGS_PREFIX",
    "TaskTableName": "DYNADAG_TASK_TABLE",
    "JobTableName": "DYNADAG_JOB_TABLE",
    "SchedulerTableName": "DYNADAG_SCHEDULER_TABLE",
    "RegistryTableName": "DYNADAG_REGISTRY_TABLE",
    "RunHistoryTableName": "DYNADAG_RUN_HISTORY_TABLE",
    "AlertTopicArn": "DYNADAG_ALERT_TOPIC_ARN",
    "WorkQueueUrl": "DYNADAG_WORK_QUEUE_URL",
}
# Stack parameter -> variable: the compiler's target and policy, so rows check as deployed.
STACK_PARAMETERS = {
    "JobIdIndexName": "DYNADAG_JOB_ID_INDEX",
    "AirflowVersion": "DYNADAG_AIRFLOW_VERSION",
    "PythonModulePrefixes": "DYNADAG_PYTHON_MODULE_PREFIXES",
    "AllowBash": "DYNADAG_ALLOW_BASH",
    "AllowSqlSecretsJinja": "DYNADAG_ALLOW_SQL_SECRETS_JINJA",
    "AllowedConnIds": "DYNADAG_ALLOWED_CONN_IDS",
    "AllowedSlackConnIds": "DYNADAG_ALLOWED_SLACK_CONN_IDS",
    "AllowedIamRoleArns": "DYNADAG_ALLOWED_IAM_ROLE_ARNS",
    "AllowedS3CodePrefixes": "DYNADAG_ALLOWED_S3_CODE_PREFIXES",
    "AllowedGlueJobs": "DYNADAG_ALLOWED_GLUE_JOBS",
    "AllowedRedshiftSecretArns": "DYNADAG_ALLOWED_REDSHIFT_SECRET_ARNS",
}


class DiscoveryError(LookupError):
    """The stack or the local record cannot be used; the message says why."""


def check_endpoint(url: str, source: str) -> None:
    """Raise `DiscoveryError` unless `url` is an http(s) URL with a host."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise DiscoveryError(f"{source} {url!r} is not an http(s) URL (e.g. http://127.0.0.1:5000)")
    try:
        parsed.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        raise DiscoveryError(f"{source} {url!r}: {exc}") from None


def stack_environment(cloudformation: Any, stack: str) -> dict[str, str]:
    """The `DYNADAG_*` variables of a deployed stack, from its outputs and parameters."""
    from botocore.exceptions import ClientError

    try:
        found = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ValidationError":
            raise DiscoveryError(f"CloudFormation stack {stack!r} does not exist") from None
        raise
    outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in found[0].get("Outputs", [])}
    parameters = {
        p["ParameterKey"]: p.get("ParameterValue", "") for p in found[0].get("Parameters", [])
    }
    if "DagsBucketName" not in outputs:
        raise DiscoveryError(
            f"CloudFormation stack {stack!r} has no DagsBucketName output: "
            "is it a dynadag stack (template.yaml)?"
        )
    environment = {STACK_OUTPUTS[k]: v for k, v in outputs.items() if k in STACK_OUTPUTS}
    environment.update(
        {STACK_PARAMETERS[k]: v for k, v in parameters.items() if k in STACK_PARAMETERS}
    )
    environment["DYNADAG_DAGS_PREFIX"] = (
        environment.get("DYNADAG_DAGS_PREFIX", "dags").strip("/") + "/"
    )
    return environment


@dataclass(frozen=True)
class LocalRecord:
    """What a running `dynadag local` serves, as it recorded it."""

    path: Path
    pid: int
    endpoint: str
    environment: dict[str, str]  # every variable a client needs (endpoint, credentials...)
    exports: dict[str, str]  # the shorter list printed for other shells

    @property
    def running(self) -> bool:
        """True when the process that wrote the record is still alive."""
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def export_line(self) -> str:
        return "export " + " ".join(f"{name}={value}" for name, value in self.exports.items())


def write_local_record(
    folder: Path, endpoint: str, environment: dict[str, str], exports: dict[str, str]
) -> Path:
    """Record what this `dynadag local` serves in `folder/local.json`; returns the path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / RECORD_NAME
    data = {
        "pid": os.getpid(),
        "endpoint": endpoint,
        "environment": environment,
        "exports": exports,
    }
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def remove_local_record(path: Path) -> None:
    """Remove the record if this process wrote it (another `dynadag local` may own it now)."""
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def find_local_record(start: Path | None = None) -> LocalRecord | None:
    """The record in `.dynadag/local.json` of `start` (default: the working directory) or of
    the nearest folder above it; None when there is none or it cannot be read."""
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        path = candidate / RECORD_FOLDER / RECORD_NAME
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                return LocalRecord(
                    path=path,
                    pid=int(data["pid"]),
                    endpoint=str(data["endpoint"]),
                    environment={str(k): str(v) for k, v in data["environment"].items()},
                    exports={str(k): str(v) for k, v in data["exports"].items()},
                )
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                return None
    return None


def local_env() -> None:
    """Print the export line of the `dynadag local` running for this folder.

    For tools other than dynadag (the AWS CLI, boto3): dynadag itself needs no
    variable in this folder.

    Example: eval "$(dynadag local env)"
    """
    from lambda_compiler.cli.common import fail

    record = find_local_record()
    if record is None:
        fail(
            f"no `dynadag local` recorded in {Path.cwd() / RECORD_FOLDER / RECORD_NAME}",
            hint="start one in this folder with `dynadag local`",
        )
    if not record.running:
        fail(
            f"the `dynadag local` recorded in {record.path} ({record.endpoint}) is not running",
            hint="start it again with `dynadag local`",
        )
    print(record.export_line())
