"""The SSE app through run.sh, read with httpx-sse, fed through the dashboard's REST API.

The stack runs with a 1 s heartbeat, 2 s metrics interval and 0.5 s poll interval.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import datetime
from typing import Any

import httpx
import pytest

from sentiment.positions import Position
from sse.hub import POLL_OVERLAP
from tests.utils.factories import item_payload
from tests.utils.processes import RunningStack, extra_sse_app
from tests.utils.sse import StreamReader, open_stream

pytestmark = pytest.mark.integration
POLL_INTERVAL = 0.5


async def post_items(stack: RunningStack, *items: dict[str, Any]) -> None:
    async with httpx.AsyncClient(base_url=stack.dashboard_url, timeout=10) as client:
        for item in items:
            response = await client.post(
                "/api/v2/items", json=item, headers={"X-API-Key": stack.api_key}
            )
            assert response.status_code == 201, response.text


def is_item(item_id: str) -> Any:
    return lambda e: e.type == "new_item" and e.data["item_id"] == item_id


def seconds(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp).timestamp()


async def caught_up(reader: StreamReader, item_id: str) -> str:
    """Wait for an event whose id is at or past a received item, and return that id.

    Ids trail the newest items by the poller's overlap window (at-least-once delivery); once
    an id passes an item, resuming from it cannot repeat that item.
    """
    received = await reader.wait_for(is_item(item_id))
    position = Position(datetime.fromisoformat(received.data["ingested_at"]), item_id)
    event = await reader.wait_for(lambda e: bool(e.id) and Position.decode(e.id) >= position)
    assert event.id
    return event.id


async def test_heartbeat_first_then_at_the_interval(
    stack: RunningStack, sse_client: httpx.AsyncClient
) -> None:
    async with open_stream(sse_client, f"{stack.sse_url}/api/v2/stream") as reader:
        first = await reader.wait_for(lambda e: True, timeout=5)
        assert reader.response.headers["cache-control"] == "no-cache"
        assert reader.response.headers["x-accel-buffering"] == "no"
        await reader.wait_for(lambda e: len(reader.of("heartbeat")) >= 4, timeout=8)

    assert first.type == "heartbeat"
    assert first.retry == 3000
    assert set(first.data) == {"timestamp", "connections", "uptime_seconds"}
    assert first.data["connections"] >= 1
    beats = reader.of("heartbeat")
    gaps = [
        seconds(b.data["timestamp"]) - seconds(a.data["timestamp"])
        for a, b in itertools.pairwise(beats)
    ]
    assert all(0.8 <= gap <= 2.0 for gap in gaps), gaps  # the 1 s interval, generously
    assert all(e.id for e in reader.events), "every event carries an id"


async def test_metrics_event_matches_rest_metrics(
    stack: RunningStack, sse_client: httpx.AsyncClient
) -> None:
    await post_items(stack, item_payload(tickers=["METR"], sentiment="neutral", score=0.1))
    await asyncio.sleep(1.2)  # past the stream's metrics cache
    async with open_stream(sse_client, f"{stack.sse_url}/api/v2/stream") as reader:
        event = await reader.next_of("metrics", timeout=5)
    async with httpx.AsyncClient(base_url=stack.dashboard_url) as client:
        rest = (await client.get("/api/v2/metrics")).json()

    assert event.id
    event.data.pop("generated_at")
    rest.pop("generated_at")
    assert event.data == rest
    assert event.data["by_ticker"]["METR"] >= 1


async def test_posted_item_arrives_as_new_item_with_the_same_fields(
    stack: RunningStack, sse_client: httpx.AsyncClient
) -> None:
    item = item_payload(tickers=["LIVE", "AAPL"], sentiment="negative", score=-0.75)
    async with open_stream(sse_client, f"{stack.sse_url}/api/v2/stream") as reader:
        await reader.next_of("heartbeat")
        posted_at = time.monotonic()
        await post_items(stack, item)
        event = await reader.wait_for(is_item(item["item_id"]), timeout=POLL_INTERVAL + 1)
        elapsed = time.monotonic() - posted_at

    assert elapsed <= POLL_INTERVAL + 1
    assert event.id
    assert {k: event.data[k] for k in item} == item | {"published_at": "2026-11-21T10:00:00Z"}
    assert "ingested_at" in event.data


async def test_reconnect_replays_exactly_the_missed_items_then_continues_live(
    stack: RunningStack, sse_client: httpx.AsyncClient
) -> None:
    seen = item_payload(tickers=["REPLAY"])
    async with open_stream(sse_client, f"{stack.sse_url}/api/v2/stream") as reader:
        await post_items(stack, seen)
        last_id = await caught_up(reader, seen["item_id"])

    missed = [item_payload(tickers=["REPLAY"], title=f"Missed {n}") for n in range(5)]
    await post_items(stack, *missed)

    headers = {"Last-Event-ID": last_id}
    async with open_stream(sse_client, f"{stack.sse_url}/api/v2/stream", headers) as reader:
        await reader.next_of("metrics")  # sent after the replay
        replayed = [e.data["item_id"] for e in reader.of("new_item")]
        live = item_payload(tickers=["REPLAY"], title="After reconnect")
        await post_items(stack, live)
        await reader.wait_for(is_item(live["item_id"]))

    assert replayed == [m["item_id"] for m in missed]
    assert reader.events[0].type == "heartbeat"
    assert not reader.of("resync")
    assert [e.data["item_id"] for e in reader.of("new_item")] == [*replayed, live["item_id"]]


async def test_query_parameter_resume_is_the_same_as_the_header(
    stack: RunningStack, sse_client: httpx.AsyncClient
) -> None:
    async with open_stream(sse_client, f"{stack.sse_url}/api/v2/stream") as reader:
        first = await reader.next_of("heartbeat")
    missed = item_payload(tickers=["QUERY"])
    await post_items(stack, missed)

    url = f"{stack.sse_url}/api/v2/stream?last_event_id={first.id}"
    async with open_stream(sse_client, url) as reader:
        await reader.next_of("metrics")

    assert missed["item_id"] in [e.data["item_id"] for e in reader.of("new_item")]


@pytest.mark.parametrize(
    ("last_event_id", "reason"),
    [
        ("not-a-valid-id!", "malformed"),
        ("AAAA", "malformed"),
        (Position.decode("MTcwMDAwMDAwMDAwMDAwMDo").encode(), "expired"),
    ],
)
async def test_bad_last_event_id_gives_200_and_resync(
    stack: RunningStack, sse_client: httpx.AsyncClient, last_event_id: str, reason: str
) -> None:
    headers = {"Last-Event-ID": last_event_id}
    async with open_stream(sse_client, f"{stack.sse_url}/api/v2/stream", headers) as reader:
        resync = await reader.next_of("resync", timeout=5)
        await reader.next_of("metrics")

    assert reader.events[0].type == "heartbeat"
    assert resync.data["reason"] == reason
    assert resync.id
    assert resync.id != last_event_id


async def test_replay_past_the_limit_resyncs(
    stack: RunningStack, sse_client: httpx.AsyncClient
) -> None:
    with extra_sse_app(stack, {"SSE_REPLAY_LIMIT": "2"}) as sse_url:
        async with open_stream(sse_client, f"{sse_url}/api/v2/stream") as reader:
            start = await reader.next_of("heartbeat")
        await post_items(stack, *[item_payload(tickers=["LIMIT"]) for _ in range(3)])
        # Older than the live poller's first read, so only a replay could deliver them.
        await asyncio.sleep(POLL_OVERLAP.total_seconds() + 0.5)
        headers = {"Last-Event-ID": start.id or ""}
        async with open_stream(sse_client, f"{sse_url}/api/v2/stream", headers) as reader:
            resync = await reader.next_of("resync", timeout=5)
            await reader.next_of("metrics")

    assert resync.data["reason"] == "replay_limit"
    assert reader.of("new_item") == []
