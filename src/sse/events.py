"""The stream's events, built as FastAPI ``ServerSentEvent`` objects (FastAPI does the framing).

Every event's ``id`` is the stream position after it: reconnecting with it as
``Last-Event-ID`` loses nothing (it may repeat a few items; clients dedupe by ``item_id``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi.sse import ServerSentEvent, format_sse_event
from pydantic import BaseModel

from sentiment.models import Item, Metrics
from sentiment.positions import Position

# Sent with the first event: how long a browser waits before reconnecting after an error.
RETRY_MS = 3000
# Sent when the server ends a stream on purpose: come back at once.
CLOSING_RETRY_MS = 250

EventType = Literal["heartbeat", "metrics", "new_item", "resync"]


class Heartbeat(BaseModel):
    timestamp: datetime
    connections: int
    uptime_seconds: float


class Resync(BaseModel):
    reason: Literal["malformed", "expired", "replay_limit"]
    detail: str


def heartbeat(data: Heartbeat, position: Position, retry: int | None = None) -> ServerSentEvent:
    return ServerSentEvent(event="heartbeat", data=data, id=position.encode(), retry=retry)


def metrics(data: Metrics, position: Position) -> ServerSentEvent:
    return ServerSentEvent(event="metrics", data=data, id=position.encode())


def new_item(item: Item, position: Position) -> ServerSentEvent:
    return ServerSentEvent(event="new_item", data=item, id=position.encode())


def resync(data: Resync, position: Position) -> ServerSentEvent:
    return ServerSentEvent(event="resync", data=data, id=position.encode())


def closing(position: Position, reason: str) -> ServerSentEvent:
    """Not an event (no data): it moves the client's last event id and asks for a quick retry."""
    return ServerSentEvent(
        comment=f"closing: {reason}", id=position.encode(), retry=CLOSING_RETRY_MS
    )


def encode(event: ServerSentEvent) -> bytes:
    """The wire bytes of one event, framed by FastAPI's own SSE formatter (data as JSON)."""
    data = event.raw_data
    if data is None and isinstance(event.data, Item):
        data = event.data.json_once()
    elif data is None and isinstance(event.data, BaseModel):
        data = event.data.model_dump_json()
    return format_sse_event(
        data_str=data, event=event.event, id=event.id, retry=event.retry, comment=event.comment
    )
