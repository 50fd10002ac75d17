"""The SSE app through FastAPI's TestClient, over moto: health, status, and the statuses a
stream request can get before streaming. Streams read here are finite: an LWA context whose
deadline is a second away (beyond the closing margin) ends them after their greeting, replay and
first metrics, before their second heartbeat; one whose deadline has passed ends them right
after the first heartbeat (SSE_MAX_STREAM_SECONDS is short, so a broken deadline shows up as
extra heartbeats rather than a hang)."""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sentiment.models import ConfigurationIn
from sentiment.positions import Position, utc_now
from sentiment.services import Services, build_services
from sentiment.settings import Settings
from sse.app import GC_THRESHOLDS, create_app
from sse.connections import Slot
from sse.lifetime import DEADLINE_MARGIN_SECONDS
from sse.stream import StreamRuntime
from tests.utils.factories import item_in

MAX_CONNECTIONS = 3
STATUS = "/api/v2/stream/status"
GLOBAL = "/api/v2/stream"
UNKNOWN_CONFIG = "0" * 32  # well formed, never created
HEARTBEAT_SECONDS = 2.0


def lambda_context(seconds_to_close: float) -> dict[str, str]:
    """LWA's context header for an invocation whose stream must close in ``seconds_to_close``."""
    deadline = time.time() + DEADLINE_MARGIN_SECONDS + seconds_to_close
    return {"x-amzn-lambda-context": json.dumps({"deadline": int(deadline * 1000)})}


def short() -> dict[str, str]:
    """A stream that closes after a second: its greeting, replay and metrics, no 2nd heartbeat."""
    return lambda_context(1.0)


# A deadline already past: the stream closes right after its first heartbeat.
ENDED = lambda_context(-60)

pytestmark = pytest.mark.timeout(60)  # a guard only: these streams end after their greeting


def config_stream(config_id: str) -> str:
    return f"/api/v2/configurations/{config_id}/stream"


@pytest.fixture
def app_services(dynamodb: Any, settings: Settings) -> Services:
    tuned = settings.model_copy(
        update={
            "SSE_MAX_CONNECTIONS": MAX_CONNECTIONS,
            "SSE_HEARTBEAT_INTERVAL": HEARTBEAT_SECONDS,
            "SSE_MAX_STREAM_SECONDS": 5.0,
            "SSE_METRICS_INTERVAL": 11.0,
            "SSE_POLL_INTERVAL": 0.05,
        }
    )
    return build_services(tuned, dynamodb)


@pytest.fixture
def client(app_services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services=app_services)) as test_client:
        yield test_client


def runtime_of(client: TestClient) -> StreamRuntime:
    runtime: StreamRuntime = client.app.state.runtime  # type: ignore[attr-defined]
    return runtime


def fill(client: TestClient) -> list[Slot]:
    manager = runtime_of(client).connections
    slots = [manager.try_acquire() for _ in range(manager.available)]
    assert all(slots)
    assert manager.available == 0
    return [slot for slot in slots if slot is not None]


def parse(body: bytes) -> list[dict[str, Any]]:
    """SSE frames as dicts of their fields (data parsed as JSON; comments under ':')."""
    frames = []
    assert body.endswith(b"\n\n")
    for block in body.decode("utf-8").split("\n\n")[:-1]:
        frame: dict[str, Any] = {}
        for line in block.split("\n"):
            field, _, value = line.partition(": ")
            frame[field] = json.loads(value) if field == "data" else value
        frames.append(frame)
    return frames


@pytest.fixture
def user(app_services: Services) -> tuple[str, str]:
    session = app_services.tokens.issue_session()
    return session.user_id, session.token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def create_config(services: Services, user_id: str, tickers: list[str]) -> str:
    config = services.configurations.create(
        user_id, ConfigurationIn(name="Watch list", tickers=tickers)
    )
    return config.config_id


# --- health and status --------------------------------------------------------------------


