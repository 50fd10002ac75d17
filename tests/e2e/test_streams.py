"""Live streams from the SSE function: greeting, heartbeats, metrics, items, replay, configs.

A deployment may carry other traffic, so tests watch tickers of their own and allow foreign
items in the global stream.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.e2e.client import Deployment
from tests.utils.sse import Event, StreamReader, open_stream

pytestmark = pytest.mark.e2e
FIRST_EVENT_SECONDS = 10


def is_item(item_id: str) -> Callable[[Event], bool]:
    return lambda e: e.type == "new_item" and e.data["item_id"] == item_id


def item_ids(reader: StreamReader, wanted: set[str]) -> list[str]:
    return [e.data["item_id"] for e in reader.of("new_item") if e.data["item_id"] in wanted]


async def test_global_stream_greets_at_once(
    deployment: Deployment, sse_client: httpx.AsyncClient
) -> None:
    started = time.monotonic()
    async with open_stream(sse_client, deployment.url("/api/v2/stream")) as reader:
        first = await reader.wait_for(lambda e: True, timeout=FIRST_EVENT_SECONDS)
        elapsed = time.monotonic() - started
        metrics = await reader.wait_for(lambda e: e.type == "metrics", timeout=60)

    assert elapsed < FIRST_EVENT_SECONDS
    assert reader.response.headers["content-type"].startswith("text/event-stream")
    assert first.type == "heartbeat"
    assert first.retry is not None
    assert first.retry > 0
    assert {"timestamp", "connections", "uptime_seconds"} <= set(first.data)
    expected = {
        "window_hours",
        "total",
        "positive",
        "neutral",
        "negative",
        "average_score",
        "by_ticker",
        "others",
        "ranking_exact",
        "last_hour",
        "generated_at",
    }
    assert expected <= set(metrics.data)
    assert len(metrics.data["by_ticker"]) <= 50, "the global view lists the top 50 at most"
    assert metrics.data["total"] == (
        metrics.data["positive"] + metrics.data["neutral"] + metrics.data["negative"]
    )
    assert all(e.id for e in reader.events), "every event carries an id"


async def test_heartbeat_within_the_advertised_interval(
    deployment: Deployment, sse_client: httpx.AsyncClient, stream_status: dict[str, Any]
) -> None:
    interval = stream_status["heartbeat_interval"]
    async with open_stream(sse_client, deployment.url("/api/v2/stream")) as reader:
        await reader.next_of("heartbeat", timeout=FIRST_EVENT_SECONDS)
        started = time.monotonic()
        second = await reader.next_of("heartbeat", timeout=interval + 5)
        waited = time.monotonic() - started

    assert waited <= interval + 5
    assert second.id


@pytest.mark.writes
async def test_item_posted_while_connected_arrives(
    writer: Deployment, sse_client: httpx.AsyncClient, make_item: Callable[..., dict[str, Any]]
) -> None:
    item = make_item(sentiment="negative", score=-0.4)
    async with open_stream(sse_client, writer.url("/api/v2/stream")) as reader:
        await reader.next_of("heartbeat", timeout=FIRST_EVENT_SECONDS)
        writer.ingest(item)
        event = await reader.wait_for(is_item(item["item_id"]), timeout=30)

    assert event.id
    assert {k: event.data[k] for k in ("item_id", "tickers", "sentiment", "score", "title")} == {
        k: item[k] for k in ("item_id", "tickers", "sentiment", "score", "title")
    }
    assert event.data["ingested_at"]


@pytest.mark.writes
async def test_items_posted_while_disconnected_are_replayed(
    writer: Deployment, sse_client: httpx.AsyncClient, make_item: Callable[..., dict[str, Any]]
) -> None:
    url = writer.url("/api/v2/stream")
    async with open_stream(sse_client, url) as reader:
        await reader.next_of("metrics", timeout=60)
        last_id = reader.last_id
    assert last_id

    missed = [make_item(title=f"Missed while away {n}") for n in range(4)]
    writer.ingest(*missed)
    wanted = {m["item_id"] for m in missed}

    async with open_stream(sse_client, url, {"Last-Event-ID": last_id}) as reader:
        await reader.wait_for(lambda e: wanted <= set(item_ids(reader, wanted)), timeout=30)
        live = make_item(title="After reconnecting")
        writer.ingest(live)
        await reader.wait_for(is_item(live["item_id"]), timeout=30)

    assert not reader.of("resync")
    assert item_ids(reader, wanted) == [m["item_id"] for m in missed], "all, once, oldest first"


async def test_malformed_last_event_id_resyncs(
    deployment: Deployment, sse_client: httpx.AsyncClient
) -> None:
    headers = {"Last-Event-ID": "definitely not an id"}
    async with open_stream(sse_client, deployment.url("/api/v2/stream"), headers) as reader:
        resync = await reader.next_of("resync", timeout=FIRST_EVENT_SECONDS)

    assert resync.data["reason"] == "malformed"


@pytest.mark.writes
class TestConfigurationStreams:
    @pytest.fixture
    def session(self, deployment: Deployment) -> dict[str, str]:
        token = deployment.post("/api/v2/auth/anonymous").json()["token"]
        return {"Authorization": f"Bearer {token}"}

    @pytest.fixture
    def config(
        self, deployment: Deployment, session: dict[str, str], ticker: str
    ) -> dict[str, Any]:
        response = deployment.post(
            "/api/v2/configurations",
            headers=session,
            json={"name": "E2E watch", "tickers": [ticker]},
        )
        assert response.status_code == 201, response.text
        config: dict[str, Any] = response.json()
        return config

    def test_401_then_404(self, deployment: Deployment, config: dict[str, Any]) -> None:
        path = f"/api/v2/configurations/{config['config_id']}/stream"
        stranger = deployment.post("/api/v2/auth/anonymous").json()["token"]

        no_auth = deployment.get(path)
        unknown = deployment.get(
            f"/api/v2/configurations/{'0' * 32}/stream",
            headers={"Authorization": f"Bearer {stranger}"},
        )
        foreign = deployment.get(path, headers={"Authorization": f"Bearer {stranger}"})

        assert no_auth.status_code == 401
        assert unknown.status_code == 404
        assert foreign.status_code == 404
        assert foreign.json() == {"detail": "configuration not found"}

    async def test_ticket_stream_is_filtered(
        self,
        writer: Deployment,
        sse_client: httpx.AsyncClient,
        session: dict[str, str],
        config: dict[str, Any],
        make_item: Callable[..., dict[str, Any]],
    ) -> None:
        config_id = config["config_id"]
        ticket = writer.post(
            f"/api/v2/configurations/{config_id}/stream-ticket", headers=session
        ).json()["ticket"]
        url = writer.url(f"/api/v2/configurations/{config_id}/stream") + f"?ticket={ticket}"
        matching, other = make_item(), make_item(tickers=["ZZOTHER"])

        async with open_stream(sse_client, url) as reader:
            metrics = await reader.next_of("metrics", timeout=60)
            writer.ingest(other, matching)
            await reader.wait_for(is_item(matching["item_id"]), timeout=30)
            await asyncio.sleep(1)

        assert metrics.data["tickers"] == config["tickers"]
        assert [e.data["item_id"] for e in reader.of("new_item")] == [matching["item_id"]]


async def test_connection_limit(
    deployment: Deployment, sse_client: httpx.AsyncClient, stream_status: dict[str, Any]
) -> None:
    limit = stream_status["max_connections"]
    if limit > 10:
        pytest.skip(f"the target allows {limit} streams per process; too many to open in a test")
    url = deployment.url("/api/v2/stream")
    readers = [open_stream(sse_client, url) for _ in range(limit)]
    opened = [await r.__aenter__() for r in readers]
    try:
        for reader in opened:
            await reader.next_of("heartbeat", timeout=FIRST_EVENT_SECONDS)
        full = await sse_client.get(url)
        assert full.status_code == 503
        assert int(full.headers["retry-after"]) > 0
        assert "capacity" in full.json()["detail"]
    finally:
        for reader in reversed(readers):
            await reader.__aexit__(None, None, None)

    async def drained() -> bool:
        status = deployment.get("/api/v2/stream/status").json()
        return bool(status["connections"] == 0)

    for _ in range(50):
        if await drained():
            break
        await asyncio.sleep(0.2)
    else:
        raise AssertionError("slots were not released after the clients left")
