"""Fakes and builders for the SSE unit tests: an in-memory item source, a fake metrics
service, a log capture, a stream consumer, and a factory for a whole :class:`StreamRuntime`."""

from __future__ import annotations

import asyncio
import io
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError, EndpointConnectionError
from fastapi.sse import ServerSentEvent

from sentiment.models import Item
from sentiment.models import Metrics as DashboardMetrics
from sentiment.positions import Position, utc_now
from sse.connections import ConnectionManager
from sse.hub import Hub, item_position
from sse.metrics_cache import MetricsCache
from sse.start import StartPoint
from sse.stream import StreamRequest, StreamRuntime, event_stream
from sse.telemetry import EmfWriter, StreamTelemetry
from tests.utils.factories import item_payload

# Generous limits that only stop a broken test from hanging; never speed assertions.
TIMEOUT = 5.0
POLL = 0.02


def make_item(ingested_at: datetime | None = None, **overrides: Any) -> Item:
    """A stored item (what the store's ``after`` returns), ingested at ``ingested_at``."""
    payload = item_payload(**overrides)
    payload["ingested_at"] = ingested_at or utc_now()
    return Item.model_validate(payload)


class FakeSource:
    """An :class:`sse.hub.ItemSource` over a list, recording every call (thread-safe: the
    hub and the stream call it through ``asyncio.to_thread``)."""

    def __init__(self, items: Iterable[Item] = ()) -> None:
        self._lock = threading.Lock()
        self._items: list[Item] = list(items)
        self.calls: list[tuple[Position, int | None]] = []
        # Raised, in order, by the next calls (one each).
        self.failures: list[BaseException] = []
        # Raised by every call that passes a limit (the stream's replay; the hub never does).
        self.replay_error: BaseException | None = None

    def add(self, *items: Item) -> None:
        with self._lock:
            self._items.extend(items)

    @property
    def call_count(self) -> int:
        with self._lock:
            return len(self.calls)

    def after(self, position: Position, limit: int | None = None) -> list[Item]:
        with self._lock:
            self.calls.append((position, limit))
            if self.failures:
                raise self.failures.pop(0)
            if limit is not None and self.replay_error is not None:
                raise self.replay_error
            found = sorted(
                (item for item in self._items if item_position(item) > position),
                key=item_position,
            )
        return found if limit is None else found[:limit]


def throttled() -> ClientError:
    """What botocore raises when DynamoDB still throttles after its retries."""
    error = {"Code": "ThrottlingException", "Message": "Rate of requests exceeds the allowed"}
    return ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}}, "Query")


def refused() -> EndpointConnectionError:
    return EndpointConnectionError(endpoint_url="http://127.0.0.1:1")


def dashboard_metrics(tickers: list[str] | None = None, total: int = 7) -> DashboardMetrics:
    return DashboardMetrics(
        window_hours=24,
        tickers=tickers,
        total=total,
        positive=4,
        neutral=2,
        negative=1,
        average_score=0.25,
        by_ticker={"AAPL": 5, "MSFT": 2},
        others=0,
        ranking_exact=True,
        last_hour=3,
        hourly=[],
        generated_at=datetime(2026, 11, 21, 12, 30, tzinfo=UTC),
    )


