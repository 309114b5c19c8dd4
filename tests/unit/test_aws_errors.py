"""Which failures a retry may fix: those fail the records (Lambda retries them); others do not."""

from __future__ import annotations

import io
import json
import logging

import pytest
from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from lambda_compiler.aws_errors import is_transient, log_error
from lambda_compiler.sync import NotConvergedError


def client_error(code: str, status: int) -> ClientError:
    response = {
        "Error": {"Code": code, "Message": "m"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "PutObject")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (client_error("ProvisionedThroughputExceededException", 400), True),
        (client_error("SlowDown", 503), True),
        (client_error("Whatever", 500), True),
        (client_error("AccessDenied", 403), False),
        (client_error("ValidationException", 400), False),
        (EndpointConnectionError(endpoint_url="https://s3.example"), True),
        (NoCredentialsError(), False),
        (NotConvergedError("inputs kept changing"), True),
        (KeyError("x"), False),
    ],
)
def test_throttling_5xx_lost_connections_and_unsettled_inputs_are_retried(exc, transient):
    assert is_transient(exc) is transient


def _publish_failed(log: object) -> None:
    log_error(log, "publish failed", client_error("SlowDown", 503), dag_id="job-a")


def test_a_logged_error_points_at_its_caller_with_powertools_logger() -> None:
    stream = io.StringIO()
    log = Logger(service="dynadag-test", stream=stream)

    _publish_failed(log)

    line = json.loads(stream.getvalue())
    assert line["location"].startswith("_publish_failed:")
    assert line["dag_id"] == "job-a"
    assert line["transient"] is True


def test_a_logged_error_points_at_its_caller_with_a_stdlib_logger(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="dynadag-test-stdlib"):
        _publish_failed(logging.getLogger("dynadag-test-stdlib"))

    (record,) = caplog.records
    assert record.funcName == "_publish_failed"