def test_health(client: TestClient) -> None:
    response = client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_status_fields_and_capacity_arithmetic(client: TestClient) -> None:
    body = client.get(STATUS).json()

    assert {
        "connections",
        "max_connections",
        "available",
        "uptime_seconds",
        "heartbeat_interval",
        "poll_interval",
    } <= set(body)
    assert body["connections"] == 0
    assert body["max_connections"] == MAX_CONNECTIONS
    assert body["available"] == MAX_CONNECTIONS
    assert body["heartbeat_interval"] == HEARTBEAT_SECONDS
    assert body["metrics_interval"] == 11.0
    assert body["poll_interval"] == 0.05
    assert body["uptime_seconds"] >= 0
    assert body["poller_running"] is False
    assert body["poll_failures"] == 0

    manager = runtime_of(client).connections
    first, second = manager.try_acquire(), manager.try_acquire()
    assert first is not None
    assert second is not None
    body = client.get(STATUS).json()
    assert body["connections"] == 2
    assert body["available"] == body["max_connections"] - body["connections"] == 1

    first.release()
    second.release()
    body = client.get(STATUS).json()
    assert (body["connections"], body["available"]) == (0, MAX_CONNECTIONS)


def test_uptime_grows(client: TestClient) -> None:
    first = client.get(STATUS).json()["uptime_seconds"]
    time.sleep(0.01)
    assert client.get(STATUS).json()["uptime_seconds"] > first


# --- statuses before a stream starts -----------------------------------------------------------


def test_global_stream_when_full_is_503_with_retry_after(client: TestClient) -> None:
    slots = fill(client)

    response = client.get(GLOBAL, headers=ENDED)

    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.headers["content-type"] == "application/json"
    assert "capacity" in response.json()["detail"]
    manager = runtime_of(client).connections
    assert manager.rejected == 1
    assert manager.active == MAX_CONNECTIONS  # the rejection took nothing
    for slot in slots:
        slot.release()


def test_config_stream_without_auth_is_401(client: TestClient) -> None:
    response = client.get(config_stream(UNKNOWN_CONFIG))

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["detail"]
    assert runtime_of(client).connections.active == 0


def test_config_stream_with_a_bad_token_or_ticket_is_401(
    client: TestClient, app_services: Services, user: tuple[str, str]
) -> None:
    user_id, _ = user
    config_id = create_config(app_services, user_id, ["AAPL"])
    other = create_config(app_services, user_id, ["MSFT"])
    wrong_ticket = app_services.tokens.issue_ticket(user_id, other).ticket

    assert client.get(config_stream(config_id), headers=bearer("not-a-token")).status_code == 401
    assert client.get(config_stream(config_id), params={"ticket": "junk"}).status_code == 401
    response = client.get(config_stream(config_id), params={"ticket": wrong_ticket})
    assert response.status_code == 401
    assert "another configuration" in response.json()["detail"]
    assert runtime_of(client).connections.active == 0


def test_a_malformed_config_id_is_422(client: TestClient, user: tuple[str, str]) -> None:
    _, token = user

    response = client.get(config_stream("cfg-unknown"), headers=bearer(token))

    assert response.status_code == 422
    [error] = response.json()["detail"]  # once, though two dependencies read the id
    assert (error["type"], error["loc"]) == ("string_pattern_mismatch", ["path", "config_id"])
    assert runtime_of(client).connections.active == 0


def test_unknown_config_is_404(client: TestClient, user: tuple[str, str]) -> None:
    _, token = user

    response = client.get(config_stream(UNKNOWN_CONFIG), headers=bearer(token))

    assert response.status_code == 404
    assert response.json() == {"detail": "configuration not found"}
    assert runtime_of(client).connections.active == 0


def test_another_users_config_is_404(
    client: TestClient, app_services: Services, user: tuple[str, str]
) -> None:
    owner = app_services.tokens.issue_session()
    config_id = create_config(app_services, owner.user_id, ["AAPL"])
    _, stranger = user

    assert client.get(config_stream(config_id), headers=bearer(stranger)).status_code == 404


def test_config_stream_checks_auth_then_config_then_capacity(
    client: TestClient, app_services: Services, user: tuple[str, str]
) -> None:
    user_id, token = user
    config_id = create_config(app_services, user_id, ["AAPL"])
    slots = fill(client)

    assert client.get(config_stream(config_id)).status_code == 401
    assert client.get(config_stream(UNKNOWN_CONFIG), headers=bearer(token)).status_code == 404
    full = client.get(config_stream(config_id), headers=bearer(token) | ENDED)
    assert full.status_code == 503
    assert full.headers["retry-after"] == "5"
    for slot in slots:
        slot.release()


# --- finite streams through the app --------------------------------------------------------------


