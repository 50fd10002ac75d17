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
# Tickers read per hour and rank shard: first 8 (8 x 8 = the 64 most mentioned of each hour, at
# least), then, only where that cannot prove the ranking, twice as many per round up to 64.
RANK_DEPTH = 8
MAX_RANK_DEPTH = 64
_SLOTS_PER_HOUR = 60 // SLOT_MINUTES


@dataclass(frozen=True)
class HourRanks:
    """What one hour says about tickers: exact counts of rows from before ticker rows
    (``legacy``), and per rank shard the most mentioned tickers since (``lists``)."""

    legacy: Mapping[str, int]
    lists: list[RankList]

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
    unsure: frozenset[int] = frozenset()  # rank shards whose longer lists could settle it


def rank(hours: Sequence[HourRanks], top: int) -> Ranking:
    """The ``top`` tickers by mentions over ``hours``, each with the mentions known for it.

    Exact when every listed count is complete and no ticker left out can have more mentions
    than the last one listed (a tie at the last place may be broken either way). Otherwise
    ``unsure`` names the rank shards in the way."""
    hours = [hour for hour in hours if hour.lists or hour.legacy]  # the others add nothing
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
    floor = low[listed[-1]] if len(listed) == top else 0
    unsure = {shard_of(t, RANK_SHARDS) for t in listed if low[t] != high[t]}
    unsure |= {shard_of(t, RANK_SHARDS) for t in candidates.difference(listed) if high[t] > floor}
    # A ticker in no list at all has at most the sum of its shard's bounds.
    for shard in range(RANK_SHARDS):
        if sum(hour.lists[shard].bound for hour in hours if hour.lists) > floor:
            unsure.add(shard)
    return Ranking({t: low[t] for t in listed}, not unsure, frozenset(unsure))


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
        max_rank_depth: int = MAX_RANK_DEPTH,
    ) -> None:
        self._counters = counters
        self._clock = clock
        self._top = top
        self._rank_depth = rank_depth
        self._max_rank_depth = max(rank_depth, max_rank_depth)

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
        """Ranks over each hour's lists, read a little at first and further only where the
        ranking cannot be proven yet. Only hours with mentions in ticker rows are queried."""
        buckets, hours = [], []
        for moment, counts in zip(hour_starts, hour_counts, strict=True):
            legacy = counts.by_ticker
            in_rows = counts.mentions - sum(legacy.values())
            lists = self._counters.top(hour_bucket(moment), self._rank_depth) if in_rows else []
            buckets.append(hour_bucket(moment))
            hours.append(HourRanks(legacy, lists))
        while True:
            ranking = rank(hours, self._top)
            grew = False
            for bucket, hour in zip(buckets, hours, strict=True):
                for shard in sorted(ranking.unsure):
                    if hour.lists and _can_grow(hour.lists[shard], self._max_rank_depth):
                        read = len(hour.lists[shard].counts)
                        more = max(1, min(read, self._max_rank_depth - read))
                        self._counters.deeper(bucket, hour.lists, shard, more)
                        grew = True
            if not grew:
                return ranking


def _can_grow(ranks: RankList, most: int) -> bool:
    return not ranks.complete and len(ranks.counts) < most
