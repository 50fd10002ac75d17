"""The life of one stream: greet, replay what was missed, go live, close.

A stream never waits on storage. Its replay read and its metrics refreshes run in the
background while the stream waits on everything at once (new items, those reads, the heartbeat,
the metrics timer, its lifetime), so heartbeats go out on schedule whatever DynamoDB does. A
storage error never ends a stream: a failed replay read is retried, a failed metrics refresh
sends the newest good snapshot (or nothing), and the hub's poller catches up when storage
returns. When a stream does end, it ends with its closing event.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from aws_lambda_powertools import Logger
from fastapi.sse import ServerSentEvent

from sentiment.models import Item, Metrics
from sentiment.positions import Position, utc_now
from sse import events
from sse.connections import ConnectionManager, Slot
from sse.hub import POLL_OVERLAP, Hub, ItemSource, item_position
from sse.metrics_cache import MetricsCache
from sse.start import StartPoint
from sse.telemetry import StreamEndReason, StreamTelemetry

T = TypeVar("T")


@dataclass(frozen=True)
class StreamRuntime:
    """The per-process collaborators and settings every stream shares."""

    hub: Hub
    source: ItemSource
    metrics: MetricsCache
    connections: ConnectionManager
    telemetry: StreamTelemetry
    logger: Logger
    heartbeat_interval: float
    metrics_interval: float
    poll_interval: float  # also how long a failed replay read waits before it is retried
    replay_limit: int
    max_stream_seconds: float
    started_at: float
    clock: Callable[[], datetime] = utc_now
    monotonic: Callable[[], float] = time.monotonic  # timers and lifetimes (a fake in tests)

    def uptime(self) -> float:
        return round(self.monotonic() - self.started_at, 3)


@dataclass(frozen=True)
class StreamRequest:
    """What one client asked for."""

    slot: Slot
    start: StartPoint
    end_at: float  # the runtime's monotonic() instant to close by
    tickers: list[str] | None = None
    config_id: str | None = None


def event_stream(runtime: StreamRuntime, request: StreamRequest) -> AsyncIterator[ServerSentEvent]:
    """The stream's events, from the first heartbeat to the closing event."""
    return Stream(runtime, request).events()


def in_background(function: Callable[..., T], *args: Any) -> asyncio.Future[T]:
    """``function(*args)`` in a worker thread, as a future nobody has to await."""
    future = asyncio.ensure_future(asyncio.to_thread(function, *args))
    future.add_done_callback(_retrieve)
    return future


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Mark an abandoned future's exception as seen (its stream may be gone)."""
    if not future.cancelled():
        future.exception()


