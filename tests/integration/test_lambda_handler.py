"""``dashboard.handler.handler`` invoked with real Function URL events, against moto server."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from dashboard import handler as dashboard_handler
from devstack.stack import app_environment
from tests.utils.factories import item_payload
from tests.utils.lambda_events import LambdaContext, function_url_event
from tests.utils.processes import RunningStack

pytestmark = pytest.mark.integration


@pytest.fixture
def invoke(stack: RunningStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in app_environment(stack.config, {}).items():
        monkeypatch.setenv(name, value)
    dashboard_handler.build_handler.cache_clear()

    def call(event: dict[str, Any]) -> dict[str, Any]:
        return dashboard_handler.handler(event, LambdaContext())

    yield call
    dashboard_handler.build_handler.cache_clear()


def test_health_event(invoke: Any) -> None:
    response = invoke(function_url_event("GET", "/health"))

    assert response["statusCode"] == 200
    assert response["headers"]["content-type"] == "application/json"
    assert response["isBase64Encoded"] is False
    assert json.loads(response["body"]) == {"status": "ok", "dynamodb": "ok"}


def test_ingest_event_stores_the_item(invoke: Any, stack: RunningStack, api: httpx.Client) -> None:
    item = item_payload(tickers=["LAMBDA"])
    event = function_url_event(
        "POST", "/api/v2/items", headers={"x-api-key": stack.api_key}, body=item
    )

    response = invoke(event)

    assert response["statusCode"] == 201
    assert response["headers"]["content-type"] == "application/json"
    assert json.loads(response["body"]) == {"created": [item["item_id"]], "duplicates": []}
    stored = api.get("/api/v2/items", params={"ticker": "LAMBDA"}).json()["items"]
    assert [i["item_id"] for i in stored] == [item["item_id"]]


def test_ingest_event_base64_body_and_bad_key(invoke: Any) -> None:
    event = function_url_event(
        "POST",
        "/api/v2/items",
        headers={"x-api-key": "nope"},
        body=item_payload(),
        base64_body=True,
    )

    response = invoke(event)

    assert response["statusCode"] == 401
    assert response["headers"]["www-authenticate"] == 'ApiKey header="X-API-Key"'
    assert json.loads(response["body"]) == {"detail": "invalid API key"}


@pytest.mark.parametrize("path", ["/", "/styles.css", "/js/app.js", "/api/v2/metrics"])
def test_gzip_answers_come_back_base64_with_their_headers(invoke: Any, path: str) -> None:
    """Function URLs pass Content-Encoding through; Mangum must base64 the gzip bytes."""
    plain = invoke(function_url_event("GET", path))
    zipped = invoke(function_url_event("GET", path, headers={"accept-encoding": "gzip, br"}))

    assert plain["statusCode"] == zipped["statusCode"] == 200
    assert plain["isBase64Encoded"] is False
    assert "content-encoding" not in plain["headers"]
    assert zipped["isBase64Encoded"] is True
    assert zipped["headers"]["content-encoding"] == "gzip"
    assert "accept-encoding" in zipped["headers"]["vary"].lower()
    assert zipped["headers"]["content-type"] == plain["headers"]["content-type"]
    body = gzip.decompress(base64.b64decode(zipped["body"])).decode()
    assert int(zipped["headers"]["content-length"]) == len(base64.b64decode(zipped["body"]))
    if path.startswith("/api/"):
        assert json.loads(body).keys() == json.loads(plain["body"]).keys()
    else:
        assert body == plain["body"]
        assert len(base64.b64decode(zipped["body"])) < len(plain["body"].encode()) * 0.6
    for response in (plain, zipped):
        assert response["headers"]["x-content-type-options"] == "nosniff"
        assert response["headers"]["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response["headers"]["content-security-policy"]
