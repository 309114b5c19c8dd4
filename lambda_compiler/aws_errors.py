"""Which failures may a retry fix? The classification of AWS (and retryable) errors."""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError, IncompleteReadError
from botocore.exceptions import ConnectionError as AwsConnectionError

# Typed so that a caught error is an `Exception` (botocore ships no types: its classes are `Any`).
AWS_ERRORS: tuple[type[Exception], ...] = (ClientError, BotoCoreError)
TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "SlowDown",
        "RequestTimeout",
        "InternalError",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionConflictException",
    }
)


class RetryableError(RuntimeError):
    """A failure of dynadag's own that a later retry of the same records may not meet
    (e.g. inputs that kept changing)."""


def is_transient(exc: BaseException) -> bool:
    """Throttling, 5xx, timeouts, lost connections and `RetryableError`s: a retry of the
    same records may succeed (anything else would fail the same way again)."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return error.get("Code") in TRANSIENT_CODES or status >= 500
    return isinstance(
        exc, (AwsConnectionError, HTTPClientError, IncompleteReadError, RetryableError)
    )


def log_error(log: logging.Logger | Any, message: str, exc: BaseException, **context: Any) -> None:
    """Log `exc` as an error with `context`, saying whether a retry may fix it; the record's
    location is the caller's."""
    # stacklevel counts from the logging call: stdlib's own method is level 1, Powertools'
    # Logger wraps it once more (its default is 2).
    caller = 2 if isinstance(log, logging.Logger) else 3
    log.error(
        message,
        extra={**context, "error": f"{type(exc).__name__}: {exc}", "transient": is_transient(exc)},
        stacklevel=caller,
    )
