"""Service routes: /health, runtime config, metrics, anonymous sessions, the page, error mapping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from botocore.exceptions import ClientError
from fastapi.testclient import TestClient

from dashboard.app import create_app
from sentiment.services import Services, build_services
from sentiment.settings import Settings
from tests.unit.conftest import API_KEY, AUTH_SECRET
from tests.utils.factories import item_payload

KEY = {"X-API-Key": API_KEY}


def app_with(dynamodb: Any, **settings: Any) -> TestClient:
    """A dashboard app over the same tables, with other settings."""
    return TestClient(create_app(services=build_services(Settings(**settings), dynamodb)))


# --- /health and runtime config ----------------------------------------------------------


def test_health_ok(dashboard: TestClient) -> None:
    response = dashboard.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "dynamodb": "ok"}


def test_health_503_when_the_items_table_is_gone(
    dashboard: TestClient, dynamodb: Any, settings: Settings
) -> None:
    dynamodb.meta.client.delete_table(TableName=settings.ITEMS_TABLE)
    response = dashboard.get("/health")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "dynamodb": "unreachable"}


# The rules the page checks watch lists with, served by the API that enforces them.
WATCH_LIST_RULES = {
    "ticker_pattern": "^[A-Z][A-Z0-9.-]{0,9}$",
    "max_tickers": 5,
    "max_watch_lists": 5,
}


def test_runtime_config_strips_the_trailing_slash(dynamodb: Any) -> None:
    for sse_url, expected in [
        (
            "https://abc123.lambda-url.us-east-1.on.aws/",
            "https://abc123.lambda-url.us-east-1.on.aws",
        ),
        ("http://127.0.0.1:8001", "http://127.0.0.1:8001"),
        ("", ""),
    ]:
        client = app_with(dynamodb, ENVIRONMENT="dev", SSE_URL=sse_url)
        assert client.get("/api/v2/runtime-config").json() == {
            "sse_url": expected,
            "environment": "dev",
            "watch_lists": WATCH_LIST_RULES,
        }


def test_runtime_config_of_the_test_app(dashboard: TestClient) -> None:
    """The fixture's SSE_URL ends in '/'; the page gets it without."""
    assert dashboard.get("/api/v2/runtime-config").json() == {
        "sse_url": "http://127.0.0.1:8001",
        "environment": "test",
        "watch_lists": WATCH_LIST_RULES,
    }


# --- /api/v2/metrics ---------------------------------------------------------------------


@pytest.fixture
def mentions(dashboard: TestClient) -> None:
    """Three items: AAPL+MSFT (positive 0.6), AAPL (negative -0.2), TSLA (neutral 0.1)."""
    for tickers, sentiment, score in [
        (["AAPL", "MSFT"], "positive", 0.6),
        (["AAPL"], "negative", -0.2),
        (["TSLA"], "neutral", 0.1),
    ]:
        body = item_payload(tickers=tickers, sentiment=sentiment, score=score)
        assert dashboard.post("/api/v2/items", json=body, headers=KEY).status_code == 201


def without_time(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metrics.items() if k != "generated_at"}


@pytest.mark.usefixtures("mentions")
def test_metrics_for_everything(dashboard: TestClient) -> None:
    body = dashboard.get("/api/v2/metrics").json()

    assert body["window_hours"] == 24
    assert body["tickers"] is None
    assert (body["total"], body["positive"], body["neutral"], body["negative"]) == (3, 1, 1, 1)
    assert body["average_score"] == round((0.6 - 0.2 + 0.1) / 3, 4)
    assert body["by_ticker"] == {"AAPL": 2, "MSFT": 1, "TSLA": 1}
    assert body["last_hour"] == 3
    assert len(body["hourly"]) == 24
    assert sum(h["total"] for h in body["hourly"]) == 3
    assert body["hourly"] == sorted(body["hourly"], key=lambda h: h["hour"])
    generated = datetime.fromisoformat(body["generated_at"])
    assert datetime.fromisoformat(body["hourly"][-1]["hour"]) <= generated


