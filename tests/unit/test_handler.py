"""The Lambda entry point ``dashboard.handler.handler`` answering Function URL (v2.0) events."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dashboard import handler as lambda_module
from sentiment.settings import Settings
from tests.unit.conftest import API_KEY, AUTH_SECRET

EVENTS = Path(__file__).parent / "events"


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


@dataclass
class FakeContext:
    """The attributes of the Lambda context object that Powertools and Mangum read."""

    function_name: str = "test-sentiment-dashboard"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:test-sentiment-dashboard"
    )
    aws_request_id: str = "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b"
    log_group_name: str = "/aws/lambda/test-sentiment-dashboard"
    log_stream_name: str = "2026/11/21/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture
def lambda_env(
    dynamodb: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """The environment Terraform gives the function, inside mock_aws, with a fresh handler."""
    for name, value in {
        "ENVIRONMENT": "test",
        "AUTH_SECRET": AUTH_SECRET,
        "INGEST_API_KEY": API_KEY,
        "ITEMS_TABLE": settings.ITEMS_TABLE,
        "COUNTERS_TABLE": settings.COUNTERS_TABLE,
        "CONFIGURATIONS_TABLE": settings.CONFIGURATIONS_TABLE,
        "SSE_URL": "https://sse.example.lambda-url.us-east-1.on.aws/",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CORS_ALLOWED_ORIGINS", raising=False)
    lambda_module.build_handler.cache_clear()
    yield
    lambda_module.build_handler.cache_clear()


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    return lambda_module.handler(event, FakeContext())


def json_body(response: dict[str, Any]) -> Any:
    assert response["isBase64Encoded"] is False
    return json.loads(response["body"])


@pytest.mark.usefixtures("lambda_env")
@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_get_health() -> None:
    response = invoke(load_event("function_url_get_health.json"))

    assert response["statusCode"] == 200
    assert response["headers"]["content-type"] == "application/json"
    assert json_body(response) == {"status": "ok", "dynamodb": "ok"}


@pytest.mark.usefixtures("lambda_env")
@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_get_health_503_without_the_items_table(dynamodb: Any, settings: Settings) -> None:
    dynamodb.meta.client.delete_table(TableName=settings.ITEMS_TABLE)
    response = invoke(load_event("function_url_get_health.json"))

    assert response["statusCode"] == 503
    assert json_body(response) == {"status": "unavailable", "dynamodb": "unreachable"}


@pytest.mark.usefixtures("lambda_env")
def test_base64_post_then_query_string_get() -> None:
    """A base64-encoded ingest body is decoded; the raw query string reaches the route."""
    created = invoke(load_event("function_url_post_items.json"))
    assert created["statusCode"] == 201
    assert json_body(created) == {"created": ["lambda-event-1"], "duplicates": []}

    again = invoke(load_event("function_url_post_items.json"))
    assert again["statusCode"] == 200
    assert json_body(again) == {"created": [], "duplicates": ["lambda-event-1"]}

    metrics = invoke(load_event("function_url_get_metrics.json"))
    assert metrics["statusCode"] == 200
    assert metrics["headers"]["content-type"] == "application/json"
    body = json_body(metrics)
    assert (body["window_hours"], body["tickers"]) == (1, ["AAPL", "MSFT"])
    assert body["by_ticker"] == {"AAPL": 0, "MSFT": 0}


@pytest.mark.usefixtures("lambda_env")
@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_handler_is_built_once_per_environment() -> None:
    """Warm invocations reuse the app (and its clients) built on the first one."""
    invoke(load_event("function_url_get_health.json"))
    first = lambda_module.build_handler()
    invoke(load_event("function_url_get_health.json"))
    assert lambda_module.build_handler() is first


def emf_documents(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith('{"_aws"')]


@pytest.mark.usefixtures("lambda_env")
def test_an_ingest_writes_its_metrics_with_the_service_and_environment_dimensions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """What the alarm on ingest (infrastructure/terraform/alarms.tf) watches: ItemsCreated with
    exactly the dimensions service and environment, written when the invocation ends."""
    capsys.readouterr()
    assert invoke(load_event("function_url_post_items.json"))["statusCode"] == 201

    [document] = emf_documents(capsys.readouterr().out)
    [directive] = document["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "SentimentDashboard"
    assert sorted(directive["Dimensions"][0]) == ["environment", "service"]
    assert (document["service"], document["environment"]) == ("dashboard", "test")
    assert {m["Name"]: m["Unit"] for m in directive["Metrics"]} == {
        "ItemsCreated": "Count",
        "ItemsDuplicate": "Count",
    }
    assert (document["ItemsCreated"], document["ItemsDuplicate"]) == ([1.0], [0.0])


@pytest.mark.usefixtures("lambda_env")
def test_a_rejected_invocation_logs_its_request_id_cold_start_and_correlation_id() -> None:
    """Powertools' Lambda context keys and the page's correlation id, on the same line."""
    lambda_module.build_handler()
    logger = logging.getLogger("dashboard")
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setFormatter(next(h.formatter for h in logger.handlers if h.formatter))
    logger.addHandler(handler)
    event = load_event("function_url_post_items.json")
    event["headers"] |= {"x-api-key": "wrong-key", "x-correlation-id": "page-7"}
    try:
        response = invoke(event)
    finally:
        logger.removeHandler(handler)

    assert response["statusCode"] == 401
    assert response["headers"]["x-correlation-id"] == "page-7"
    [line] = [json.loads(line) for line in captured.getvalue().splitlines()]
    assert line["message"] == "request rejected"
    assert line["correlation_id"] == "page-7"
    assert line["function_request_id"] == FakeContext.aws_request_id
    assert isinstance(line["cold_start"], bool)
    assert (line["status"], line["path"], line["client_ip"]) == (401, "/api/v2/items", "192.0.2.44")
