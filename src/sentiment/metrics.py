"""Dashboard metrics from counter rows: a bounded number of reads and a bounded payload, whatever
the number of items or tickers.

Everything: the aggregate rows of each hour and slot, and the tickers ranked from each hour's
most mentioned (the ``by_rank`` index). A watch list: exactly its tickers' rows.
docs/architecture.md ("Counters and hot keys") says what the ranking guarantees.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sentiment.models import SENTIMENTS, TOP_TICKERS, HourlyCount, Metrics
from sentiment.positions import hour_bucket, hour_start, utc_now
from sentiment.store.counters import (
    RANK_SHARDS,
    SLOT_MINUTES,
    CounterStore,
    Counts,
    RankList,
    hour_counter_id,
    shard_of,
    slot_counter_id,
)

MAX_WINDOW_HOURS = 168
# Tickers read per hour and rank shard: 8 x 25 = the 200 most mentioned of each hour, at least.
RANK_DEPTH = 25
_SLOTS_PER_HOUR = 60 // SLOT_MINUTES


@dataclass(frozen=True)
class HourRanks:
    """What one hour says about tickers: exact counts of rows from before ticker rows
    (``legacy``), and per rank shard the most mentioned tickers since (``lists``)."""

    legacy: Mapping[str, int]
    lists: Sequence[RankList]

    def bounds(self, ticker: str) -> tuple[int, int]:
        """The fewest and the most mentions ``ticker`` can have had in this hour."""
        known = self.legacy.get(ticker, 0)
        if not self.lists:
            return known, known
        shard = self.lists[shard_of(ticker, RANK_SHARDS)]
        if ticker in shard.counts:
            return known + shard.counts[ticker], known + shard.counts[ticker]
        return known, known + shard.bound


@dataclass(frozen=True)
class Ranking:
    by_ticker: dict[str, int]
    exact: bool


def rank(hours: Sequence[HourRanks], top: int) -> Ranking:
    """The ``top`` tickers by mentions over ``hours``, each with the mentions known for it.

    Exact when every listed count is complete and no ticker left out can have more mentions
    than the last one listed (a tie at the last place may be broken either way)."""
    candidates = {t for hour in hours for t in hour.legacy} | {
        t for hour in hours for shard in hour.lists for t in shard.counts
    }
    low: dict[str, int] = {}
    high: dict[str, int] = {}
    for ticker in candidates:
        spans = [hour.bounds(ticker) for hour in hours]
        low[ticker] = sum(a for a, _ in spans)
        high[ticker] = sum(b for _, b in spans)
    listed = sorted(candidates, key=lambda t: (-low[t], t))[:top]
    # A ticker in no list at all has at most the sum of its shard's bounds.
    unseen = max(
        (sum(hour.lists[s].bound for hour in hours if hour.lists) for s in range(RANK_SHARDS)),
        default=0,
    )
    left_out = max([high[t] for t in candidates.difference(listed)] + [unseen])
    floor = low[listed[-1]] if len(listed) == top else 0
    exact = all(low[t] == high[t] for t in listed) and left_out <= floor
    if len(listed) < top:
        exact = exact and left_out == 0
    return Ranking({t: low[t] for t in listed}, exact)


class MetricsService:
    """Computes :class:`Metrics` for the last ``hours`` UTC hours, optionally for some tickers.

    The window is whole hours: the current hour and the ``hours - 1`` before it. With a ticker
    filter, counts are ticker mentions (an item naming two watched tickers counts twice).
    """

    def __init__(
        self,
        counters: CounterStore,
        clock: Callable[[], datetime] = utc_now,
        *,
        top: int = TOP_TICKERS,
        rank_depth: int = RANK_DEPTH,
    ) -> None:
        self._counters = counters
        self._clock = clock
        self._top = top
        self._rank_depth = rank_depth

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
        counts = self._counters.periods(hour_ids + slot_ids, tickers)
        hour_counts = [counts[counter_id] for counter_id in hour_ids]

        hourly = [
            HourlyCount(hour=moment, total=c.total, **{s: c.count(s) for s in SENTIMENTS})
            for moment, c in zip(hour_starts, hour_counts, strict=True)
        ]
        total = sum(h.total for h in hourly)
        score_sum = sum((c.score_sum for c in hour_counts), Decimal(0))
        if tickers is not None:
            ranking = Ranking({t: sum(c.by_ticker[t] for c in hour_counts) for t in tickers}, True)
        else:
            ranking = self._rank(hour_starts, hour_counts)
        mentions = sum(c.mentions for c in hour_counts)

        return Metrics(
            window_hours=hours,
            tickers=tickers,
            total=total,
            positive=sum(h.positive for h in hourly),
            neutral=sum(h.neutral for h in hourly),
            negative=sum(h.negative for h in hourly),
            average_score=round(float(score_sum / total), 4) if total else 0.0,
            by_ticker=dict(sorted(ranking.by_ticker.items(), key=lambda kv: (-kv[1], kv[0]))),
            others=mentions - sum(ranking.by_ticker.values()),
            ranking_exact=ranking.exact,
            last_hour=sum(counts[counter_id].total for counter_id in slot_ids),
            hourly=hourly,
            generated_at=now,
        )

    def _rank(self, hour_starts: list[datetime], hour_counts: list[Counts]) -> Ranking:
        """Ranks over each hour's lists; only hours with mentions in ticker rows are queried."""
        hours = []
        for moment, counts in zip(hour_starts, hour_counts, strict=True):
            legacy = counts.by_ticker
            in_rows = counts.mentions - sum(legacy.values())
            lists = self._counters.top(hour_bucket(moment), self._rank_depth) if in_rows else []
            hours.append(HourRanks(legacy, lists))
        return rank(hours, self._top)
