"""The REST API through a sick DynamoDB, and the embedded DynamoDB's transactions under load.

A dashboard app of its own talks to DynamoDB through a fault proxy: transient faults are a 503
with Retry-After, permanent rejections a clear error that says retrying will not help, and
nothing is half-written. The shared stack's own DynamoDB must commit concurrent transactions
atomically, as DynamoDB does.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.utils.factories import item_payload
from tests.utils.faults import FaultProxy, app_behind
from tests.utils.processes import RunningStack

pytestmark = pytest.mark.integration

# Give up on a sick DynamoDB within a few seconds (two attempts, 1 s connect, 2 s read).
QUICK_STORAGE_ENV = {
    "DYNAMODB_CONNECT_TIMEOUT": "1",
    "DYNAMODB_READ_TIMEOUT": "2",
    "DYNAMODB_MAX_ATTEMPTS": "2",
}
TRANSIENT = {"detail": "storage is unavailable; retry shortly"}


def unique_ticker() -> str:
    return "Z" + uuid.uuid4().hex[:6].upper().replace("0", "A")


@pytest.fixture
async def proxy(stack: RunningStack) -> AsyncIterator[FaultProxy]:
    proxy = FaultProxy(stack.dynamodb_url)
    await proxy.start()
    yield proxy
    await proxy.close()


@pytest.fixture
async def client(stack: RunningStack, proxy: FaultProxy) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a dashboard app whose DynamoDB is the proxy."""
    async with (
        app_behind(proxy, stack, QUICK_STORAGE_ENV, app="dashboard") as url,
        httpx.AsyncClient(base_url=url, timeout=30) as client,
    ):
        yield client


async def total_for(stack: RunningStack, ticker: str) -> int:
    async with httpx.AsyncClient(base_url=stack.dashboard_url, timeout=10) as api:
        response = await api.get("/api/v2/metrics", params={"tickers": ticker})
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


async def ingest(
    client: httpx.AsyncClient, stack: RunningStack, item: dict[str, object]
) -> httpx.Response:
    return await client.post("/api/v2/items", json=item, headers={"X-API-Key": stack.api_key})


@pytest.mark.parametrize("fault", ["throttled", "server_error", "stalled", "refused", "reset"])
async def test_transient_storage_faults_are_503_with_retry_after(
    stack: RunningStack, proxy: FaultProxy, client: httpx.AsyncClient, fault: str
) -> None:
    item = item_payload(tickers=[unique_ticker()])
    if fault == "throttled":
        proxy.throttle(1.0)
    elif fault == "server_error":
        proxy.fail(1.0)
    elif fault == "stalled":
        proxy.stall()
    elif fault == "reset":
        proxy.reset()
    else:
        await proxy.refuse()

    listing, written = await asyncio.gather(
        client.get("/api/v2/metrics"), ingest(client, stack, item)
    )
    for response in (listing, written):
        assert response.status_code == 503, response.text
        assert response.json() == TRANSIENT
        assert int(response.headers["retry-after"]) >= 1

    await proxy.restart()
    retried = await ingest(client, stack, item)
    assert retried.status_code in (200, 201), retried.text
    assert item["item_id"] in retried.json()["created"] + retried.json()["duplicates"]
    assert await total_for(stack, item["tickers"][0]) == 1  # stored once, counted once


async def test_a_permanent_rejection_is_not_dressed_up_as_transient(
    stack: RunningStack, proxy: FaultProxy, client: httpx.AsyncClient
) -> None:
    proxy.fail(1.0, 400, "ValidationException", "Item size has exceeded the maximum allowed size")
    item = item_payload(tickers=[unique_ticker()])
    response = await ingest(client, stack, item)
    assert response.status_code == 422, response.text
    assert "retry-after" not in response.headers
    message = (
        "storage rejected the request (ValidationException: Item size has exceeded the maximum "
        "allowed size); retrying will not help"
    )
    assert response.json() == {
        "detail": [{"type": "storage_rejected", "loc": ["body"], "msg": message}]
    }
    proxy.heal()
    assert await total_for(stack, item["tickers"][0]) == 0


async def test_concurrent_posts_of_one_item_create_and_count_it_once(
    stack: RunningStack,
) -> None:
    item = item_payload(tickers=[unique_ticker()])
    async with httpx.AsyncClient(base_url=stack.dashboard_url, timeout=30) as api:
        responses = await asyncio.gather(*(ingest(api, stack, item) for _ in range(20)))
    assert sorted(r.status_code for r in responses) == [200] * 19 + [201]
    created = [r.json()["created"] for r in responses]
    assert sorted(created, key=len) == [[]] * 19 + [[item["item_id"]]]
    assert await total_for(stack, item["tickers"][0]) == 1


async def test_concurrent_items_on_one_ticker_are_all_counted(stack: RunningStack) -> None:
    ticker = unique_ticker()
    items = [item_payload(tickers=[ticker]) for _ in range(20)]
    async with httpx.AsyncClient(base_url=stack.dashboard_url, timeout=30) as api:
        responses = await asyncio.gather(*(ingest(api, stack, item) for item in items))
    assert [r.status_code for r in responses] == [201] * 20
    assert await total_for(stack, ticker) == 20
