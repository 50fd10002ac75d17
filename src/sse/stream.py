"""The life of one stream: greet, replay what was missed, then wait on everything at once
(new items, heartbeat timer, metrics timer, lifetime) until the client leaves or time is up."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime

from aws_lambda_powertools import Logger
from fastapi.sse import ServerSentEvent

from sentiment.positions import Position, utc_now
from sse import events
from sse.connections import ConnectionManager, Slot
from sse.cursor import StartPoint
from sse.hub import POLL_OVERLAP, Hub, ItemSource, item_position
from sse.metrics_cache import MetricsCache
from sse.telemetry import StreamTelemetry


@dataclass(frozen=True)
class StreamRuntime:
    """The per-process collaborators every stream shares."""

    hub: Hub
    source: ItemSource
    metrics: MetricsCache
    connections: ConnectionManager
    telemetry: StreamTelemetry
    logger: Logger
    heartbeat_interval: float
    metrics_interval: float
    replay_limit: int
    started_at: float
    clock: Callable[[], datetime] = utc_now

    def uptime(self) -> float:
        return round(time.monotonic() - self.started_at, 3)


@dataclass(frozen=True)
class StreamRequest:
    """What one client asked for."""

    slot: Slot
    start: StartPoint
    end_at: float  # time.monotonic() instant to close by
    tickers: list[str] | None = None
    config_id: str | None = None


async def event_stream(
    runtime: StreamRuntime, request: StreamRequest
) -> AsyncIterator[ServerSentEvent]:
    """Yields the stream's events; its ``finally`` is the single place a stream is torn down."""
    hub, telemetry = runtime.hub, runtime.telemetry
    subscriber = hub.subscribe(request.start.position, request.tickers)
    position = request.start.position
    # Ids replayed from DynamoDB that the live feed may offer again, until the hub's
    # watermark passes the newest of them.
    replayed: set[str] = set()
    replay_ceiling = position
    opened = time.monotonic()
    reason = "client_gone"
    log_keys = {"connection_id": request.slot.connection_id, "config_id": request.config_id}
    telemetry.stream_opened()
    runtime.logger.info(
        "stream opened",
        extra={
            **log_keys,
            "resumed": request.start.resumed,
            "connections": runtime.connections.active,
        },
    )

    def sent(event: ServerSentEvent) -> ServerSentEvent:
        telemetry.event_sent(event.event or "comment")
        return event

    def heartbeat(retry: int | None = None) -> ServerSentEvent:
        data = events.Heartbeat(
            timestamp=runtime.clock(),
            connections=runtime.connections.active,
            uptime_seconds=runtime.uptime(),
        )
        return sent(events.heartbeat(data, position, retry))

    async def metrics() -> ServerSentEvent:
        return sent(events.metrics(await runtime.metrics.get(request.tickers), position))

    try:
        yield heartbeat(retry=events.RETRY_MS)
        resync_reason = request.start.resync_reason
        if request.start.resumed:
            read_at = runtime.clock()
            replay = await asyncio.to_thread(
                runtime.source.after, position, runtime.replay_limit + 1
            )
            # Everything up to here was visible when the replay was read.
            settled = Position.at(read_at - POLL_OVERLAP)
            if len(replay) > runtime.replay_limit:
                resync_reason = "replay_limit"
                position = max(position, settled)
            else:
                for item in replay:
                    if subscriber.wants(item):
                        replayed.add(item.item_id)
                        replay_ceiling = max(replay_ceiling, item_position(item))
                        # Ids advance through a replay: a client cut off midway resumes there.
                        position = max(position, min(item_position(item), settled))
                        yield sent(events.new_item(item, position))
        if resync_reason:
            detail = "reload the REST snapshot; this stream continues live"
            yield sent(events.resync(events.Resync(reason=resync_reason, detail=detail), position))
        yield await metrics()

        now = time.monotonic()
        next_heartbeat = now + runtime.heartbeat_interval
        next_metrics = now + runtime.metrics_interval
        while True:
            now = time.monotonic()
            if now >= request.end_at:
                reason = "lifetime"
                break
            await subscriber.wait(min(next_heartbeat, next_metrics, request.end_at) - now)
            items = subscriber.drain()
            if subscriber.dropped:
                reason = "slow_subscriber"
                break
            # Safe: everything the hub published up to its watermark has just been drained.
            if hub.watermark is not None and hub.watermark > position:
                position = hub.watermark
            for item in items:
                if item.item_id in replayed:
                    continue
                yield sent(events.new_item(item, position))
                telemetry.delivery_lag((runtime.clock() - item.ingested_at).total_seconds() * 1000)
            if replayed and position >= replay_ceiling:
                replayed.clear()
            now = time.monotonic()
            if now >= next_heartbeat:
                yield heartbeat()
                next_heartbeat = now + runtime.heartbeat_interval
            if now >= next_metrics:
                yield await metrics()
                next_metrics = now + runtime.metrics_interval
        yield events.closing(position, reason)
    except Exception:
        reason = "error"
        runtime.logger.exception("stream failed", extra=log_keys)
        raise
    finally:
        hub.unsubscribe(subscriber)
        request.slot.release()
        runtime.logger.info(
            "stream closed",
            extra={
                **log_keys,
                "reason": reason,
                "duration_seconds": round(time.monotonic() - opened, 3),
            },
        )
