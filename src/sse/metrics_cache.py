"""Metrics for streams, computed off the streams' path and shared by all of them.

Each ticker set is computed at most once per TTL, in a worker thread, however many streams ask,
so DynamoDB reads do not grow with the number of connections. Streams never await a refresh:
they start one and carry on, and send its result when it is ready. A refresh that fails keeps
the newest good snapshot (its ``generated_at`` tells its age) for streams to send instead.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from aws_lambda_powertools import Logger

from sentiment.metrics import MetricsService
from sentiment.models import Metrics

WINDOW_HOURS = 24  # the REST default window, so events and /api/v2/metrics agree
DEFAULT_TTL_SECONDS = 1.0
_MAX_ENTRIES = 1024

Key = tuple[str, ...] | None


class MetricsCache:
    def __init__(
        self, service: MetricsService, logger: Logger, ttl: float = DEFAULT_TTL_SECONDS
    ) -> None:
        self._service = service
        self._logger = logger
        self._ttl = ttl
        self._latest: dict[Key, tuple[float, Metrics]] = {}
        self._pending: dict[Key, asyncio.Future[Metrics | None]] = {}
        self._failing = False

    def refresh(self, tickers: Sequence[str] | None = None) -> asyncio.Future[Metrics | None]:
        """Fresh metrics for ``tickers``: done already when the newest snapshot is younger
        than the TTL, else the one refresh in flight for them. Resolves to None on failure."""
        key: Key = tuple(tickers) if tickers is not None else None
        cached = self._latest.get(key)
        if cached and time.monotonic() - cached[0] < self._ttl:
            done: asyncio.Future[Metrics | None] = asyncio.get_running_loop().create_future()
            done.set_result(cached[1])
            return done
        pending = self._pending.get(key)
        if pending is None:
            pending = self._pending[key] = asyncio.ensure_future(self._compute(key))
            pending.add_done_callback(lambda _: self._pending.pop(key, None))
        return pending

    def latest(self, tickers: Sequence[str] | None = None) -> Metrics | None:
        """The newest good snapshot for ``tickers``, however old, or None if there is none."""
        cached = self._latest.get(tuple(tickers) if tickers is not None else None)
        return cached[1] if cached else None

    async def _compute(self, key: Key) -> Metrics | None:
        tickers = list(key) if key is not None else None
        try:
            value = await asyncio.to_thread(self._service.compute, WINDOW_HOURS, tickers)
        except Exception:
            if not self._failing:  # once per outage, not once per refresh
                self._logger.exception("metrics refresh failed; streams send the last snapshot")
            self._failing = True
            return None
        if self._failing:
            self._logger.info("metrics refresh recovered")
            self._failing = False
        if len(self._latest) >= _MAX_ENTRIES:
            self._latest.clear()
        self._latest[key] = (time.monotonic(), value)
        return value
