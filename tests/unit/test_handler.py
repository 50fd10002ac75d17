"""The Lambda entry point ``dashboard.handler.handler`` answering Function URL (v2.0) events."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from dashboard import handler as lambda_module
from sentiment.settings import Settings
from tests.unit.conftest import API_KEY, AUTH_SECRET
from tests.utils.lambda_events import LambdaContext, function_url_event

INGEST_BODY = {
    "item_id": "lambda-event-1",
    "source": "newswire",
    "title": "Chipmaker beats estimates",
    "url": "https://news.example.com/articles/lambda-event-1",
    "tickers": ["NVDA", "AMD"],
    "sentiment": "positive",
    "score": 0.72,
    "confidence": 0.88,
    "published_at": "2026-11-21T12:29:00Z",
}


def health() -> dict[str, Any]:
    return function_url_event("GET", "/health", headers={"accept-encoding": "gzip, deflate, br"})


def ingest() -> dict[str, Any]:
    """As a producer posts it; Function URLs hand the body over base64-encoded."""
    headers = {"x-api-key": API_KEY}
    return function_url_event(
        "POST", "/api/v2/items", headers=headers, body=INGEST_BODY, base64_body=True
    )


def metrics_request() -> dict[str, Any]:
    return function_url_event("GET", "/api/v2/metrics", query="hours=1&tickers=AAPL,MSFT")


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


def invoke(event: dict[str, Any], context: LambdaContext | None = None) -> dict[str, Any]:
    return lambda_module.handler(event, context or LambdaContext())


def json_body(response: dict[str, Any]) -> Any:
    assert response["isBase64Encoded"] is False
    return json.loads(response["body"])


@pytest.mark.usefixtures("lambda_env")
@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_get_health() -> None:
    response = invoke(health())

    assert response["statusCode"] == 200
    assert response["headers"]["content-type"] == "application/json"
    assert json_body(response) == {"status": "ok", "dynamodb": "ok"}


@pytest.mark.usefixtures("lambda_env")
@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_get_health_503_without_the_items_table(dynamodb: Any, settings: Settings) -> None:
    dynamodb.meta.client.delete_table(TableName=settings.ITEMS_TABLE)
    response = invoke(health())

    assert response["statusCode"] == 503
    assert json_body(response) == {"status": "unavailable", "dynamodb": "unreachable"}


@pytest.mark.usefixtures("lambda_env")
def test_base64_post_then_query_string_get() -> None:
    """A base64-encoded ingest body is decoded; the raw query string reaches the route."""
    created = invoke(ingest())
    assert created["statusCode"] == 201
    assert json_body(created) == {"created": ["lambda-event-1"], "duplicates": []}

    again = invoke(ingest())
    assert again["statusCode"] == 200
    assert json_body(again) == {"created": [], "duplicates": ["lambda-event-1"]}

    metrics = invoke(metrics_request())
    assert metrics["statusCode"] == 200
    assert metrics["headers"]["content-type"] == "application/json"
    body = json_body(metrics)
    assert (body["window_hours"], body["tickers"]) == (1, ["AAPL", "MSFT"])
    assert body["by_ticker"] == {"AAPL": 0, "MSFT": 0}


@pytest.mark.usefixtures("lambda_env")
@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_handler_is_built_once_per_environment() -> None:
    """Warm invocations reuse the app (and its clients) built on the first one."""
    invoke(health())
    first = lambda_module.build_handler()
    invoke(health())
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
    assert invoke(ingest())["statusCode"] == 201

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
    event = ingest()
    event["headers"] |= {"x-api-key": "wrong-key", "x-correlation-id": "page-7"}
    context = LambdaContext()
    try:
        response = invoke(event, context)
    finally:
        logger.removeHandler(handler)

    assert response["statusCode"] == 401
    assert response["headers"]["x-correlation-id"] == "page-7"
    [line] = [json.loads(line) for line in captured.getvalue().splitlines()]
    assert line["message"] == "request rejected"
    assert line["correlation_id"] == "page-7"
    assert line["function_request_id"] == context.aws_request_id
    assert isinstance(line["cold_start"], bool)
    assert (line["status"], line["path"], line["client_ip"]) == (
        401,
        "/api/v2/items",
        "203.0.113.10",
    )
