"""Items: idempotent ingest with exactly-once counters, and queries on the time-bucketed index
(sharded and merged by :mod:`sentiment.store.index`)."""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Attr, ConditionBase
from botocore.exceptions import ClientError

from sentiment.models import IngestResult, Item, ItemIn
from sentiment.positions import (
    CLOCK_SKEW,
    Position,
    format_timestamp,
    hour_buckets,
    utc_now,
)
from sentiment.store.counters import (
    CounterStore,
    bucket_counter_id,
    counter_updates,
    counter_updates_of,
)
from sentiment.store.errors import cancellation_reasons
from sentiment.store.index import IndexLayout, IndexReader
from sentiment.store.tables import BUCKET, COUNTERS, EXPIRES_AT, ITEM_ID, POSITION

# REST listings look back as far as the longest metrics window.
LISTING_LOOKBACK = timedelta(hours=168)
# Items one listing request may read from the index. A filter is applied after the read, so
# without a bound a sparse filter over a busy hour reads the whole hour to fill one page.
LISTING_READ_BUDGET = 500
_CONFLICT_RETRIES = 6


def _bucket_start(bucket: str) -> datetime:
    return datetime.strptime(bucket, "%Y-%m-%dT%H").replace(tzinfo=UTC)


class ItemStore:
    """The items table, its ``by_bucket`` index, and the counter rows each item feeds."""

    def __init__(
        self,
        resource: Any,
        items_table: str,
        counters_table: str,
        ttl: timedelta,
        clock: Callable[[], datetime] = utc_now,
        layout: IndexLayout | None = None,
    ) -> None:
        self._client = resource.meta.client
        self._table = resource.Table(items_table)
        self._counter_rows = resource.Table(counters_table)
        self._items_table = items_table
        self._counters_table = counters_table
        self._counters = CounterStore(resource, counters_table)
        self._ttl = ttl
        self._clock = clock
        self.layout = layout or IndexLayout()
        self._index = IndexReader(self._table, self.layout)

    # --- writes ------------------------------------------------------------------------

    def ingest(self, item: ItemIn, ingested_at: datetime | None = None) -> bool:
        """Store ``item`` and count it, in one transaction. False if it was already stored."""
        ingested_at = ingested_at or self._clock()
        row = self._row(item, ingested_at)
        actions = [
            {
                "Put": {
                    "TableName": self._items_table,
                    "Item": row,
                    "ConditionExpression": "attribute_not_exists(#id)",
                    "ExpressionAttributeNames": {"#id": ITEM_ID},
                }
            },
            *counter_updates(self._counters_table, item, ingested_at),
        ]
        for attempt in range(_CONFLICT_RETRIES):
            try:
                self._client.transact_write_items(TransactItems=actions)
                return True
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                codes = cancellation_reasons(error)
                if codes[:1] == ["ConditionalCheckFailed"]:
                    return False
                if "TransactionConflict" not in codes or attempt == _CONFLICT_RETRIES - 1:
                    raise
                # Another item is updating the same counter row right now: back off, retry.
                time.sleep(0.01 * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def ingest_many(self, items: list[ItemIn]) -> IngestResult:
        result = IngestResult(created=[], duplicates=[])
        for item in items:
            (result.created if self.ingest(item) else result.duplicates).append(item.item_id)
        return result

    def load(self, items: Iterable[tuple[ItemIn, datetime]]) -> int:
        """Bulk-write items with their ingest times into EMPTY tables (demo data, benchmarks).

        Not idempotent and not transactional: counter rows are summed in memory and written
        once each at the end (a put, which is why the tables must be empty). Use
        :meth:`ingest` for anything a producer sends.
        """
        rows: dict[str, dict[str, Any]] = {}
        now = int(self._clock().timestamp())
        count = 0
        with self._table.batch_writer() as batch:
            for item, ingested_at in items:
                batch.put_item(Item=self._row(item, ingested_at))
                count += 1
                for update in counter_updates_of(item, ingested_at):
                    if update.expires <= now:
                        continue
                    row = rows.setdefault(update.counter_id, defaultdict(Decimal))
                    for name, value in update.increments.items():
                        row[name] += value
                    row.update({EXPIRES_AT: update.expires, **update.fixed})
        with self._counter_rows.batch_writer() as batch:
            for counter_id, row in rows.items():
                batch.put_item(Item={COUNTERS.hash_key: counter_id, **row})
        return count

    def _row(self, item: ItemIn, ingested_at: datetime) -> dict[str, Any]:
        position = Position(ingested_at, item.item_id)
        return {
            **item.model_dump(mode="json", exclude={"score", "confidence"}),
            "score": Decimal(str(item.score)),
            "confidence": Decimal(str(item.confidence)),
            "ingested_at": format_timestamp(ingested_at),
            BUCKET: self.layout.key_of(position.bucket, item.item_id),
            POSITION: position.sort_key,
            EXPIRES_AT: int((ingested_at + self._ttl).timestamp()),
        }

    # --- reads -------------------------------------------------------------------------

    def after(self, position: Position, limit: int | None = None) -> list[Item]:
        """Items stored after ``position``, oldest first; at most ``limit`` of them."""
        found: list[Item] = []
        for bucket in hour_buckets(position.ingested_at, self._clock() + CLOCK_SKEW):
            after = position.sort_key if bucket == position.bucket else None
            remaining = None if limit is None else limit - len(found)
            found.extend(self._index.forward(bucket, after, remaining))
            if limit is not None and len(found) >= limit:
                break
        return found

    def newest(
        self,
        limit: int,
        before: Position | None = None,
        ticker: str | None = None,
        sentiment: str | None = None,
    ) -> tuple[list[Item], Position | None]:
        """One page of items, newest first, and the position to continue from (if any).

        One call reads at most :data:`LISTING_READ_BUDGET` items. The page is short only at
        the end of the listing or when a filter spent that budget on items it did not match;
        then the position is where reading stopped, so the next page carries on from there
        (a page can be empty and still have a position).
        """
        now = self._clock()
        start = now + CLOCK_SKEW
        if before is not None:
            start = min(start, before.ingested_at)
        filters: ConditionBase | None = None
        if ticker:
            filters = Attr("tickers").contains(ticker)
        if sentiment:
            by_sentiment = Attr("sentiment").eq(sentiment)
            filters = by_sentiment if filters is None else filters & by_sentiment
        buckets = list(reversed(hour_buckets(now - LISTING_LOOKBACK, start)))
        found: list[Item] = []
        budget = LISTING_READ_BUDGET
        shards = self.layout.shards
        for bucket in self._buckets_with_matches(buckets, ticker, sentiment):
            upper = before.sort_key if before and bucket == before.bucket else None
            read = self._index.backward(bucket, upper, limit - len(found), budget, filters)
            found.extend(read.items)
            budget -= read.scanned
            if len(found) >= limit:
                last = found[-1]
                return found, Position(last.ingested_at, last.item_id)
            if read.untouched:  # the next page starts with this whole bucket
                return found, Position.at(_bucket_start(bucket) + timedelta(hours=1))
            if read.stopped_at is not None or budget < shards:
                # A bucket is started only with a row per shard to spend.
                return found, read.stopped_at or Position.at(_bucket_start(bucket))
        return found, None

    def _buckets_with_matches(
        self, buckets: list[str], ticker: str | None, sentiment: str | None
    ) -> Iterator[str]:
        """The buckets worth querying, newest first: those whose hour counters show a matching
        item, except that an unfiltered listing queries the first (the current hour) unasked.
        Counters are read lazily in growing chunks, so a sparse filter costs a few
        BatchGetItems instead of a Query per empty hour, and a busy feed reads a dozen hours'
        counter rows at most."""
        if not buckets:
            return
        if not ticker and not sentiment:
            yield buckets[0]
            buckets = buckets[1:]
        tickers = [ticker] if ticker else None
        start = 0
        for size in itertools.chain([12], itertools.repeat(100)):
            chunk = buckets[start : start + size]
            if not chunk:
                return
            start += size
            counts = self._counters.periods([bucket_counter_id(b) for b in chunk], tickers)
            for bucket in chunk:
                if counts[bucket_counter_id(bucket)].count(sentiment) > 0:
                    yield bucket
