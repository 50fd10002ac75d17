"""Pre-aggregated counters, so metrics cost the same however many items and tickers are stored.

Every item adds to its counter rows in the same transaction as its first write. A period is a
UTC hour (``h#2026-11-21T13``: the metrics window and chart) or a five-minute slot
(``m#2026-11-21T13:05``: the rolling "last hour"). Each period has:

- aggregate rows, spread over :data:`AGGREGATE_SHARDS` rows by item id so no single row takes
  every write (shard 0 is the period id itself, shard k is ``{period}#s{k}``): ``total``, one
  per sentiment, ``score_sum`` and ``mentions`` (ticker mentions);
- one row per ticker, ``{period}#t#{TICKER}``: ``total`` (mentions of that ticker), one per
  sentiment, ``score_sum``. Hour rows also carry ``rank_key`` (``{hour}#r{j}``, j from the
  ticker), which puts them in the sparse ``by_rank`` index: per hour and rank shard, tickers by
  ``total``, so the most mentioned tickers of an hour are a Query away.

An item naming ten tickers is 1 put + 2 aggregate + 20 ticker updates: 23 actions, well within a
transaction's 100. No row grows with the number of tickers.

Rows written before this layout (``h#{hour}`` and ``m#{slot}`` with ``t:{TICKER}:{field}``
attributes for every ticker) are read as shard 0, their ``t:`` attributes as that period's
per-ticker counts; they expire within 8 days (hours) and 3 hours (slots) of their period.
docs/architecture.md ("Counters and hot keys") has the arithmetic.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sentiment.models import SENTIMENTS, ItemIn
from sentiment.positions import hour_bucket, utc_now
from sentiment.store.expressions import name_aliases, value_placeholders
from sentiment.store.tables import BY_RANK_INDEX, COUNTERS, EXPIRES_AT, RANK_KEY, RANK_TOTAL

SLOT_MINUTES = 5
HOUR_COUNTER_TTL = timedelta(days=8)  # the longest metrics window is 7 days
SLOT_COUNTER_TTL = timedelta(hours=3)
# Rows per period taking the aggregate writes: a transactional update costs 2 WCU and a row
# sustains ~1,000 WCU/s, so each shard takes ~500 items/s.
AGGREGATE_SHARDS = 4
# Rank-index keys per hour: every mention rewrites its ticker's ``total``, a key attribute of
# the index (2 index writes), so each key takes ~500 mentions/s.
RANK_SHARDS = 8
# A period is settled (nothing writes to it any more) this long after it ends: writers stamp
# items with their own clock and a transaction can take a while with retries.
SETTLE_AFTER = timedelta(minutes=5)
_BATCH_GET_LIMIT = 100
_SETTLED_CACHE_ROWS = 20_000
_COUNT_FIELDS = ("total", *SENTIMENTS, "score_sum")


def shard_of(text: str, shards: int) -> int:
    """A stable shard number for ``text`` (item ids, tickers): the same in every process."""
    return zlib.crc32(text.encode()) % shards


def hour_counter_id(moment: datetime) -> str:
    return bucket_counter_id(hour_bucket(moment))


def bucket_counter_id(bucket: str) -> str:
    """The hour period of an index bucket (both are the item's UTC hour)."""
    return f"h#{bucket}"


def slot_start(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return moment.replace(
        minute=moment.minute - moment.minute % SLOT_MINUTES, second=0, microsecond=0
    )


def slot_counter_id(moment: datetime) -> str:
    return f"m#{slot_start(moment).strftime('%Y-%m-%dT%H:%M')}"


def aggregate_id(period: str, shard: int) -> str:
    """Shard 0 keeps the period's own id: rows written before sharding read as shard 0."""
    return period if shard == 0 else f"{period}#s{shard}"


def aggregate_ids(period: str) -> list[str]:
    return [aggregate_id(period, shard) for shard in range(AGGREGATE_SHARDS)]


def ticker_counter_id(period: str, ticker: str) -> str:
    return f"{period}#t#{ticker}"


def rank_key(bucket: str, shard: int) -> str:
    return f"{bucket}#r{shard}"


def ticker_rank_key(bucket: str, ticker: str) -> str:
    return rank_key(bucket, shard_of(ticker, RANK_SHARDS))


def period_end(period: str) -> datetime:
    """When an hour (``h#...``) or slot (``m#...``) period ends."""
    kind, _, stamp = period.partition("#")
    if kind == "h":
        start = datetime.strptime(stamp[:13], "%Y-%m-%dT%H")
        return start.replace(tzinfo=UTC) + timedelta(hours=1)
    start = datetime.strptime(stamp[:16], "%Y-%m-%dT%H:%M")
    return start.replace(tzinfo=UTC) + timedelta(minutes=SLOT_MINUTES)


def legacy_attribute(ticker: str, field: str) -> str:
    """A per-ticker attribute of a row written before the per-ticker rows existed."""
    return f"t:{ticker}:{field}"


# --- writes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CounterUpdate:
    """What one item adds to one counter row, and the row's fixed attributes."""

    counter_id: str
    increments: Mapping[str, Decimal]
    expires: int
    fixed: Mapping[str, str] = field(default_factory=dict)

    def request(self) -> dict[str, Any]:
        """``UpdateItem`` arguments (resource-client style)."""
        names = name_aliases(self.increments, "a") | name_aliases(self.fixed, "f")
        values = value_placeholders(self.increments.values(), "v")
        values |= value_placeholders(self.fixed.values(), "f")
        adds = ", ".join(f"#a{i} :v{i}" for i in range(len(self.increments)))
        sets = ["#exp = if_not_exists(#exp, :exp)"]
        sets += [f"#f{i} = :f{i}" for i in range(len(self.fixed))]
        names["#exp"] = EXPIRES_AT
        values[":exp"] = self.expires
        return {
            "Key": {COUNTERS.hash_key: self.counter_id},
            "UpdateExpression": f"ADD {adds} SET {', '.join(sets)}",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }


def counter_updates_of(item: ItemIn, ingested_at: datetime) -> list[CounterUpdate]:
    """Every counter row ``item`` adds to: per period, one aggregate shard and one row per
    ticker."""
    score = Decimal(str(item.score))
    one = Decimal(1)
    per_ticker = {"total": one, item.sentiment: one, "score_sum": score}
    aggregate = {**per_ticker, "mentions": Decimal(len(item.tickers))}
    shard = shard_of(item.item_id, AGGREGATE_SHARDS)
    bucket = hour_bucket(ingested_at)
    start = slot_start(ingested_at)
    updates = []
    for period, ttl in (
        (hour_counter_id(ingested_at), HOUR_COUNTER_TTL),
        (slot_counter_id(ingested_at), SLOT_COUNTER_TTL),
    ):
        expires = int((start + ttl).timestamp())
        updates.append(CounterUpdate(aggregate_id(period, shard), aggregate, expires))
        for ticker in item.tickers:
            fixed = {RANK_KEY: ticker_rank_key(bucket, ticker)} if period[0] == "h" else {}
            updates.append(
                CounterUpdate(ticker_counter_id(period, ticker), per_ticker, expires, fixed)
            )
    return updates


def counter_updates(table_name: str, item: ItemIn, ingested_at: datetime) -> list[dict[str, Any]]:
    """Transaction ``Update`` actions adding one item to its counter rows."""
    return [
        {"Update": {"TableName": table_name, **update.request()}}
        for update in counter_updates_of(item, ingested_at)
    ]


# --- reads -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CounterRow:
    """One counter row, read back; absent attributes count as zero."""

    values: Mapping[str, Decimal]

    def get(self, name: str) -> Decimal:
        return self.values.get(name, Decimal(0))

    def count(self, sentiment: str | None = None) -> int:
        """Items (aggregate rows) or mentions (ticker rows) of one sentiment or of all."""
        sentiments = SENTIMENTS if sentiment is None else (sentiment,)
        return int(sum(self.get(s) for s in sentiments))

    def legacy_tickers(self) -> dict[str, int]:
        """Mentions per ticker held in ``t:`` attributes (rows written before ticker rows)."""
        found: dict[str, int] = {}
        for name, value in self.values.items():
            if name.startswith("t:") and not name.endswith(":score_sum"):
                ticker = name.split(":")[1]
                found[ticker] = found.get(ticker, 0) + int(value)
        return found

    def legacy(self, ticker: str) -> CounterRow:
        """One ticker's ``t:`` attributes as a ticker row of its own."""
        values = {f: self.get(legacy_attribute(ticker, f)) for f in (*SENTIMENTS, "score_sum")}
        return CounterRow(values)


EMPTY = CounterRow({})


@dataclass(frozen=True)
class Counts:
    """One period's counts: of every item, or of the mentions of some tickers.

    ``by_ticker`` holds the per-ticker mentions the rows read gave exactly: every watched
    ticker, or (for everything) the tickers of rows written before ticker rows existed.
    """

    positive: int = 0
    neutral: int = 0
    negative: int = 0
    score_sum: Decimal = Decimal(0)
    mentions: int = 0
    by_ticker: Mapping[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.positive + self.neutral + self.negative

    def count(self, sentiment: str | None = None) -> int:
        return self.total if sentiment is None else int(getattr(self, sentiment))


def _sum_rows(rows: Iterable[CounterRow], mentions: int, by_ticker: Mapping[str, int]) -> Counts:
    rows = list(rows)
    return Counts(
        **{s: sum(row.count(s) for row in rows) for s in SENTIMENTS},
        score_sum=sum((row.get("score_sum") for row in rows), Decimal(0)),
        mentions=mentions,
        by_ticker=by_ticker,
    )


@dataclass(frozen=True)
class RankList:
    """The most mentioned tickers of one hour and rank shard, as far as the index was read."""

    counts: Mapping[str, int]
    bound: int  # no ticker of this shard missing from ``counts`` has more mentions than this
    resume: Mapping[str, Any] | None = None  # where reading on starts; None: all read

    @property
    def complete(self) -> bool:
        return self.resume is None


class SettledRows:
    """Rows of settled periods, which nothing writes to any more, kept after one read."""

    def __init__(self, clock: Callable[[], datetime], capacity: int = _SETTLED_CACHE_ROWS):
        self._clock = clock
        self._capacity = capacity
        self._rows: dict[tuple[str, str], Any] = {}

    def settled(self, period: str) -> bool:
        return period_end(period) + SETTLE_AFTER <= self._clock()

    def get(self, key: tuple[str, str]) -> Any | None:
        return self._rows.get(key)

    def keep(self, key: tuple[str, str], value: Any) -> None:
        if len(self._rows) >= self._capacity:
            self._rows.clear()
        self._rows[key] = value


def _period_of(counter_id: str) -> str:
    kind, _, rest = counter_id.partition("#")
    return f"{kind}#{rest.split('#', 1)[0]}"


class CounterStore:
    """Reads counter rows (writes happen inside the item transaction, or in bulk loads).

    With ``cache_settled`` the rows of settled periods are read once per process (metrics
    windows are mostly such hours): a process that computes metrics every few seconds then
    reads only the current hour and slots.
    """

    def __init__(
        self,
        resource: Any,
        table_name: str,
        *,
        clock: Callable[[], datetime] = utc_now,
        cache_settled: bool = False,
    ) -> None:
        self._resource = resource
        # Built once: a boto3 Table object costs ~1 ms to create, a Query a few tenths.
        self._table: Any = resource.Table(table_name) if resource is not None else None
        self.table_name = table_name
        self._cache = SettledRows(clock) if cache_settled else None

    # --- rows ---------------------------------------------------------------------------

    def read(
        self, counter_ids: list[str], attributes: list[str] | None = None
    ) -> dict[str, CounterRow]:
        """Counters by id (only ``attributes``, when given); ids never written are :data:`EMPTY`."""
        projection = ",".join(attributes) if attributes else ""
        found: dict[str, CounterRow] = dict.fromkeys(counter_ids, EMPTY)
        wanted = []
        for counter_id in dict.fromkeys(counter_ids):
            cached = self._cache.get((counter_id, projection)) if self._cache else None
            if cached is None:
                wanted.append(counter_id)
            else:
                found[counter_id] = cached
        for start in range(0, len(wanted), _BATCH_GET_LIMIT):
            chunk = wanted[start : start + _BATCH_GET_LIMIT]
            for counter_id, row in self._batch_get(chunk, attributes).items():
                found[counter_id] = row
            if self._cache is not None:
                for counter_id in chunk:
                    if self._cache.settled(_period_of(counter_id)):
                        self._cache.keep((counter_id, projection), found[counter_id])
        return found

    def _batch_get(self, ids: list[str], attributes: list[str] | None) -> dict[str, CounterRow]:
        keys = [{COUNTERS.hash_key: counter_id} for counter_id in ids]
        entry: dict[str, Any] = {"Keys": keys}
        if attributes:
            names = name_aliases([COUNTERS.hash_key, *attributes], "p")
            entry["ProjectionExpression"] = ", ".join(names)
            entry["ExpressionAttributeNames"] = names
        request: dict[str, Any] = {self.table_name: entry}
        rows: dict[str, CounterRow] = {}
        while request:
            response = self._resource.batch_get_item(RequestItems=request)
            for row in response["Responses"].get(self.table_name, []):
                counter_id = row.pop(COUNTERS.hash_key)
                for name in (EXPIRES_AT, RANK_KEY):
                    row.pop(name, None)
                rows[counter_id] = CounterRow(row)
            request = response.get("UnprocessedKeys") or {}
        return rows

    # --- periods ------------------------------------------------------------------------

    def periods(self, periods: list[str], tickers: list[str] | None = None) -> dict[str, Counts]:
        """Each period's counts: of every item, or summed over the mentions of ``tickers``."""
        if tickers is None:
            return self._everything(periods)
        return self._watched(periods, tickers)

    def _everything(self, periods: list[str]) -> dict[str, Counts]:
        rows = self.read([cid for period in periods for cid in aggregate_ids(period)])
        counts = {}
        for period in periods:
            shards = [rows[cid] for cid in aggregate_ids(period)]
            legacy = shards[0].legacy_tickers()
            mentions = int(sum(row.get("mentions") for row in shards)) + sum(legacy.values())
            counts[period] = _sum_rows(shards, mentions, legacy)
        return counts

    def _watched(self, periods: list[str], tickers: list[str]) -> dict[str, Counts]:
        ids = [ticker_counter_id(period, t) for period in periods for t in tickers]
        rows = self.read(ids)
        # Rows from before ticker rows existed: only the watched tickers' attributes.
        names = [legacy_attribute(t, f) for t in tickers for f in (*SENTIMENTS, "score_sum")]
        legacy = self.read(periods, names)
        counts = {}
        for period in periods:
            per_ticker = [
                (t, rows[ticker_counter_id(period, t)], legacy[period].legacy(t)) for t in tickers
            ]
            by_ticker = {t: row.count() + old.count() for t, row, old in per_ticker}
            every_row = [r for _, row, old in per_ticker for r in (row, old)]
            counts[period] = _sum_rows(every_row, sum(by_ticker.values()), by_ticker)
        return counts

    # --- ranking ------------------------------------------------------------------------

    def top(self, bucket: str, depth: int) -> list[RankList]:
        """Per rank shard, the ``depth`` most mentioned tickers of an hour (or what an earlier
        read of a settled hour kept)."""
        period = bucket_counter_id(bucket)
        cached = self._cache.get((period, "top")) if self._cache else None
        if cached is not None:
            return list(cached)
        lists = [self._rank_list(rank_key(bucket, s), depth, None) for s in range(RANK_SHARDS)]
        self._keep_ranks(period, lists)
        return lists

    def deeper(self, bucket: str, lists: list[RankList], shard: int, more: int) -> None:
        """Read ``more`` of one shard's list, in place (an incomplete list only)."""
        current = lists[shard]
        if current.resume is None:
            return
        read = self._rank_list(rank_key(bucket, shard), more, current.resume)
        lists[shard] = RankList({**current.counts, **read.counts}, read.bound, read.resume)
        self._keep_ranks(bucket_counter_id(bucket), lists)

    def _keep_ranks(self, period: str, lists: list[RankList]) -> None:
        if self._cache is not None and self._cache.settled(period):
            self._cache.keep((period, "top"), list(lists))

    def _rank_list(self, key: str, depth: int, resume: Mapping[str, Any] | None) -> RankList:
        request: dict[str, Any] = {
            "IndexName": BY_RANK_INDEX,
            "KeyConditionExpression": "#k = :k",
            "ExpressionAttributeNames": {
                "#k": RANK_KEY,
                "#t": RANK_TOTAL,
                "#id": COUNTERS.hash_key,
            },
            "ExpressionAttributeValues": {":k": key},
            "ProjectionExpression": "#id, #t",
            "ScanIndexForward": False,
            "Limit": depth,
        }
        if resume is not None:
            request["ExclusiveStartKey"] = resume
        response = self._table.query(**request)
        counts = {
            row[COUNTERS.hash_key].rpartition("#t#")[2]: int(row[RANK_TOTAL])
            for row in response["Items"]
        }
        after = response.get("LastEvaluatedKey")
        if after is None:
            return RankList(counts, 0)
        # Ticker rows below the last one read have at most its count.
        bound = min(counts.values()) if counts else int(after[RANK_TOTAL])
        return RankList(counts, bound, after)