FILTER_FORMS = [
    "tickers=AAPL,MSFT",
    "tickers=AAPL&tickers=MSFT",
    "tickers=AAPL,%20MSFT",
    "tickers=AAPL,MSFT,",
]


@pytest.mark.usefixtures("mentions")
def test_metrics_ticker_filter_counts_mentions(dashboard: TestClient) -> None:
    """Comma and repeated forms agree: the AAPL+MSFT item counts twice; TSLA is left out."""
    for query in FILTER_FORMS:
        body = dashboard.get(f"/api/v2/metrics?{query}").json()

        assert body["tickers"] == ["AAPL", "MSFT"], query
        counts = (body["total"], body["positive"], body["neutral"], body["negative"])
        assert counts == (3, 2, 0, 1), query
        assert body["by_ticker"] == {"AAPL": 2, "MSFT": 1}, query
        assert body["average_score"] == round((0.6 + 0.6 - 0.2) / 3, 4), query
        assert body["last_hour"] == 3, query


@pytest.mark.usefixtures("mentions")
def test_metrics_filter_forms_agree_and_unmentioned_tickers_show_zero(
    dashboard: TestClient,
) -> None:
    mixed = dashboard.get("/api/v2/metrics?tickers=AAPL,NVDA&tickers=TSLA").json()
    assert mixed["tickers"] == ["AAPL", "NVDA", "TSLA"]
    assert mixed["by_ticker"] == {"AAPL": 2, "TSLA": 1, "NVDA": 0}
    assert mixed["total"] == 3
    # Two hours, so an hour boundary between the fixture's writes and this read changes nothing.
    one = dashboard.get("/api/v2/metrics", params={"tickers": "TSLA", "hours": 2}).json()
    assert (one["window_hours"], one["total"], one["neutral"], len(one["hourly"])) == (2, 1, 1, 2)


def test_metrics_window_ends(dashboard: TestClient) -> None:
    for hours in (1, 168):
        body = dashboard.get("/api/v2/metrics", params={"hours": hours}).json()
        assert body["window_hours"] == hours
        assert len(body["hourly"]) == hours
        assert body["total"] == 0


BAD_METRICS_QUERIES = [
    ("hours=0", ["query", "hours"], "greater_than_equal"),
    ("hours=169", ["query", "hours"], "less_than_equal"),
    ("hours=-1", ["query", "hours"], "greater_than_equal"),
    ("hours=1.5", ["query", "hours"], "int_parsing"),
    ("hours=day", ["query", "hours"], "int_parsing"),
    ("tickers=aapl", ["query", "tickers", 0], "string_pattern_mismatch"),
    ("tickers=AAPL,msft", ["query", "tickers", 1], "string_pattern_mismatch"),
    ("tickers=AAPL,AAPL", ["query", "tickers"], "value_error"),
    ("tickers=AAPL&tickers=AAPL", ["query", "tickers"], "value_error"),
    ("tickers=", ["query", "tickers"], "too_short"),
    ("tickers=" + ",".join(f"T{n}" for n in range(11)), ["query", "tickers"], "too_long"),
]


def test_bad_metrics_queries_are_422(dashboard: TestClient) -> None:
    """Window outside 1..168 hours, malformed or repeated tickers: 422 at the parameter."""
    for query, loc, error_type in BAD_METRICS_QUERIES:
        response = dashboard.get(f"/api/v2/metrics?{query}")
        assert response.status_code == 422, query
        errors = [(e["loc"], e["type"]) for e in response.json()["detail"]]
        assert errors == [(loc, error_type)], query


def record_operations(services: Services) -> list[str]:
    """Names of every DynamoDB API call the app makes from now on."""
    operations: list[str] = []

    def record(model: Any, **_: Any) -> None:
        operations.append(model.name)

    services.dynamodb.meta.client.meta.events.register("before-call.dynamodb", record)
    return operations


