"""One poller per process, fanned out to every open stream.

The hub polls the time-bucketed index once per interval, whatever the number of streams, and
offers each new item to every subscriber whose start position and ticker filter it matches.
Each subscriber has a bounded buffer; a subscriber that falls that far behind is dropped (its
stream ends and the browser resumes with ``Last-Event-ID``), so one slow client never stalls
the others. The poller starts with the first subscriber and stops with the last.

Reads are at-least-once: each poll re-reads an overlap window, because the index is eventually
consistent and writers' clocks interleave, and the hub drops ids it has already published.

When storage fails the poller backs off and tries again from the last position it read, so when
storage returns every subscriber gets everything stored meanwhile. An outage is logged (and
reported to ``on_outage``, per kind of failure) once when it starts and once when it ends, not
once per poll; ``on_failure`` hears of every failed poll (the ``PollErrors`` metric).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from sentiment.models import Item
from sentiment.positions import Position, utc_now
from sentiment.store.errors import classify

POLL_OVERLAP = timedelta(seconds=2)
DEFAULT_BUFFER = 256
# After a failed poll the poller waits one interval, then two. Not longer: the storage client
# has already backed off between its own attempts, and every stream waits on this loop.
BACKOFF_MAX_INTERVALS = 2


class ItemSource(Protocol):
    def after(self, position: Position, limit: int | None = None) -> list[Item]: ...


def item_position(item: Item) -> Position:
    return Position(item.ingested_at, item.item_id)


class Subscriber:
    """What one stream wants (items after ``start``, optionally only some tickers) and the
    bounded buffer the hub fills for it. Lean on purpose: one exists per open stream."""

    __slots__ = ("_buffer", "_capacity", "_waiter", "dropped", "start", "tickers")

    def __init__(self, start: Position, tickers: Iterable[str] | None, capacity: int) -> None:
        self.start = start
        self.tickers = frozenset(tickers) if tickers is not None else None
        self.dropped = False
        self._capacity = capacity
        self._buffer: list[Item] = []
        self._waiter: asyncio.Future[None] | None = None

    def wants(self, item: Item, position: Position | None = None) -> bool:
        """``position`` is the item's, when the caller has it already (the hub, once per item)."""
        if (position or item_position(item)) <= self.start:
            return False
        return self.tickers is None or not self.tickers.isdisjoint(item.tickers)

    def offer(self, item: Item) -> None:
        """Called by the hub; never blocks. A full buffer drops the subscriber instead."""
        if self.dropped:
            return
        if len(self._buffer) >= self._capacity:
            self.dropped = True
            self._buffer = []
        else:
            self._buffer.append(item)
        if self._waiter is not None:
            _resolve(self._waiter)

    async def wait(self, seconds: float) -> None:
        """Until something was offered (or the subscriber was dropped), at most ``seconds``."""
        if self._buffer or self.dropped or seconds <= 0:
            return
        loop = asyncio.get_running_loop()
        # A bare future and a timer handle: cheaper than an Event plus wait_for's extra task.
        self._waiter = waiter = loop.create_future()
        timer = loop.call_later(seconds, _resolve, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None

    def drain(self) -> list[Item]:
        items, self._buffer = self._buffer, []
        return items

    def wake(self, *_: object) -> None:
        """End a pending :meth:`wait` now (a done-callback for the stream's background reads)."""
        if self._waiter is not None:
            _resolve(self._waiter)


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


@dataclass
class Outage:
    """Consecutive failed polls, from the first failure to the next success."""

    started: float = field(default_factory=time.monotonic)
    failures: int = 0
    kinds: set[str] = field(default_factory=set)


class Hub:
    def __init__(
        self,
        source: ItemSource,
        poll_interval: float,
        logger: Logger,
        *,
        buffer_size: int = DEFAULT_BUFFER,
        on_poll: Callable[[float], None] | None = None,
        on_outage: Callable[[str], None] | None = None,
        on_failure: Callable[[str], None] | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._source = source
        self._poll_interval = poll_interval
        self._logger = logger
        self._buffer_size = buffer_size
        self._on_poll = on_poll or (lambda seconds: None)
        self._on_outage = on_outage or (lambda kind: None)
        self._on_failure = on_failure or (lambda kind: None)
        self._clock = clock
        self._subscribers: set[Subscriber] = set()
        self._task: asyncio.Task[None] | None = None
        # The poller's own thread: it never queues behind other storage reads (replays,
        # metrics) that a sick DynamoDB holds up in the shared pool.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sse-poller")
        self._seen: dict[str, Position] = {}
        self.watermark: Position | None = None
        self.polls = 0
        self.outage: Outage | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def subscribe(self, start: Position, tickers: Iterable[str] | None = None) -> Subscriber:
        subscriber = Subscriber(start, tickers, self._buffer_size)
        self._subscribers.add(subscriber)
        if not self.running:
            self.watermark = None
            self._seen.clear()
            self._task = asyncio.create_task(self._run(), name="sse-hub-poller")
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)
        if not self._subscribers and self._task is not None:
            self._task.cancel()
            self._task = None

    async def close(self) -> None:
        self._subscribers.clear()
        self._thread.shutdown(wait=False, cancel_futures=True)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        since = self._clock() - POLL_OVERLAP
        self.outage = None
        while self._subscribers:
            started = time.monotonic()
            polled_at = self._clock()
            try:
                items = await asyncio.get_running_loop().run_in_executor(
                    self._thread, self._source.after, Position.at(since)
                )
            except Exception as error:
                # Keep polling whatever went wrong, from the same position: every stream depends
                # on this loop, and the next good poll reads everything stored meanwhile.
                failures = self._failed(error)
                await asyncio.sleep(self._backoff(failures))
                continue
            self.polls += 1
            self._recovered()
            self._publish(items)
            # Everything at or before the watermark has now been offered to every subscriber.
            since = polled_at - POLL_OVERLAP
            self.watermark = Position.at(since)
            self._forget_before(self.watermark)
            self._on_poll(time.monotonic() - started)
            await asyncio.sleep(max(self._poll_interval - (time.monotonic() - started), 0))

    def _failed(self, error: Exception) -> int:
        """Record a failed poll; log and report each kind of failure once per outage."""
        outage = self.outage = self.outage or Outage()
        outage.failures += 1
        storage = isinstance(error, ClientError | BotoCoreError)
        kind = classify(error).kind if isinstance(error, ClientError | BotoCoreError) else "error"
        self._on_failure(kind)
        if kind not in outage.kinds:
            outage.kinds.add(kind)
            self._on_outage(kind)
            log = self._logger.warning if storage else self._logger.exception
            log("storage poll failing", extra={"kind": kind, "error": repr(error)})
        return outage.failures

    def _recovered(self) -> None:
        outage, self.outage = self.outage, None
        if outage is not None:
            seconds = round(time.monotonic() - outage.started, 3)
            self._logger.info(
                "storage poll recovered",
                extra={
                    "failures": outage.failures,
                    "outage_seconds": seconds,
                    "kinds": sorted(outage.kinds),
                },
            )

    def _backoff(self, failures: int) -> float:
        """One poll interval, then two, with jitter so pollers do not retry in step."""
        intervals = 1 if failures == 1 else BACKOFF_MAX_INTERVALS
        return self._poll_interval * intervals * random.uniform(0.75, 1.0)  # noqa: S311

    def _publish(self, items: list[Item]) -> None:
        for item in items:
            if item.item_id in self._seen:
                continue
            position = self._seen[item.item_id] = item_position(item)
            for subscriber in self._subscribers:
                if subscriber.wants(item, position):
                    subscriber.offer(item)

    def _forget_before(self, floor: Position) -> None:
        """Ids below the next poll's read floor cannot be read again; stop remembering them."""
        self._seen = {i: p for i, p in self._seen.items() if p > floor}
