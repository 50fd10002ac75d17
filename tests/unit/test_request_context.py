"""The log fields both apps write per request (sentiment.request_context), through each app."""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aws_lambda_powertools import Logger, Metrics
from fastapi import FastAPI
from fastapi.testclient import TestClient

from sentiment.observability import Observability
from sentiment.request_context import accepted_correlation_id, client_ip, lambda_request_id
from sentiment.services import Services
from sse.lifetime import DEADLINE_MARGIN_SECONDS

PAGE_ID = "3f2a9c1e5b7d4e60a1b2c3d4e5f60718"


@dataclass
class LoggedApp:
    client: TestClient
    stream: io.StringIO

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines() if line]

    def messages(self, message: str) -> list[dict[str, Any]]:
        return [r for r in self.records() if r.get("message") == message]


def observability(service: str) -> tuple[Observability, io.StringIO]:
    stream = io.StringIO()
    # A unique service name: Powertools configures each named logger only once.
    logger = Logger(service=f"{service}-{uuid.uuid4().hex[:8]}", stream=stream)
    return Observability(logger, Metrics(namespace="Test")), stream


@pytest.fixture
def dashboard_app(services: Services) -> Iterator[LoggedApp]:
    from dashboard.app import create_app

    logged, stream = observability("dashboard")
    with TestClient(create_app(services=services, observability=logged)) as client:
        yield LoggedApp(client, stream)


@pytest.fixture
def sse_app(services: Services) -> Iterator[LoggedApp]:
    from sse.app import create_app

    logged, stream = observability("sse")
    app: FastAPI = create_app(services=services, observability=logged)
    with TestClient(app) as client:
        yield LoggedApp(client, stream)


def invocation(request_id: str | None) -> dict[str, str]:
    """LWA's context header for an invocation whose stream closes after its first heartbeat."""
    deadline = time.time() + DEADLINE_MARGIN_SECONDS - 60
    context: dict[str, Any] = {"deadline": int(deadline * 1000)}
    if request_id is not None:
        context["request_id"] = request_id
    return {"x-amzn-lambda-context": json.dumps(context)}


def test_a_rejected_request_is_logged_with_the_pages_correlation_id(
    dashboard_app: LoggedApp,
) -> None:
    response = dashboard_app.client.post(
        "/api/v2/items", json={}, headers={"X-Correlation-Id": PAGE_ID}
    )

    assert response.status_code == 401
    assert response.headers["X-Correlation-Id"] == PAGE_ID
    [rejected] = dashboard_app.messages("request rejected")
    assert rejected["correlation_id"] == PAGE_ID
    assert rejected["status"] == 401
    assert rejected["method"] == "POST"
    assert rejected["path"] == "/api/v2/items"
    assert rejected["client_ip"] == "testclient"
    assert rejected["level"] == "INFO"


def test_an_unsafe_correlation_id_is_replaced_and_never_logged(dashboard_app: LoggedApp) -> None:
    for unsafe in ("a" * 65, "spaces are not allowed", "<script>", "semi;colon"):
        response = dashboard_app.client.get(
            "/api/v2/items?limit=0", headers={"X-Correlation-Id": unsafe}
        )
        assert response.status_code == 422
        echoed = response.headers["X-Correlation-Id"]
        assert echoed != unsafe
        assert len(echoed) == 32
        assert int(echoed, 16) >= 0  # a fresh hex id
        assert unsafe not in dashboard_app.stream.getvalue()
    ids = [r["correlation_id"] for r in dashboard_app.messages("request rejected")]
    assert len(ids) == len(set(ids)) == 4


def test_a_good_request_logs_nothing_but_still_gets_an_id(dashboard_app: LoggedApp) -> None:
    response = dashboard_app.client.get("/health")

    assert response.status_code == 200
    assert len(response.headers["X-Correlation-Id"]) == 32
    assert dashboard_app.messages("request rejected") == []