def test_stream_past_the_deadline_is_a_heartbeat_then_a_closing_frame(
    client: TestClient, app_services: Services
) -> None:
    before = Position.at(utc_now() - timedelta(seconds=10)).encode()
    app_services.items.ingest(item_in(), utc_now() - timedelta(seconds=5))

    response = client.get(GLOBAL, headers={"Last-Event-ID": before} | ENDED)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    frames = parse(response.content)
    assert [f.get("event") for f in frames] == ["heartbeat", None]
    heartbeat, closing = frames
    assert heartbeat["retry"] == "3000"
    # Nothing replayed: a stream that cannot live to send it closes at once; the client
    # resumes from the same id on its next connection.
    assert closing == {"": "closing: lifetime", "id": before, "retry": "250"}


def test_short_stream_is_a_greeting_metrics_then_a_closing_frame(client: TestClient) -> None:
    response = client.get(GLOBAL, headers=short())

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    frames = parse(response.content)
    assert [f.get("event") for f in frames] == ["heartbeat", "metrics", None]
    heartbeat, metrics, closing = frames
    assert heartbeat["retry"] == "3000"
    assert heartbeat["data"]["connections"] == 1  # the slot is held while streaming
    assert metrics["data"]["window_hours"] == 24
    assert metrics["data"]["tickers"] is None
    assert closing["retry"] == "250"
    assert closing[""] == "closing: lifetime"
    assert Position.decode(heartbeat["id"]) <= Position.decode(closing["id"])
    assert Position.decode(closing["id"]) <= Position.at(utc_now())

    status = client.get(STATUS).json()
    assert status["connections"] == 0
    assert status["poller_running"] is False


def test_last_event_id_header_replays_from_dynamodb(
    client: TestClient, app_services: Services
) -> None:
    now = utc_now()
    item = item_in(tickers=["AAPL"])
    app_services.items.ingest(item, now - timedelta(seconds=5))
    before = Position.at(now - timedelta(seconds=10)).encode()

    frames = parse(client.get(GLOBAL, headers={"Last-Event-ID": before} | short()).content)

    assert [f.get("event") for f in frames] == ["heartbeat", "new_item", "metrics", None]
    assert frames[1]["data"]["item_id"] == item.item_id
    assert frames[1]["data"]["ingested_at"]
    assert frames[0]["id"] == before


def test_last_event_id_query_parameter_resumes_too(
    client: TestClient, app_services: Services
) -> None:
    item = item_in()
    app_services.items.ingest(item, utc_now() - timedelta(seconds=5))
    before = Position.at(utc_now() - timedelta(seconds=10)).encode()

    response = client.get(GLOBAL, params={"last_event_id": before}, headers=short())

    frames = parse(response.content)
    assert [f.get("event") for f in frames] == ["heartbeat", "new_item", "metrics", None]
    assert frames[1]["data"]["item_id"] == item.item_id


def test_malformed_last_event_id_is_a_resync_not_an_error(client: TestClient) -> None:
    response = client.get(GLOBAL, headers={"Last-Event-ID": "garbage!!"} | short())

    assert response.status_code == 200
    frames = parse(response.content)
    assert [f.get("event") for f in frames] == ["heartbeat", "resync", "metrics", None]
    assert frames[1]["data"]["reason"] == "malformed"


def test_config_stream_with_a_ticket(
    client: TestClient, app_services: Services, user: tuple[str, str]
) -> None:
    user_id, _ = user
    config_id = create_config(app_services, user_id, ["AAPL", "MSFT"])
    ticket = app_services.tokens.issue_ticket(user_id, config_id).ticket
    app_services.items.ingest(item_in(item_id="aapl-1", tickers=["AAPL"]), utc_now())
    app_services.items.ingest(item_in(item_id="tsla-1", tickers=["TSLA"]), utc_now())
    before = Position.at(utc_now() - timedelta(seconds=10)).encode()

    response = client.get(
        config_stream(config_id),
        params={"ticket": ticket, "last_event_id": before},
        headers=short(),
    )

    assert response.status_code == 200
    frames = parse(response.content)
    assert [f.get("event") for f in frames] == ["heartbeat", "new_item", "metrics", None]
    assert frames[1]["data"]["item_id"] == "aapl-1"
    assert frames[2]["data"]["tickers"] == ["AAPL", "MSFT"]
    assert runtime_of(client).connections.active == 0


def test_the_server_raises_the_gc_thresholds_while_serving_and_restores_them(
    app_services: Services,
) -> None:
    before = gc.get_threshold()
    with TestClient(create_app(services=app_services)):
        assert gc.get_threshold() == GC_THRESHOLDS
    assert gc.get_threshold() == before
