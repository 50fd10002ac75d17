"""The dashboard REST API over HTTP, against moto server."""

from __future__ import annotations

import httpx
import pytest

from tests.utils.factories import configuration_payload, item_payload
from tests.utils.processes import RunningStack, running_stack, wait_for

pytestmark = pytest.mark.integration


def test_health_checks_dynamodb(api: httpx.Client) -> None:
    response = api.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "dynamodb": "ok"}


def test_runtime_config_names_the_sse_app(api: httpx.Client, stack: RunningStack) -> None:
    assert api.get("/api/v2/runtime-config").json() == {
        "sse_url": stack.sse_url,
        "environment": "local",
        "watch_lists": {
            "ticker_pattern": "^[A-Z][A-Z0-9.-]{0,9}$",
            "max_tickers": 5,
            "max_watch_lists": 5,
        },
    }


def test_posting_the_same_item_twice_counts_it_once(api: httpx.Client, stack: RunningStack) -> None:
    headers = {"X-API-Key": stack.api_key}
    ticker = "IDEM"
    before = api.get("/api/v2/metrics", params={"tickers": ticker}).json()
    item = item_payload(tickers=[ticker], sentiment="negative", score=-0.5)

    first = api.post("/api/v2/items", json=item, headers=headers)
    second = api.post("/api/v2/items", json=item, headers=headers)

    assert (first.status_code, first.json()) == (
        201,
        {"created": [item["item_id"]], "duplicates": []},
    )
    assert (second.status_code, second.json()) == (
        200,
        {"created": [], "duplicates": [item["item_id"]]},
    )
    after = api.get("/api/v2/metrics", params={"tickers": ticker}).json()
    assert after["total"] == before["total"] + 1
    assert after["negative"] == before["negative"] + 1
    assert after["by_ticker"] == {ticker: before["by_ticker"][ticker] + 1}
    stored = api.get("/api/v2/items", params={"ticker": ticker}).json()["items"]
    assert [i["item_id"] for i in stored] == [item["item_id"]]
    assert {k: stored[0][k] for k in item} == item | {"published_at": "2026-11-21T10:00:00Z"}


def test_batch_ingest_reports_created_and_duplicates(
    api: httpx.Client, stack: RunningStack
) -> None:
    headers = {"X-API-Key": stack.api_key}
    existing = item_payload(tickers=["BATCH"])
    api.post("/api/v2/items", json=existing, headers=headers)
    fresh = [item_payload(tickers=["BATCH"]) for _ in range(3)]

    response = api.post("/api/v2/items", json={"items": [existing, *fresh]}, headers=headers)

    assert response.status_code == 201
    assert response.json() == {
        "created": [i["item_id"] for i in fresh],
        "duplicates": [existing["item_id"]],
    }
    newest = api.get("/api/v2/items", params={"ticker": "BATCH", "limit": 10}).json()["items"]
    assert [i["item_id"] for i in newest] == [i["item_id"] for i in reversed(fresh)] + [
        existing["item_id"]
    ]


def test_rejected_batch_writes_nothing(api: httpx.Client, stack: RunningStack) -> None:
    headers = {"X-API-Key": stack.api_key}
    good = item_payload(tickers=["NOPART"])
    bad = item_payload(tickers=["NOPART"], score=2)

    response = api.post("/api/v2/items", json={"items": [good, bad]}, headers=headers)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "batch", "items", 1, "score"]
    assert api.get("/api/v2/items", params={"ticker": "NOPART"}).json()["items"] == []


def test_ingest_needs_the_api_key(api: httpx.Client) -> None:
    response = api.post("/api/v2/items", json=item_payload(), headers={"X-API-Key": "wrong"})
    assert response.status_code == 401
    assert response.json() == {"detail": "invalid API key"}


def test_configuration_lifecycle_over_http(api: httpx.Client) -> None:
    session = api.post("/api/v2/auth/anonymous").json()
    auth = {"Authorization": f"Bearer {session['token']}"}
    created = api.post("/api/v2/configurations", json=configuration_payload(), headers=auth)
    assert created.status_code == 201
    config = created.json()
    assert config["tickers"] == ["AAPL", "MSFT"]

    renamed = api.patch(
        f"/api/v2/configurations/{config['config_id']}", json={"name": "Renamed"}, headers=auth
    ).json()
    assert renamed["name"] == "Renamed"
    assert renamed["tickers"] == ["AAPL", "MSFT"]
    listed = api.get("/api/v2/configurations", headers=auth).json()["configurations"]
    assert [c["config_id"] for c in listed] == [config["config_id"]]

    stranger = api.post("/api/v2/auth/anonymous").json()
    foreign = api.get(
        f"/api/v2/configurations/{config['config_id']}",
        headers={"Authorization": f"Bearer {stranger['token']}"},
    )
    assert (foreign.status_code, foreign.json()) == (404, {"detail": "configuration not found"})

    assert (
        api.delete(f"/api/v2/configurations/{config['config_id']}", headers=auth).status_code == 204
    )
    assert api.get("/api/v2/configurations", headers=auth).json()["configurations"] == []


def test_make_run_stack_serves_demo_data_and_live_producer() -> None:
    """What `make run` starts: a day of demo history and a producer posting new items."""
    with running_stack(demo=True) as demo, httpx.Client(base_url=demo.dashboard_url) as client:
        metrics = client.get("/api/v2/metrics").json()
        assert metrics["total"] >= 100
        assert metrics["positive"]
        assert metrics["neutral"]
        assert metrics["negative"]
        assert len(metrics["by_ticker"]) >= 5
        assert sum(h["total"] for h in metrics["hourly"]) == metrics["total"]

        def live_item_arrived() -> bool:
            items = client.get("/api/v2/items", params={"limit": 5}).json()["items"]
            return any(i["item_id"].startswith("live-") for i in items)

        wait_for(live_item_arrived, timeout=15)
