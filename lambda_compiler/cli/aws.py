"""AWS access for the operator commands: settings, clients, and errors as one red line.

Clients honour `AWS_ENDPOINT_URL` (e.g. `dynadag local`), `AWS_PROFILE`, `AWS_REGION`
(falling back to `AWS_DEFAULT_REGION`) and the `DYNADAG_*` variables of `Settings`.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ProfileNotFound,
)

from lambda_compiler.cli.common import fail
from lambda_compiler.settings import Settings, SettingsError

P = ParamSpec("P")
R = TypeVar("R")


def _client_config() -> Config:
    """Standard retries (3 attempts unless AWS_MAX_ATTEMPTS says otherwise) and a short
    connect timeout, so a wrong endpoint fails fast. New per client: botocore fills in
    the retries dict."""
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
    """Settings and a session from the environment; a missing setting is one red line.

    Commands that only touch the tables pass ``needs_bucket=False``: the bucket
    setting then need not be set.
    """
    environ = dict(os.environ)
    if not needs_bucket:
        environ.setdefault("DYNADAG_BUCKET", "(not used)")
    try:
        settings = Settings.from_env(environ)
    except SettingsError as exc:
        fail(
            str(exc),
            hint="for `dynadag local`, run: export DYNADAG_BUCKET=dynadag-local "
            "AWS_ENDPOINT_URL=http://127.0.0.1:5000",
        )
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None
    profile = os.environ.get("AWS_PROFILE") or None
    try:
        session = boto3.Session(profile_name=profile, region_name=region)
    except ProfileNotFound as exc:
        fail(str(exc), hint="check AWS_PROFILE")
    return Aws(settings, session)


def describe_error(exc: BaseException) -> tuple[str, str | None]:
    """A one-line message and an optional hint for an AWS error."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if isinstance(exc, ConnectionError):
        hint = "is `dynadag local` running?" if endpoint else "check your network and AWS_REGION"
        if isinstance(exc, EndpointConnectionError):
            return f"cannot reach {endpoint or exc.kwargs.get('endpoint_url')}", hint
        return f"cannot reach {endpoint or 'AWS'}: {exc}", hint
    if isinstance(exc, NoCredentialsError):
        hint = "any value works for `dynadag local`" if endpoint else "set AWS_PROFILE"
        return "no AWS credentials found", hint
    if isinstance(exc, NoRegionError):
        return "no AWS region configured", "set AWS_REGION"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        if error.get("Code") == "NoSuchBucket":
            bucket = error.get("BucketName") or os.environ.get("DYNADAG_BUCKET")
            return f"bucket {bucket!r} does not exist", "check DYNADAG_BUCKET and AWS_REGION"
        return f"{exc.operation_name}: {error.get('Code')}: {error.get('Message')}", None
    return str(exc), None


def aws_command(command: Callable[P, R]) -> Callable[P, R]:
    """Run `command`, turning any botocore error into one red line and exit code 1."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (BotoCoreError, ClientError) as exc:
            message, hint = describe_error(exc)
            fail(message, hint=hint)

    return wrapper
