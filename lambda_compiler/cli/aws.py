"""AWS access for the operator commands: settings, clients, and errors as one red line.

Where the deployment is comes from, in order: `--stack NAME` / `DYNADAG_STACK` (the
CloudFormation stack's outputs), the `DYNADAG_*` variables of `Settings`, and the
`.dynadag/local.json` a running `dynadag local` wrote in this folder or above it.
Clients honour `--endpoint-url` / `AWS_ENDPOINT_URL`, `--profile` / `AWS_PROFILE` and
`--region` / `AWS_REGION` (falling back to `AWS_DEFAULT_REGION`), as the AWS CLI does.
boto3 is imported when a command connects, so `--help` starts fast.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar
from urllib.parse import urlparse

from lambda_compiler.cli.common import OPTIONS, fail
from lambda_compiler.cli.discovery import (
    DiscoveryError,
    LocalRecord,
    check_endpoint,
    find_local_record,
    stack_environment,
)
from lambda_compiler.settings import Settings, SettingsError

if TYPE_CHECKING:
    import boto3
    from botocore.config import Config

P = ParamSpec("P")
R = TypeVar("R")
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
_LOCAL_REGION = "us-east-1"
"""`dynadag local`'s default region (`LocalConfig.region`), where its tables are."""


def _client_config() -> Config:
    """Standard retries (3 attempts unless AWS_MAX_ATTEMPTS says otherwise) and a short
    connect timeout, so a wrong endpoint fails fast. New per client: botocore fills in
    the retries dict."""
    from botocore.config import Config

    return Config(connect_timeout=3, read_timeout=30, retries={"mode": "standard"})


@dataclass(frozen=True)
class Aws:
    """The settings and clients one command uses."""

    settings: Settings
    session: boto3.Session

    def client(self, service: str) -> Any:
        return self.session.client(service, config=_client_config())

    @functools.cached_property
    def s3(self) -> Any:
        return self.client("s3")

    @functools.cached_property
    def dynamodb(self) -> Any:
        return self.client("dynamodb")


def connect(*, needs_bucket: bool = True) -> Aws:
    """Settings and a session for the deployment this shell points at; a missing or
    wrong setting is one red line naming it.

    Commands that only touch the tables pass ``needs_bucket=False``: the bucket
    setting then need not be set. The resolved endpoint, region, profile and
    `DYNADAG_*` values are put in this process's environment, so every client made
    later (rebuild, sync) talks to the same deployment.
    """
    _apply_flags()
    stack = OPTIONS.stack or os.environ.get("DYNADAG_STACK") or None
    stale: LocalRecord | None = None
    buckets: list[str] | None = None
    if stack:
        try:
            os.environ.update(stack_environment(_session().client("cloudformation"), stack))
        except DiscoveryError as exc:
            fail(str(exc), hint="check --stack / DYNADAG_STACK, --region and --profile")
    elif not os.environ.get("DYNADAG_BUCKET"):
        stale = _use_local_record()
        if not os.environ.get("DYNADAG_BUCKET") and needs_bucket:
            buckets = _single_local_bucket()
    environ = dict(os.environ)
    if not needs_bucket:
        environ.setdefault("DYNADAG_BUCKET", "(not used)")
    try:
        settings = Settings.from_env(environ)
    except SettingsError as exc:
        fail(str(exc), hint=_settings_hint(stale, buckets) if "BUCKET" in str(exc) else None)
    return Aws(settings, _session())


def _apply_flags() -> None:
    """`--profile`, `--region` and `--endpoint-url` win over the environment, as in the AWS CLI."""
    if OPTIONS.profile:
        os.environ["AWS_PROFILE"] = OPTIONS.profile
    if OPTIONS.region:
        os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = OPTIONS.region
    if OPTIONS.endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = OPTIONS.endpoint_url
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        flag = bool(OPTIONS.endpoint_url)
        try:
            check_endpoint(endpoint, "--endpoint-url" if flag else "AWS_ENDPOINT_URL")
        except DiscoveryError as exc:
            fail(str(exc), code=2 if flag else 1)


def _session() -> boto3.Session:
    import boto3
    from botocore.exceptions import ProfileNotFound

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None
    try:
        return boto3.Session(region_name=region)
    except ProfileNotFound as exc:
        fail(str(exc), hint="check --profile / AWS_PROFILE (see `aws configure list-profiles`)")


