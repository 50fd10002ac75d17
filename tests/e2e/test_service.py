"""Both functions answer, the dashboard points the page at the SSE function, and the read-only
API answers (all of it safe against prod)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.client import Deployment

pytestmark = pytest.mark.e2e


def test_dashboard_health(deployment: Deployment) -> None:
    response = deployment.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "dynamodb": "ok"}


def test_sse_health(deployment: Deployment) -> None:
    response = deployment.get("/health", sse=True)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_runtime_config_names_the_sse_url(deployment: Deployment) -> None:
    config = deployment.get("/api/v2/runtime-config").json()
    assert config["sse_url"].rstrip("/") == deployment.sse_url
    assert config["environment"]


def test_stream_status_fields_and_arithmetic(stream_status: dict[str, Any]) -> None:
    expected = {
        "connections",
        "max_connections",
        "available",
        "uptime_seconds",
        "heartbeat_interval",
        "poll_interval",
    }
    assert expected <= set(stream_status)
    assert stream_status["available"] == (
        stream_status["max_connections"] - stream_status["connections"]
    )
    assert 0 <= stream_status["connections"] <= stream_status["max_connections"]
    assert stream_status["uptime_seconds"] >= 0
    assert 0 < stream_status["heartbeat_interval"] <= 300
    assert 0 < stream_status["poll_interval"] <= 60


def test_metrics_and_items_are_readable(deployment: Deployment) -> None:
    metrics = deployment.get("/api/v2/metrics", params={"hours": 1})
    assert metrics.status_code == 200, metrics.text
    body = metrics.json()
    assert body["window_hours"] == 1
    assert body["tickers"] is None
    assert body["total"] == body["positive"] + body["neutral"] + body["negative"]
    assert len(body["hourly"]) == 1
    items = deployment.get("/api/v2/items", params={"limit": 1})
    assert items.status_code == 200, items.text
    assert len(items.json()["items"]) <= 1
