"""Dashboard metrics from counter rows: a fixed number of reads whatever the item count."""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

from sentiment.models import SENTIMENTS, HourlyCount, Metrics
from sentiment.positions import hour_start, utc_now
from sentiment.store.counters import (
    SLOT_MINUTES,
    CounterStore,
    hour_counter_id,
    slot_counter_id,
)

MAX_WINDOW_HOURS = 168
_SLOTS_PER_HOUR = 60 // SLOT_MINUTES


class MetricsService:
    """Computes :class:`Metrics` for the last ``hours`` UTC hours, optionally for some tickers.

    The window is whole hours: the current hour and the ``hours - 1`` before it. With a ticker
    filter, counts are ticker mentions (an item naming two watched tickers counts twice).
    """

    def __init__(self, counters: CounterStore, clock: Callable[[], datetime] = utc_now) -> None:
        self._counters = counters
        self._clock = clock

    def compute(self, hours: int = 24, tickers: list[str] | None = None) -> Metrics:
        if not 1 <= hours <= MAX_WINDOW_HOURS:
            raise ValueError(f"hours must be between 1 and {MAX_WINDOW_HOURS}")
        now = self._clock()
        hour_starts = [hour_start(now) - timedelta(hours=h) for h in reversed(range(hours))]
        hour_ids = [hour_counter_id(moment) for moment in hour_starts]
        slot_ids = [
            slot_counter_id(now - timedelta(minutes=SLOT_MINUTES * i))
            for i in range(_SLOTS_PER_HOUR)
        ]
        rows = self._counters.read(hour_ids + slot_ids)
        hour_rows = [rows[counter_id] for counter_id in hour_ids]

        hourly = [
            HourlyCount(
                hour=moment,
                total=row.count(tickers=tickers),
                **{s: row.count(s, tickers=tickers) for s in SENTIMENTS},
            )
            for moment, row in zip(hour_starts, hour_rows, strict=True)
        ]
        total = sum(h.total for h in hourly)
        score_sum = sum((row.score_sum(tickers) for row in hour_rows), Decimal(0))

        by_ticker: Tally[str] = Tally()
        for row in hour_rows:
            for ticker in tickers if tickers is not None else row.tickers():
                by_ticker[ticker] += row.count(tickers=[ticker])
        if tickers is not None:
            by_ticker.update(dict.fromkeys(tickers, 0))  # watched tickers show even at zero

        return Metrics(
            window_hours=hours,
            tickers=tickers,
            total=total,
            positive=sum(h.positive for h in hourly),
            neutral=sum(h.neutral for h in hourly),
            negative=sum(h.negative for h in hourly),
            average_score=round(float(score_sum / total), 4) if total else 0.0,
            by_ticker=dict(sorted(by_ticker.items(), key=lambda kv: (-kv[1], kv[0]))),
            last_hour=sum(rows[counter_id].count(tickers=tickers) for counter_id in slot_ids),
            hourly=hourly,
            generated_at=now,
        )