class Stream:
    """One stream's state: its position (every event's id), what replay sent, the items that
    arrived while it waited, its timers and its pending background reads."""

    def __init__(self, runtime: StreamRuntime, request: StreamRequest) -> None:
        self._runtime = runtime
        self._request = request
        self._subscriber = runtime.hub.subscribe(request.start.position, request.tickers)
        self.position = request.start.position
        self.reason: StreamEndReason = "client_gone"
        self.items_sent = 0
        self.max_lag_ms = 0.0  # the slowest live item's delivery lag
        self._backlog: list[Item] = []  # offered by the hub, not sent yet
        self._replayed: set[str] = set()  # ids the live feed may offer again
        self._replay_ceiling = self.position
        self._missed: tuple[datetime, list[Item]] | None = None  # the replay read's result
        self._read: asyncio.Future[list[Item]] | None = None  # the replay read in flight
        now = self._runtime.monotonic()
        self._next_heartbeat = now + runtime.heartbeat_interval
        self._next_metrics = now  # as soon as the stream is live
        self._metrics: asyncio.Future[Metrics | None] | None = None
        self._log_keys = {
            "connection_id": request.slot.connection_id,
            "config_id": request.config_id,
        }

    async def events(self) -> AsyncIterator[ServerSentEvent]:
        """The whole stream; its ``finally`` is the single place a stream is torn down."""
        opened = self._runtime.monotonic()
        self._runtime.telemetry.stream_opened()
        self._runtime.logger.info(
            "stream opened",
            extra={
                **self._log_keys,
                "resumed": self._request.start.resumed,
                "connections": self._runtime.connections.active,
            },
        )
        try:
            try:
                yield self._sent(self._heartbeat(retry=events.RETRY_MS))
                async for event in self._replay():
                    yield self._sent(event)
                async for event in self._live():
                    yield self._sent(event)
            except Exception:
                self.reason = "error"
                self._runtime.logger.exception("stream failed", extra=self._log_keys)
            yield events.closing(self.position, self.reason)
        finally:
            if self._read is not None:
                self._read.cancel()  # a read still queued for a thread never starts
            self._runtime.hub.unsubscribe(self._subscriber)
            self._request.slot.release()
            self._runtime.logger.info(
                "stream closed",
                extra={
                    **self._log_keys,
                    "reason": self.reason,
                    "duration_seconds": round(self._runtime.monotonic() - opened, 3),
                    "items_delivered": self.items_sent,
                    "max_delivery_lag_ms": round(self.max_lag_ms, 1),
                },
            )
            # Last: with no stream left this flushes, before the response (and on Lambda the
            # invocation) ends.
            self._runtime.telemetry.stream_closed(self.reason)

    # --- phases ----------------------------------------------------------------------------

    async def _replay(self) -> AsyncIterator[ServerSentEvent]:
        """What was missed since ``Last-Event-ID``, oldest first, then a resync if needed."""
        start = self._request.start
        resync_reason = start.resync_reason
        if start.resumed:
            async for beat in self._read_missed():
                yield beat
            if self._missed is None:
                return  # the stream ended before storage answered
            read_at, missed = self._missed
            # Everything up to here was visible when the replay was read.
            settled = Position.at(read_at - POLL_OVERLAP)
            if len(missed) > self._runtime.replay_limit:
                resync_reason = "replay_limit"
                self.position = max(self.position, settled)
            else:
                for item in missed:
                    if self._subscriber.wants(item):
                        self._replayed.add(item.item_id)
                        self._replay_ceiling = max(self._replay_ceiling, item_position(item))
                        # Ids advance through a replay: a client cut off midway resumes there.
                        self.position = max(self.position, min(item_position(item), settled))
                        yield events.new_item(item, self.position)
        if resync_reason:
            detail = "reload the REST snapshot; this stream continues live"
            yield events.resync(events.Resync(reason=resync_reason, detail=detail), self.position)

    async def _read_missed(self) -> AsyncIterator[ServerSentEvent]:
        """Heartbeats until the replay read succeeds, retried while storage fails; then
        ``_missed`` holds when it was read and what it found."""
        runtime, failures = self._runtime, 0
        while not self._ending():
            read_at = runtime.clock()
            read = in_background(runtime.source.after, self.position, runtime.replay_limit + 1)
            self._read = read
            async for beat in self._heartbeats_until(read):
                yield beat
            if not read.done():
                return
            if (error := read.exception()) is None:
                self._missed = (read_at, read.result())
                return
            failures += 1
            if failures == 1:
                extra = {**self._log_keys, "error": repr(error)}
                runtime.logger.warning("replay read failed; retrying", extra=extra)
            async for beat in self._heartbeats_until(
                until=self._runtime.monotonic() + runtime.poll_interval
            ):
                yield beat

    async def _live(self) -> AsyncIterator[ServerSentEvent]:
        """New items, heartbeats and metrics until the lifetime ends or the client leaves."""
        runtime, hub = self._runtime, self._runtime.hub
        while not self._ending():
            self._start_metrics_if_due()
            await self._wait(self._next_metrics, self._metrics)
            if self._subscriber.dropped:
                continue  # the hub stopped offering items: close before the id passes them
            # Safe: everything the hub published up to its watermark is in the backlog now.
            if hub.watermark is not None and hub.watermark > self.position:
                self.position = hub.watermark
            for item in self._backlog:
                if item.item_id not in self._replayed:
                    yield events.new_item(item, self.position)
                    lag = (runtime.clock() - item.ingested_at).total_seconds() * 1000
                    runtime.telemetry.delivery_lag(lag)
                    self.max_lag_ms = max(self.max_lag_ms, lag)
            self._backlog.clear()
            if self._replayed and self.position >= self._replay_ceiling:
                self._replayed.clear()
            if (snapshot := self._metrics_ready()) is not None:
                yield events.metrics(snapshot, self.position)
            if (beat := self._heartbeat_if_due()) is not None:
                yield beat

    # --- waiting ---------------------------------------------------------------------------

    def _ending(self) -> bool:
        """True once the stream must close; says why in ``reason``."""
        if self._subscriber.dropped:
            self.reason = "slow_subscriber"
        elif self._runtime.monotonic() >= self._request.end_at:
            self.reason = "lifetime"
        else:
            return False
        return True

    async def _wait(self, until: float, pending: asyncio.Future[Any] | None = None) -> None:
        """Until ``until``, the next heartbeat, the end of the lifetime, a new item or
        ``pending`` finishing, whichever comes first; at once if there is something to send.
        New items go to the backlog."""
        idle = not self._backlog and (pending is None or not pending.done())
        if idle:
            deadline = min(until, self._next_heartbeat, self._request.end_at)
            await self._subscriber.wait(deadline - self._runtime.monotonic())
        self._backlog.extend(self._subscriber.drain())

    async def _heartbeats_until(
        self, pending: asyncio.Future[Any] | None = None, until: float = math.inf
    ) -> AsyncIterator[ServerSentEvent]:
        """Heartbeats, on schedule, until ``pending`` finishes, ``until`` passes or the stream
        must end. Live items meanwhile wait in the backlog."""
        if pending is not None:
            pending.add_done_callback(self._subscriber.wake)
        while not (pending is not None and pending.done()) and self._runtime.monotonic() < until:
            if self._ending():
                return
            await self._subscriber.wait(
                min(until, self._next_heartbeat, self._request.end_at) - self._runtime.monotonic()
            )
            self._backlog.extend(self._subscriber.drain())
            if (beat := self._heartbeat_if_due()) is not None:
                yield beat

    # --- events ----------------------------------------------------------------------------

    def _heartbeat_if_due(self) -> ServerSentEvent | None:
        now = self._runtime.monotonic()
        if now < self._next_heartbeat:
            return None
        self._next_heartbeat = now + self._runtime.heartbeat_interval
        return self._heartbeat()

    def _heartbeat(self, retry: int | None = None) -> ServerSentEvent:
        runtime = self._runtime
        data = events.Heartbeat(
            timestamp=runtime.clock(),
            connections=runtime.connections.active,
            uptime_seconds=runtime.uptime(),
        )
        return events.heartbeat(data, self.position, retry)

    def _start_metrics_if_due(self) -> None:
        """A refresh in the background when the timer is due; a round is skipped while the
        previous refresh is still running."""
        now = self._runtime.monotonic()
        if now < self._next_metrics:
            return
        self._next_metrics = now + self._runtime.metrics_interval
        if self._metrics is None:
            self._metrics = self._runtime.metrics.refresh(self._request.tickers)
            self._metrics.add_done_callback(self._subscriber.wake)

    def _metrics_ready(self) -> Metrics | None:
        """The finished refresh's metrics, or the newest good snapshot if it failed."""
        if self._metrics is None or not self._metrics.done():
            return None
        fresh, self._metrics = self._metrics.result(), None
        return fresh or self._runtime.metrics.latest(self._request.tickers)

    def _sent(self, event: ServerSentEvent) -> ServerSentEvent:
        self._runtime.telemetry.event_sent(event.event or "comment")
        if event.event == "new_item":
            self.items_sent += 1
        return event
