"""Capacity, lifetimes and the shared poller, each on an SSE app started for the purpose."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.utils.processes import RunningStack, extra_sse_app, stream_status, wait_for
from tests.utils.sse import open_stream

pytestmark = pytest.mark.integration


@pytest.fixture
def small_sse(stack: RunningStack) -> Iterator[str]:
    with extra_sse_app(stack, {"SSE_MAX_CONNECTIONS": "3"}) as url:
        yield url


async def test_fourth_stream_gets_503_and_a_slot_frees_on_disconnect(
    small_sse: str, sse_client: httpx.AsyncClient
) -> None:
    url = f"{small_sse}/api/v2/stream"
    async with open_stream(sse_client, url) as a, open_stream(sse_client, url) as b:
        async with open_stream(sse_client, url) as c:
            for reader in (a, b, c):
                await reader.next_of("heartbeat")
            assert stream_status(small_sse)["connections"] == 3

            full = await sse_client.get(url)
            assert full.status_code == 503
            assert full.headers["retry-after"] == "5"
            assert full.json() == {"detail": "stream capacity reached (3 open); retry in 5 s"}
            status = stream_status(small_sse)
            assert (status["connections"], status["available"]) == (3, 0)

        wait_for(lambda: stream_status(small_sse)["connections"] == 2, timeout=5)
        async with open_stream(sse_client, url) as d:
            heartbeat = await d.next_of("heartbeat")
            assert heartbeat.data["connections"] == 3

    wait_for(lambda: stream_status(small_sse)["connections"] == 0, timeout=5)
    status = stream_status(small_sse)
    assert status["available"] == status["max_connections"] == 3
    assert status["poller_running"] is False


async def test_clients_vanishing_mid_stream_release_their_slots(
    small_sse: str, sse_client: httpx.AsyncClient
) -> None:
    async def abandon() -> None:
        async with sse_client.stream("GET", f"{small_sse}/api/v2/stream") as response:
            assert response.status_code == 200
            async for _ in response.aiter_bytes():
                break  # read one chunk, then drop the connection

    for _ in range(3):
        await asyncio.gather(abandon(), abandon(), abandon())
        wait_for(lambda: stream_status(small_sse)["connections"] == 0, timeout=5)


@pytest.mark.parametrize("how", ["max_stream_seconds", "lambda_deadline"])
async def test_stream_ends_cleanly_before_its_deadline(
    stack: RunningStack, sse_client: httpx.AsyncClient, how: str
) -> None:
    env, headers = {}, {}
    if how == "max_stream_seconds":
        env = {"SSE_MAX_STREAM_SECONDS": "2"}
    else:  # what LWA forwards: the serialized Lambda context, deadline in epoch ms
        deadline_ms = int((time.time() + 4.5) * 1000)
        headers = {
            "x-amzn-lambda-context": json.dumps(
                {
                    "request_id": "r-1",
                    "deadline": deadline_ms,
                    "invoked_function_arn": "arn:x",
                    "xray_trace_id": None,
                    "client_context": None,
                    "identity": None,
                    "env_config": {
                        "function_name": "sse",
                        "memory": 1024,
                        "version": "$LATEST",
                        "log_stream": "s",
                        "log_group": "g",
                    },
                }
            )
        }

    with extra_sse_app(stack, env) as sse_url:
        started = time.monotonic()
        async with open_stream(sse_client, f"{sse_url}/api/v2/stream", headers) as reader:
            await asyncio.wait_for(reader.ended.wait(), timeout=10)
        lasted = time.monotonic() - started
        wait_for(lambda: stream_status(sse_url)["connections"] == 0, timeout=5)

    assert lasted < 4.5, "ended before the deadline"
    assert reader.events[0].type == "heartbeat"
    assert reader.events[0].retry == 3000
    closing = reader.events[-1]
    assert closing.data is None
    assert closing.retry == 250
    assert closing.id
    assert closing.id == [e.id for e in reader.events if e.data is not None][-1]


async def test_dynamodb_queries_per_second_do_not_grow_with_streams(
    stack: RunningStack, sse_client: httpx.AsyncClient
) -> None:
    def query_rate(sse_url: str, seconds: float = 4.0) -> float:
        before = stream_status(sse_url)["dynamodb_calls"]
        time.sleep(seconds)
        after = stream_status(sse_url)["dynamodb_calls"]
        return (after.get("Query", 0) - before.get("Query", 0)) / seconds

    with extra_sse_app(stack, {"SSE_METRICS_INTERVAL": "60"}) as sse_url:
        url = f"{sse_url}/api/v2/stream"
        async with open_stream(sse_client, url) as one:
            await one.wait_for(lambda e: e.type == "metrics")
            single = await asyncio.to_thread(query_rate, sse_url)
        readers = [open_stream(sse_client, url) for _ in range(50)]
        opened = [await r.__aenter__() for r in readers]
        try:
            await asyncio.gather(*(r.wait_for(lambda e: e.type == "metrics") for r in opened))
            assert stream_status(sse_url)["connections"] == 50
            fifty = await asyncio.to_thread(query_rate, sse_url)
        finally:
            for r in reversed(readers):
                await r.__aexit__(None, None, None)

    # One poller at 0.5 s, one Query per index key of the hour (4): about 8 a second either way.
    assert 4.0 <= single <= 12.0
    assert abs(fifty - single) <= 3.0, (single, fifty)
