"""The exact bytes of every event, framed by FastAPI's own SSE support (never by hand)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.sse import EventSourceResponse, ServerSentEvent
from fastapi.testclient import TestClient
from pydantic import ValidationError

from sentiment.models import Item
from sentiment.positions import Position
from sse import events
from tests.unit.sse.conftest import dashboard_metrics

POSITION = Position(datetime(2026, 11, 21, 12, 30, tzinfo=UTC), "item-1")
TOKEN = "MTc5NTI2NDIwMDAwMDAwMDppdGVtLTE"  # base64url("1795264200000000:item-1")
BETWEEN = Position(datetime(2026, 11, 21, 12, 29, 58, tzinfo=UTC))
BETWEEN_TOKEN = "MTc5NTI2NDE5ODAwMDAwMDo"  # base64url("1795264198000000:")
HEARTBEAT = events.Heartbeat(
    timestamp=datetime(2026, 11, 21, 12, 30, tzinfo=UTC), connections=3, uptime_seconds=12.5
)
HEARTBEAT_JSON = b'{"timestamp":"2026-11-21T12:30:00Z","connections":3,"uptime_seconds":12.5}'
ITEM = Item.model_validate(
    {
        "item_id": "item-1",
        "source": "newswire",
        "title": "Apple and Microsoft beat estimates",
        "url": "https://news.example.com/articles/1",
        "tickers": ["AAPL", "MSFT"],
        "sentiment": "positive",
        "score": 0.5,
        "confidence": 0.9,
        "published_at": "2026-11-21T10:00:00Z",
        "ingested_at": datetime(2026, 11, 21, 12, 30, 0, 123456, tzinfo=UTC),
    }
)
ITEM_JSON = (
    b'{"item_id":"item-1","source":"newswire","title":"Apple and Microsoft beat estimates",'
    b'"url":"https://news.example.com/articles/1","tickers":["AAPL","MSFT"],'
    b'"sentiment":"positive","score":0.5,"confidence":0.9,'
    b'"published_at":"2026-11-21T10:00:00Z","ingested_at":"2026-11-21T12:30:00.123456Z"}'
)
METRICS_JSON = (
    b'{"window_hours":24,"tickers":null,"total":7,"positive":4,"neutral":2,"negative":1,'
    b'"average_score":0.25,"by_ticker":{"AAPL":5,"MSFT":2},"others":0,"ranking_exact":true,'
    b'"last_hour":3,"hourly":[],"generated_at":"2026-11-21T12:30:00Z"}'
)
RESYNC = events.Resync(reason="malformed", detail="reload the REST snapshot")
RESYNC_JSON = b'{"reason":"malformed","detail":"reload the REST snapshot"}'


def framed(*sent: ServerSentEvent) -> bytes:
    """The raw body FastAPI sends for a stream route yielding ``sent``."""
    app = FastAPI()

    @app.get("/events", response_class=EventSourceResponse)
    async def stream() -> AsyncIterator[ServerSentEvent]:
        for event in sent:
            yield event

    with TestClient(app) as client:
        response = client.get("/events")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    return response.content


def assert_not_double_wrapped(body: bytes) -> None:
    assert b"data: data:" not in body
    assert b"event: event:" not in body
    for line in body.split(b"\n"):
        if line.startswith(b"data:"):
            assert not line.startswith(b'data: "'), line  # a JSON string: pre-encoded text
            assert isinstance(json.loads(line[len(b"data: ") :]), dict), line


def test_first_heartbeat_bytes() -> None:
    body = framed(events.heartbeat(HEARTBEAT, POSITION, retry=events.RETRY_MS))

    assert body == (
        b"event: heartbeat\ndata: " + HEARTBEAT_JSON + b"\nid: " + TOKEN.encode() + b"\n"
        b"retry: 3000\n\n"
    )
    assert_not_double_wrapped(body)


def test_later_heartbeat_has_no_retry() -> None:
    body = framed(events.heartbeat(HEARTBEAT, BETWEEN))

    assert body == (
        b"event: heartbeat\ndata: " + HEARTBEAT_JSON + b"\nid: " + BETWEEN_TOKEN.encode() + b"\n\n"
    )
    assert b"retry" not in body


def test_metrics_bytes() -> None:
    body = framed(events.metrics(dashboard_metrics(), POSITION))

    assert body == b"event: metrics\ndata: " + METRICS_JSON + b"\nid: " + TOKEN.encode() + b"\n\n"
    assert_not_double_wrapped(body)


def test_metrics_keys_are_the_contract() -> None:
    body = framed(events.metrics(dashboard_metrics(["AAPL"]), POSITION))
    data = json.loads(body.split(b"\n")[1].removeprefix(b"data: "))

    assert set(data) >= {
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
    assert data["tickers"] == ["AAPL"]


def test_new_item_bytes() -> None:
    body = framed(events.new_item(ITEM, POSITION))

    assert body == b"event: new_item\ndata: " + ITEM_JSON + b"\nid: " + TOKEN.encode() + b"\n\n"
    assert_not_double_wrapped(body)


def test_new_item_data_is_the_stored_item_with_ingested_at() -> None:
    body = framed(events.new_item(ITEM, POSITION))
    data = json.loads(body.split(b"\n")[1].removeprefix(b"data: "))

    assert data == json.loads(ITEM.model_dump_json())
    assert Item.model_validate(data) == ITEM
    assert data["ingested_at"] == "2026-11-21T12:30:00.123456Z"
    assert data["tickers"] == ["AAPL", "MSFT"]


@pytest.mark.parametrize("reason", ["malformed", "expired", "replay_limit"])
def test_resync_bytes(reason: str) -> None:
    body = framed(events.resync(events.Resync(reason=reason, detail="reload"), POSITION))  # type: ignore[arg-type]

    expected_data = b'{"reason":"' + reason.encode() + b'","detail":"reload"}'
    assert body == b"event: resync\ndata: " + expected_data + b"\nid: " + TOKEN.encode() + b"\n\n"
    assert_not_double_wrapped(body)


def test_resync_reason_is_one_of_three() -> None:
    with pytest.raises(ValidationError):
        events.Resync(reason="because", detail="x")  # type: ignore[arg-type]


def test_closing_frame_is_a_comment_with_id_and_quick_retry() -> None:
    body = framed(events.closing(POSITION, "lifetime"))

    assert body == b": closing: lifetime\nid: " + TOKEN.encode() + b"\nretry: 250\n\n"
    assert b"data:" not in body
    assert b"event:" not in body


def test_a_whole_stream_is_the_frames_in_order() -> None:
    body = framed(
        events.heartbeat(HEARTBEAT, BETWEEN, retry=events.RETRY_MS),
        events.resync(RESYNC, BETWEEN),
        events.metrics(dashboard_metrics(), BETWEEN),
        events.new_item(ITEM, POSITION),
        events.heartbeat(HEARTBEAT, POSITION),
        events.closing(POSITION, "slow_subscriber"),
    )

    bt, t = BETWEEN_TOKEN.encode(), TOKEN.encode()
    assert body == (
        b"event: heartbeat\ndata: " + HEARTBEAT_JSON + b"\nid: " + bt + b"\nretry: 3000\n\n"
        b"event: resync\ndata: " + RESYNC_JSON + b"\nid: " + bt + b"\n\n"
        b"event: metrics\ndata: " + METRICS_JSON + b"\nid: " + bt + b"\n\n"
        b"event: new_item\ndata: " + ITEM_JSON + b"\nid: " + t + b"\n\n"
        b"event: heartbeat\ndata: " + HEARTBEAT_JSON + b"\nid: " + t + b"\n\n"
        b": closing: slow_subscriber\nid: " + t + b"\nretry: 250\n\n"
    )
    assert_not_double_wrapped(body)
    assert body.count(b"\n\n") == 6


def test_event_objects_carry_models_not_preformatted_strings() -> None:
    sent = [
        events.heartbeat(HEARTBEAT, POSITION, retry=events.RETRY_MS),
        events.metrics(dashboard_metrics(), POSITION),
        events.new_item(ITEM, POSITION),
        events.resync(RESYNC, POSITION),
    ]

    assert [e.event for e in sent] == ["heartbeat", "metrics", "new_item", "resync"]
    for event in sent:
        assert not isinstance(event.data, str | bytes)
        assert event.raw_data is None
        assert event.id == TOKEN
        assert event.comment is None
    assert [e.retry for e in sent] == [3000, None, None, None]
    assert events.closing(POSITION, "lifetime").data is None


def test_an_item_is_encoded_to_json_once_for_every_stream_that_sends_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    item = ITEM.model_copy()
    dumps: list[str] = []
    dump = Item.model_dump_json

    def counting(self: Item, **kwargs: object) -> str:
        dumps.append(self.item_id)
        return dump(self, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Item, "model_dump_json", counting)
    first = events.encode(events.new_item(item, POSITION))
    second = events.encode(events.new_item(item, BETWEEN))

    assert dumps == ["item-1"]
    assert f"data: {ITEM_JSON.decode()}\n".encode() in first
    assert f"data: {ITEM_JSON.decode()}\n".encode() in second
    assert f"id: {TOKEN}\n".encode() in first
    assert f"id: {BETWEEN_TOKEN}\n".encode() in second
