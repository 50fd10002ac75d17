"""Configuration streams: 401, then 404, then the stream, filtered to the config's tickers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration.test_sse_stream import is_item, post_items
from tests.utils.factories import item_payload
from tests.utils.processes import RunningStack
from tests.utils.sse import open_stream

pytestmark = pytest.mark.integration


def new_user(api: httpx.Client) -> dict[str, str]:
    session = api.post("/api/v2/auth/anonymous").json()
    return {"Authorization": f"Bearer {session['token']}"}


def new_config(api: httpx.Client, auth: dict[str, str], tickers: list[str]) -> dict[str, Any]:
    response = api.post(
        "/api/v2/configurations", json={"name": "Watch", "tickers": tickers}, headers=auth
    )
    assert response.status_code == 201
    config: dict[str, Any] = response.json()
    return config


def stream_ticket(api: httpx.Client, auth: dict[str, str], config_id: str) -> str:
    response = api.post(f"/api/v2/configurations/{config_id}/stream-ticket", headers=auth)
    assert response.status_code == 200
    ticket: str = response.json()["ticket"]
    return ticket


def stream_url(stack: RunningStack, config_id: str) -> str:
    return f"{stack.sse_url}/api/v2/configurations/{config_id}/stream"


def test_auth_then_existence_then_ownership(api: httpx.Client, stack: RunningStack) -> None:
    owner = new_user(api)
    config = new_config(api, owner, ["AAPL"])
    url = stream_url(stack, config["config_id"])

    no_auth = httpx.get(url)
    garbage = httpx.get(url, headers={"Authorization": "Bearer garbage"})
    unknown = httpx.get(stream_url(stack, "0" * 32), headers=owner)
    foreign = httpx.get(url, headers=new_user(api))
    bad_ticket = httpx.get(url, params={"ticket": "garbage"})

    assert (no_auth.status_code, no_auth.json()) == (401, {"detail": "missing bearer token"})
    assert no_auth.headers["www-authenticate"] == "Bearer"
    assert (garbage.status_code, garbage.json()) == (401, {"detail": "token is invalid"})
    assert (unknown.status_code, unknown.json()) == (404, {"detail": "configuration not found"})
    assert (foreign.status_code, foreign.json()) == (404, {"detail": "configuration not found"})
    assert (bad_ticket.status_code, bad_ticket.json()) == (401, {"detail": "token is invalid"})


def test_ticket_is_only_good_for_its_own_configuration(
    api: httpx.Client, stack: RunningStack
) -> None:
    auth = new_user(api)
    first, second = new_config(api, auth, ["AAPL"]), new_config(api, auth, ["MSFT"])
    ticket = stream_ticket(api, auth, first["config_id"])

    response = httpx.get(stream_url(stack, second["config_id"]), params={"ticket": ticket})

    assert response.status_code == 401
    assert response.json() == {"detail": "ticket was issued for another configuration"}


@pytest.mark.parametrize("credential", ["ticket", "bearer"])
async def test_stream_carries_only_matching_tickers(
    api: httpx.Client, stack: RunningStack, sse_client: httpx.AsyncClient, credential: str
) -> None:
    auth = new_user(api)
    a, b = f"CF{credential[0].upper()}A", f"CF{credential[0].upper()}B"
    config = new_config(api, auth, [a, b])
    url, headers = stream_url(stack, config["config_id"]), auth
    if credential == "ticket":
        ticket = stream_ticket(api, auth, config["config_id"])
        url, headers = f"{url}?ticket={ticket}", {}
    matching = [item_payload(tickers=[a]), item_payload(tickers=["ZZZZ", b])]
    other = item_payload(tickers=["ZZZZ"])

    async with open_stream(sse_client, url, headers) as reader:
        metrics = await reader.next_of("metrics")
        await post_items(stack, matching[0], other, matching[1])
        await reader.wait_for(is_item(matching[1]["item_id"]), timeout=5)
        later = await reader.next_of("metrics", timeout=5)

    assert [e.data["item_id"] for e in reader.of("new_item")] == [m["item_id"] for m in matching]
    assert metrics.data["tickers"] == [a, b]
    assert metrics.data["by_ticker"] == {a: 0, b: 0}
    assert later.data["by_ticker"] == {a: 1, b: 1}
    assert later.data["total"] == 2