def _same_endpoint(a: str, b: str) -> bool:
    pa, pb = urlparse(a), urlparse(b)
    host = {"localhost": "127.0.0.1"}
    return (host.get(pa.hostname or "", pa.hostname), pa.port) == (
        host.get(pb.hostname or "", pb.hostname),
        pb.port,
    )


def _use_local_record() -> LocalRecord | None:
    """Point this process at the `dynadag local` recorded here; returns a stale record."""
    record = find_local_record()
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if record is None or (endpoint and not _same_endpoint(endpoint, record.endpoint)):
        return None
    if not record.running:
        return record
    os.environ.pop("AWS_PROFILE", None)  # the local stack takes any credentials, not a profile's
    os.environ.update(record.environment)
    return None


def _single_local_bucket() -> list[str] | None:
    """With `AWS_ENDPOINT_URL` on this machine and no bucket named: the endpoint's buckets,
    using the only one as `DYNADAG_BUCKET` (a `dynadag local` started elsewhere has one);
    the local stack's credentials and region stand in for missing ones."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint or urlparse(endpoint).hostname not in _LOOPBACK:
        return None
    if not os.environ.get("AWS_ACCESS_KEY_ID") and not os.environ.get("AWS_PROFILE"):
        os.environ.update(_LOCAL_CREDENTIALS)
    if not any(os.environ.get(v) for v in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE")):
        os.environ["AWS_DEFAULT_REGION"] = _LOCAL_REGION  # DynamoDB needs one; S3 does not
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client = _session().client("s3", config=_client_config())
        buckets = [b["Name"] for b in client.list_buckets().get("Buckets", [])]
    except (BotoCoreError, ClientError):
        return None
    if len(buckets) == 1:
        os.environ["DYNADAG_BUCKET"] = buckets[0]
    return buckets


def _settings_hint(stale: LocalRecord | None, buckets: list[str] | None) -> str:
    if stale is not None:
        return (
            f"the `dynadag local` recorded in {stale.path} ({stale.endpoint}) is not running: "
            "start it again with `dynadag local`"
        )
    if buckets:
        return (
            f"buckets at {os.environ['AWS_ENDPOINT_URL']}: {', '.join(buckets)}; "
            f"export DYNADAG_BUCKET={buckets[0]}"
        )
    return (
        "run `dynadag local` in this folder (shells here then need no variable), "
        "pass --stack NAME of the deployed CloudFormation stack (or set DYNADAG_STACK), "
        "or export DYNADAG_BUCKET=<the MWAA dags bucket>"
    )


def describe_error(exc: BaseException) -> tuple[str, str | None]:
    """A one-line message and an optional hint for an AWS error."""
    from botocore.exceptions import (
        ClientError,
        ConnectionError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
    )

    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if isinstance(exc, ConnectionError):
        hint = "is `dynadag local` running?" if endpoint else "check your network and AWS_REGION"
        if isinstance(exc, EndpointConnectionError):
            return f"cannot reach {endpoint or exc.kwargs.get('endpoint_url')}", hint
        return f"cannot reach {endpoint or 'AWS'}: {exc}", hint
    if isinstance(exc, NoCredentialsError):
        hint = (
            "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (any value works for `dynadag local`)"
            if endpoint
            else "pass --profile, or set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
        return "no AWS credentials found", hint
    if isinstance(exc, NoRegionError):
        return "no AWS region configured", "pass --region or set AWS_REGION"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        if error.get("Code") == "NoSuchBucket":
            bucket = error.get("BucketName") or os.environ.get("DYNADAG_BUCKET")
            hint = "check DYNADAG_BUCKET (or --stack) and --region"
            return f"bucket {bucket!r} does not exist", hint
        return f"{exc.operation_name}: {error.get('Code')}: {error.get('Message')}", None
    return str(exc), None


def aws_command(command: Callable[P, R]) -> Callable[P, R]:
    """Run `command`, turning any botocore error into one red line and exit code 1."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except Exception as exc:
            if not is_aws_error(exc) or OPTIONS.debug:
                raise
            message, hint = describe_error(exc)
            fail(message, hint=hint)

    return wrapper


def is_aws_error(exc: BaseException) -> bool:
    """True for botocore's errors (checked without importing botocore)."""
    return type(exc).__module__.startswith("botocore.") and isinstance(exc, Exception)
