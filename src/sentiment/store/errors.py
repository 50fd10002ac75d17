"""What a failed DynamoDB call means: worth retrying shortly, or not.

botocore has already retried transient failures (standard mode) by the time one reaches us, so
a transient error here means DynamoDB stayed sick for the client's whole retry budget. Callers
use :func:`classify` to answer a 503 with ``Retry-After`` (transient) or an error that says
retrying will not help (rejected), and to log and count each kind of outage once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

FailureKind = Literal["throttled", "timeout", "unavailable", "rejected"]

THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "TransactionInProgressException",
    }
)
# Cancellation reasons of a transaction that say "try again", not "this cannot be written".
_RETRYABLE_REASONS = frozenset(
    {"ThrottlingError", "ProvisionedThroughputExceeded", "TransactionConflict", "None"}
)


@dataclass(frozen=True)
class StorageFailure:
    """One failed call: its kind, DynamoDB's (or botocore's) error code and message."""

    kind: FailureKind
    code: str
    message: str

    @property
    def transient(self) -> bool:
        return self.kind != "rejected"


def classify(error: ClientError | BotoCoreError) -> StorageFailure:
    if isinstance(error, ClientError):
        return _classify_client_error(error)
    name = type(error).__name__
    if isinstance(error, ConnectTimeoutError | ReadTimeoutError):
        return StorageFailure("timeout", name, str(error))
    if isinstance(error, EndpointConnectionError | ConnectionClosedError):
        return StorageFailure("unavailable", name, str(error))
    if "Connection" in name:  # botocore's other connection errors (proxy, SSL, reset)
        return StorageFailure("unavailable", name, str(error))
    return StorageFailure("rejected", name, str(error))


def cancellation_reasons(error: ClientError) -> list[str]:
    """The per-action codes of a cancelled transaction ("None" for actions that were fine)."""
    return [str(reason.get("Code")) for reason in error.response.get("CancellationReasons", [])]


def _classify_client_error(error: ClientError) -> StorageFailure:
    details = error.response.get("Error", {})
    code = str(details.get("Code", "Unknown"))
    message = str(details.get("Message", ""))
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
    if code in THROTTLING_CODES:
        return StorageFailure("throttled", code, message)
    if code == "TransactionCanceledException":
        reasons = set(cancellation_reasons(error))
        if reasons and reasons <= _RETRYABLE_REASONS:
            return StorageFailure("throttled", code, message)
        return StorageFailure("rejected", code, message)
    if status >= 500 or code in {"InternalServerError", "ServiceUnavailable"}:
        return StorageFailure("unavailable", code, message)
    return StorageFailure("rejected", code, message)