def test_stream_lines_carry_the_correlation_id_request_id_and_cold_start(
    sse_app: LoggedApp,
) -> None:
    """EventSource cannot send headers: the page puts its id on the stream URL. On Lambda the
    first invocation an environment serves is its cold start."""
    for request_id in ("req-1", "req-2"):
        response = sse_app.client.get(
            f"/api/v2/stream?correlation_id={PAGE_ID}", headers=invocation(request_id)
        )
        assert response.status_code == 200
        assert response.headers["X-Correlation-Id"] == PAGE_ID

    opened = sse_app.messages("stream opened")
    closed = sse_app.messages("stream closed")
    assert [r["function_request_id"] for r in opened] == ["req-1", "req-2"]
    assert [r["cold_start"] for r in opened] == [True, False]
    assert [r["function_request_id"] for r in closed] == ["req-1", "req-2"]
    for record in opened + closed:
        assert record["correlation_id"] == PAGE_ID
        assert len(record["connection_id"]) == 12
        assert "config_id" not in record  # Powertools leaves out null fields
    assert {r["reason"] for r in closed} == {"lifetime"}
    assert {r["client_ip"] for r in opened + closed} == {"testclient"}
    assert all(r["duration_seconds"] >= 0 for r in closed)
    assert all(r["items_delivered"] == 0 for r in closed)


def test_keys_stay_with_their_request(sse_app: LoggedApp) -> None:
    """The header beats the query parameter; a request without either gets its own id, and
    nothing of one request's keys shows on the next one's lines."""
    sse_app.client.get(
        "/api/v2/stream?correlation_id=from-the-url",
        headers={**invocation("req-1"), "X-Correlation-Id": "from-the-header"},
    )
    sse_app.client.get("/api/v2/stream", headers=invocation(None))

    first, second = sse_app.messages("stream opened")
    assert first["correlation_id"] == "from-the-header"
    assert second["correlation_id"] not in ("from-the-header", "from-the-url")
    assert "function_request_id" not in second
    assert "cold_start" not in second


CONFIG_ID = "0" * 32  # well formed: the ticket is checked, and refused


def test_a_rejected_stream_logs_its_path_never_its_query_string(sse_app: LoggedApp) -> None:
    response = sse_app.client.get(
        f"/api/v2/configurations/{CONFIG_ID}/stream?ticket=secret-ticket-value",
        headers={"X-Correlation-Id": PAGE_ID},
    )

    assert response.status_code == 401
    [rejected] = sse_app.messages("request rejected")
    assert rejected["path"] == f"/api/v2/configurations/{CONFIG_ID}/stream"
    assert rejected["status"] == 401
    assert rejected["correlation_id"] == PAGE_ID
    assert "secret-ticket-value" not in sse_app.stream.getvalue()


@pytest.mark.parametrize(
    ("value", "accepted"),
    [("abc-DEF_1.2", "abc-DEF_1.2"), ("x" * 64, "x" * 64), ("x" * 65, None), ("", None),
     ("a b", None), ("é", None), ("a\nb", None), (None, None)],
)  # fmt: skip
def test_accepted_correlation_ids(value: str | None, accepted: str | None) -> None:
    assert accepted_correlation_id(value) == accepted


@pytest.mark.parametrize(
    ("header", "request_id"),
    [('{"request_id": "8f2c-11", "deadline": 1}', "8f2c-11"), ("{}", None), ("[]", None),
     ("not json", None), ('{"request_id": 7}', None), (None, None)],
)  # fmt: skip
def test_lambda_request_id(header: str | None, request_id: str | None) -> None:
    assert lambda_request_id(header) == request_id


def test_client_ip_prefers_the_function_urls_request_context() -> None:
    from starlette.datastructures import Headers

    scope: dict[str, Any] = {"client": ("127.0.0.1", 5000)}
    context = json.dumps({"requestId": "r", "http": {"sourceIp": "203.0.113.9"}})
    assert client_ip(scope, Headers({"x-amzn-request-context": context})) == "203.0.113.9"
    assert client_ip(scope, Headers({"x-amzn-request-context": "junk"})) == "127.0.0.1"
    assert client_ip({}, Headers({})) is None