def test_metrics_read_counters_not_items(dashboard: TestClient, services: Services) -> None:
    """The same reads whether 0 or 30 items are stored (cost ~ window, not data): the window's
    aggregate rows, and the rank shards of hours with mentions. Settled hours are read once."""
    operations = record_operations(services)
    dashboard.get("/api/v2/metrics")
    empty = list(operations)
    batch = {"items": [item_payload() for _ in range(25)]}
    dashboard.post("/api/v2/items", json=batch, headers=KEY)
    dashboard.post("/api/v2/items", json={"items": [item_payload() for _ in range(5)]}, headers=KEY)
    operations.clear()

    body = dashboard.get("/api/v2/metrics", params={"hours": 168}).json()

    assert body["total"] == 30
    assert body["by_ticker"] == {"AAPL": 30}
    # 24 hours + 12 slots, 4 aggregate rows each: 144 keys. No hour has ticker rows to rank.
    assert empty == ["BatchGetItem", "BatchGetItem"]
    # 168 hours + 12 slots less the 22 or 23 hours and 10 slots the first request read settled:
    # ~148 periods x 4 = ~592 keys; then the 8 rank shards of the hour with the items.
    assert operations == ["BatchGetItem"] * 6 + ["Query"] * 8
    operations.clear()
    dashboard.get("/api/v2/metrics", params={"hours": 168})
    assert operations == ["BatchGetItem"] + ["Query"] * 8  # the unsettled rows only: 4 periods


def test_no_scan_on_any_request_path(dashboard: TestClient, services: Services) -> None:
    """Every route reads by key, Query or BatchGetItem; a Scan never serves a request."""
    operations = record_operations(services)
    session = dashboard.post("/api/v2/auth/anonymous").json()
    auth = {"Authorization": f"Bearer {session['token']}"}
    config = dashboard.post(
        "/api/v2/configurations", json={"name": "n", "tickers": ["AAPL"]}, headers=auth
    ).json()
    path = f"/api/v2/configurations/{config['config_id']}"
    dashboard.post("/api/v2/items", json=item_payload(), headers=KEY)
    for method, url, body in [
        ("GET", "/health", None),
        ("GET", "/api/v2/metrics?tickers=AAPL", None),
        ("GET", "/api/v2/items?limit=5&ticker=AAPL&sentiment=positive", None),
        ("GET", "/api/v2/configurations", None),
        ("GET", path, None),
        ("PATCH", path, {"name": "m"}),
        ("POST", f"{path}/stream-ticket", None),
        ("DELETE", path, None),
    ]:
        assert dashboard.request(method, url, json=body, headers=auth).status_code < 300, url

    assert "Scan" not in operations
    assert set(operations) <= {
        "GetItem",
        "Query",
        "BatchGetItem",
        "TransactWriteItems",
        "UpdateItem",
    }


# --- sessions ----------------------------------------------------------------------------


def test_anonymous_session(dashboard: TestClient, services: Services) -> None:
    """201 with a new user id, a token naming it, and the token's expiry."""
    response = dashboard.post("/api/v2/auth/anonymous")
    other = dashboard.post("/api/v2/auth/anonymous").json()

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"user_id", "token", "expires_at"}
    assert services.tokens.verify_session(body["token"]) == body["user_id"]
    assert other["user_id"] != body["user_id"]
    claims = jwt.decode(
        body["token"], AUTH_SECRET, algorithms=["HS256"], audience="sentiment:session"
    )
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert claims["exp"] == int(expires_at.timestamp())
    assert timedelta(days=6) < expires_at - datetime.now(UTC) <= timedelta(days=7)