class FakeMetricsService:
    """Stands in for :class:`sentiment.metrics.MetricsService`."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, list[str] | None]] = []
        self.open = threading.Event()  # clear it to stall every compute until it is set again
        self.open.set()
        self.failures: list[BaseException] = []  # raised, in order, by the next computes
        self.total = 7

    def compute(self, hours: int = 24, tickers: list[str] | None = None) -> DashboardMetrics:
        self.calls.append((hours, tickers))
        self.open.wait(TIMEOUT)
        if self.failures:
            raise self.failures.pop(0)
        return dashboard_metrics(tickers, self.total)


class LogCapture:
    """A Powertools Logger writing JSON lines into memory."""

    def __init__(self) -> None:
        self.stream = io.StringIO()
        # A unique service name: Powertools configures each named logger only once.
        self.logger = Logger(service=f"sse-test-{uuid.uuid4().hex[:8]}", stream=self.stream)

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines() if line]

    def messages(self, message: str) -> list[dict[str, Any]]:
        return [r for r in self.records() if r.get("message") == message]


@dataclass
class Harness:
    source: FakeSource
    replay_source: FakeSource
    hub: Hub
    metrics_service: FakeMetricsService
    connections: ConnectionManager
    telemetry: StreamTelemetry
    logs: LogCapture
    runtime: StreamRuntime

    def request(
        self,
        start: StartPoint | None = None,
        *,
        end_in: float = 60.0,
        tickers: list[str] | None = None,
        config_id: str | None = None,
    ) -> StreamRequest:
        """A stream request holding a fresh slot (fails the test if none is free)."""
        slot = self.connections.try_acquire()
        assert slot is not None, "no free connection slot"
        return StreamRequest(
            slot=slot,
            start=start or StartPoint(Position.at(self.runtime.clock())),
            end_at=self.runtime.monotonic() + end_in,
            tickers=tickers,
            config_id=config_id,
        )

    def stream(self, request: StreamRequest) -> AsyncIterator[ServerSentEvent]:
        return event_stream(self.runtime, request)


@pytest.fixture
async def make_harness() -> AsyncIterator[Callable[..., Harness]]:
    hubs: list[Hub] = []

    def build(
        *,
        poll_interval: float = POLL,
        heartbeat_interval: float = 30.0,
        metrics_interval: float = 30.0,
        replay_limit: int = 50,
        buffer_size: int = 256,
        max_connections: int = 10,
        clock: Callable[[], datetime] = utc_now,
        separate_replay_source: bool = False,
        metrics_ttl: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> Harness:
        source = FakeSource()
        replay_source = FakeSource() if separate_replay_source else source
        logs = LogCapture()
        telemetry = StreamTelemetry(EmfWriter("Test", {"service": "sse", "environment": "test"}))
        hub = Hub(
            source,
            poll_interval,
            logs.logger,
            buffer_size=buffer_size,
            on_poll=telemetry.poll_duration,
        )
        hubs.append(hub)
        metrics_service = FakeMetricsService()
        connections = ConnectionManager(max_connections)
        runtime = StreamRuntime(
            hub=hub,
            source=replay_source,
            metrics=MetricsCache(metrics_service, logs.logger, metrics_ttl),  # type: ignore[arg-type]
            connections=connections,
            telemetry=telemetry,
            logger=logs.logger,
            heartbeat_interval=heartbeat_interval,
            metrics_interval=metrics_interval,
            poll_interval=poll_interval,
            replay_limit=replay_limit,
            max_stream_seconds=840.0,
            started_at=monotonic(),
            clock=clock,
            monotonic=monotonic,
        )
        return Harness(
            source, replay_source, hub, metrics_service, connections, telemetry, logs, runtime
        )

    yield build
    for hub in hubs:
        await hub.close()


def events_counted(harness: Harness, capsys: pytest.CaptureFixture[str]) -> dict[str, int]:
    """Events sent by type, as the harness's telemetry wrote them (EventsSent by EventType) in
    this test's output so far, after a last flush."""
    harness.telemetry.flush()
    counted: dict[str, int] = {}
    for line in capsys.readouterr().out.splitlines():
        document = json.loads(line) if line.startswith('{"_aws"') else {}
        if "EventsSent" in document:
            kind = document["EventType"]
            counted[kind] = counted.get(kind, 0) + int(sum(document["EventsSent"]))
    return counted


class StreamEnded(Exception):
    """The generator finished (or raised) while a test waited for another event."""


@dataclass
class Consumer:
    """Iterates a stream in a background task, so tests can wait for events with a timeout
    without cancelling the generator itself."""

    gen: AsyncIterator[ServerSentEvent]
    events: list[ServerSentEvent] = field(default_factory=list)
    error: BaseException | None = None
    finished: bool = False

    def __post_init__(self) -> None:
        self._queue: asyncio.Queue[ServerSentEvent | None] = asyncio.Queue()
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            async for event in self.gen:
                self.events.append(event)
                self._queue.put_nowait(event)
        except Exception as error:
            self.error = error
        finally:
            self.finished = True
            self._queue.put_nowait(None)

    async def next(self, within: float = TIMEOUT) -> ServerSentEvent:
        async with asyncio.timeout(within):
            event = await self._queue.get()
        if event is None:
            raise StreamEnded(repr(self.error))
        return event

    async def take(self, count: int, within: float = TIMEOUT) -> list[ServerSentEvent]:
        return [await self.next(within) for _ in range(count)]

    async def next_of(self, event_type: str, within: float = TIMEOUT) -> ServerSentEvent:
        async with asyncio.timeout(within):
            while (event := await self.next()).event != event_type:
                pass
        return event

    def pending(self) -> list[ServerSentEvent]:
        """Events received but not yet taken with :meth:`next`."""
        events = []
        while not self._queue.empty():
            event = self._queue.get_nowait()
            if event is not None:
                events.append(event)
        return events

    async def wait_finished(self, within: float = TIMEOUT) -> None:
        async with asyncio.timeout(within):
            await asyncio.shield(self.task)

    async def cancel(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def wait_until(predicate: Callable[[], bool], within: float = TIMEOUT) -> None:
    """Polls ``predicate`` until it holds; fails the test after ``within`` seconds."""
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 - state changed by other tasks and threads
            await asyncio.sleep(0.005)


async def wait_polls(hub: Hub, count: int, within: float = TIMEOUT) -> None:
    """Until the hub has completed ``count`` more successful polls."""
    target = hub.polls + count
    await wait_until(lambda: hub.polls >= target, within)


def ago(seconds: float) -> datetime:
    return utc_now() - timedelta(seconds=seconds)
