"""Metrics for streams, computed at most once per TTL per ticker set and shared by all streams,
so DynamoDB reads do not grow with the number of connections."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from sentiment.metrics import MetricsService
from sentiment.models import Metrics

WINDOW_HOURS = 24  # the REST default window, so events and /api/v2/metrics agree
DEFAULT_TTL_SECONDS = 1.0
_MAX_ENTRIES = 1024

Key = tuple[str, ...] | None


class MetricsCache:
    def __init__(self, service: MetricsService, ttl: float = DEFAULT_TTL_SECONDS) -> None:
        self._service = service
        self._ttl = ttl
        self._fresh: dict[Key, tuple[float, Metrics]] = {}
        self._pending: dict[Key, asyncio.Future[Metrics]] = {}

    async def get(self, tickers: Sequence[str] | None = None) -> Metrics:
        key: Key = tuple(tickers) if tickers is not None else None
        cached = self._fresh.get(key)
        if cached and time.monotonic() - cached[0] < self._ttl:
            return cached[1]
        pending = self._pending.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._compute(key))
            self._pending[key] = pending
            pending.add_done_callback(lambda _: self._pending.pop(key, None))
        # Shielded: one stream going away must not cancel a computation others wait for.
        return await asyncio.shield(pending)

    async def _compute(self, key: Key) -> Metrics:
        tickers = list(key) if key is not None else None
        value = await asyncio.to_thread(self._service.compute, WINDOW_HOURS, tickers)
        if len(self._fresh) >= _MAX_ENTRIES:
            self._fresh.clear()
        self._fresh[key] = (time.monotonic(), value)
        return value