# --- failures map to JSON errors ---------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ThrottlingException", 400),
        ("ProvisionedThroughputExceededException", 400),
        ("InternalServerError", 500),
        ("ServiceUnavailable", 503),
    ],
)
def test_transient_storage_failure_is_503_with_retry_after(
    dashboard: TestClient, monkeypatch: pytest.MonkeyPatch, code: str, status: int
) -> None:
    def still_failing(*args: Any, **kwargs: Any) -> Any:
        error = {
            "Error": {"Code": code, "Message": "m"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        raise ClientError(error, "TransactWriteItems")  # type: ignore[arg-type]

    client = dashboard.app.state.services.dynamodb.meta.client  # type: ignore[attr-defined]
    monkeypatch.setattr(client, "batch_get_item", still_failing)
    monkeypatch.setattr(client, "transact_write_items", still_failing)
    for method, path, body in [
        ("GET", "/api/v2/metrics", None),
        ("POST", "/api/v2/items", item_payload()),
    ]:
        response = dashboard.request(method, path, json=body, headers=KEY)
        assert response.status_code == 503, path
        assert response.json() == {"detail": "storage is unavailable; retry shortly"}
        assert response.headers["retry-after"] == "2"


def test_a_missing_table_is_a_500_that_says_retrying_will_not_help(
    dashboard: TestClient, dynamodb: Any, settings: Settings
) -> None:
    dynamodb.meta.client.delete_table(TableName=settings.COUNTERS_TABLE)
    for method, path, body in [
        ("GET", "/api/v2/metrics", None),
        ("POST", "/api/v2/items", item_payload()),
    ]:
        response = dashboard.request(method, path, json=body, headers=KEY)
        assert response.status_code == 500, path
        assert "retry-after" not in response.headers
        detail = response.json()["detail"]
        assert detail.startswith("storage rejected the request (ResourceNotFoundException: ")
        assert detail.endswith("; retrying will not help")


def test_missing_secrets_are_503_not_500(dynamodb: Any) -> None:
    """An app started without INGEST_API_KEY / AUTH_SECRET says it is not configured."""
    client = app_with(dynamodb, ENVIRONMENT="test")
    for method, path, headers in [
        ("POST", "/api/v2/items", KEY),
        ("POST", "/api/v2/auth/anonymous", {}),
    ]:
        response = client.request(method, path, json=item_payload(), headers=headers)
        assert response.status_code == 503, path
        assert response.json() == {"detail": "service is not configured"}


# --- page, docs, CORS --------------------------------------------------------------------


def test_dashboard_page_and_docs(dashboard: TestClient) -> None:
    page = dashboard.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Sentiment dashboard" in page.text
    assert dashboard.get("/docs").status_code == 200
    paths = dashboard.get("/openapi.json").json()["paths"]
    assert {
        "/health",
        "/api/v2/runtime-config",
        "/api/v2/metrics",
        "/api/v2/items",
        "/api/v2/auth/anonymous",
        "/api/v2/configurations",
        "/api/v2/configurations/{config_id}",
        "/api/v2/configurations/{config_id}/stream-ticket",
    } <= set(paths)


def test_no_app_level_cors_unless_configured(dashboard: TestClient, dynamodb: Any) -> None:
    """On AWS the Function URL owns CORS; the app adds headers only with CORS_ALLOWED_ORIGINS."""
    origin = {"Origin": "http://localhost:5173"}
    assert "access-control-allow-origin" not in dashboard.get("/health", headers=origin).headers

    local = app_with(
        dynamodb,
        ENVIRONMENT="local",
        CORS_ALLOWED_ORIGINS="http://localhost:5173, http://127.0.0.1:8000",
    )
    preflight = local.options(
        "/api/v2/items",
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-api-key, content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert "x-api-key" in preflight.headers["access-control-allow-headers"].lower()
    other = local.get("/health", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_page_files_are_revalidated_on_every_load(dashboard: TestClient) -> None:
    """A deploy must never leave a browser mixing cached and new page modules."""
    for path in ("/", "/js/app.js", "/styles.css"):
        response = dashboard.get(path)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "no-cache", path
        assert response.headers["etag"], path
    assert "<title>" in dashboard.get("/").text
