"""Which storage failures are worth retrying shortly, and which never will be."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)

from sentiment.store.errors import cancellation_reasons, classify


def client_error(code: str, status: int = 400, reasons: list[str] | None = None) -> ClientError:
    response: dict[str, Any] = {
        "Error": {"Code": code, "Message": f"{code} happened"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    if reasons is not None:
        response["CancellationReasons"] = [{"Code": reason} for reason in reasons]
    return ClientError(response, "TransactWriteItems")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (client_error("ThrottlingException"), "throttled"),
        (client_error("ProvisionedThroughputExceededException"), "throttled"),
        (client_error("RequestLimitExceeded"), "throttled"),
        (
            client_error("TransactionCanceledException", reasons=["None", "TransactionConflict"]),
            "throttled",
        ),
        (
            client_error("TransactionCanceledException", reasons=["ThrottlingError", "None"]),
            "throttled",
        ),
        (client_error("InternalServerError", 500), "unavailable"),
        (client_error("ServiceUnavailable", 503), "unavailable"),
        (client_error("SomethingNew", 502), "unavailable"),
        (ReadTimeoutError(endpoint_url="http://db"), "timeout"),
        (ConnectTimeoutError(endpoint_url="http://db"), "timeout"),
        (EndpointConnectionError(endpoint_url="http://db"), "unavailable"),
        (ConnectionClosedError(endpoint_url="http://db"), "unavailable"),
        (client_error("ValidationException"), "rejected"),
        (client_error("ResourceNotFoundException"), "rejected"),
        (client_error("AccessDeniedException"), "rejected"),
        (
            client_error("TransactionCanceledException", reasons=["None", "ValidationError"]),
            "rejected",
        ),
        (NoCredentialsError(), "rejected"),
        (ParamValidationError(report="bad"), "rejected"),
    ],
)
def test_classify(error: Exception, kind: str) -> None:
    failure = classify(error)  # type: ignore[arg-type]
    assert failure.kind == kind
    assert failure.transient is (kind != "rejected")
    assert failure.code == (
        error.response["Error"]["Code"] if isinstance(error, ClientError) else type(error).__name__
    )


def test_the_message_is_dynamodbs() -> None:
    failure = classify(client_error("ValidationException"))
    assert failure.message == "ValidationException happened"


def test_cancellation_reasons() -> None:
    error = client_error("TransactionCanceledException", reasons=["ConditionalCheckFailed", "None"])
    assert cancellation_reasons(error) == ["ConditionalCheckFailed", "None"]
    assert cancellation_reasons(client_error("ThrottlingException")) == []
