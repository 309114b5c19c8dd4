"""Which failures a retry may fix: those fail the records (Lambda retries them); others do not."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from lambda_compiler.aws_errors import is_transient
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
