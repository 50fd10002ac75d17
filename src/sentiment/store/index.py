"""The ``by_bucket`` index: each UTC hour spread over a few keys, read back merged in order.

An item's index key is its hour bucket plus its index shard (from the item id): shard 0 is the
bare hour, ``2026-11-21T13``, the key every item had before the index was sharded, so those items
read as shard 0; shard k is ``2026-11-21T13#k``. Spreading an hour's writes over
:data:`INDEX_SHARDS` keys multiplies what the index can take per second by as much.

Readers query every shard of an hour and merge the answers by sort key (``ingested_at#item_id``,
unique per item), so the merged sequence is exactly the one a single key would give: positions,
REST cursors and Last-Event-ID replay are unchanged. Each reader reads one of the index's
replicas (``tables.BY_BUCKET_REPLICAS``), which are identical copies.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.conditions import ConditionBase, Key

from sentiment.models import Item
from sentiment.positions import Position
from sentiment.store.counters import shard_of
from sentiment.store.tables import BUCKET, BY_BUCKET_INDEX, POSITION

INDEX_SHARDS = 4
_ABOVE_ALL = "\uffff"  # sorts after every sort key: "nothing examined yet"
_MIN_FETCH = 8  # rows per filtered Query at least, however little budget is left


def index_key(bucket: str, shard: int) -> str:
    return bucket if shard == 0 else f"{bucket}#{shard}"


@dataclass(frozen=True)
class IndexLayout:
    """How items are spread over the index and which copy of it this process reads.

    ``write_shards`` (at most ``shards``) is how many of an hour's keys writers use: 1 writes
    every item under the bare hour, as before sharding, while readers already merge all
    ``shards`` keys (the first step of the upgrade in docs/deploy.md).
    """

    shards: int = INDEX_SHARDS
    write_shards: int = INDEX_SHARDS
    index_name: str = BY_BUCKET_INDEX

    def __post_init__(self) -> None:
        if not 1 <= self.write_shards <= self.shards:
            raise ValueError(f"write_shards must be between 1 and {self.shards}")

    def key_of(self, bucket: str, item_id: str) -> str:
        return index_key(bucket, shard_of(item_id, self.write_shards))

    def keys(self, bucket: str) -> list[str]:
        return [index_key(bucket, shard) for shard in range(self.shards)]


@dataclass
class BucketRead:
    """What one bucket gave a listing: items, rows read, and where reading stopped early."""

    items: list[Item] = field(default_factory=list)
    scanned: int = 0
    stopped_at: Position | None = None
    untouched: bool = False  # stopped before reading anything of the bucket


@dataclass
class _Backward:
    """One shard key read newest first: matching rows not merged yet, and how far it got."""

    request: dict[str, Any]
    buffer: deque[tuple[str, Item]] = field(default_factory=deque)
    frontier: str = _ABOVE_ALL  # sort key of the last row examined
    done: bool = False

    def fetch(self, table: Any, limit: int) -> int:
        """Read up to ``limit`` more rows; returns how many were examined."""
        page = table.query(**self.request, Limit=limit)
        for row in page["Items"]:
            self.buffer.append((row[POSITION], Item.model_validate(row)))
        if "LastEvaluatedKey" in page:
            self.frontier = page["LastEvaluatedKey"][POSITION]
            self.request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        else:
            self.done = True
        return int(page["ScannedCount"])


class IndexReader:
    """Merged reads of one replica of the index."""

    def __init__(self, table: Any, layout: IndexLayout) -> None:
        self._table = table
        self.layout = layout

    def forward(self, bucket: str, after: str | None, limit: int | None) -> list[Item]:
        """Items of ``bucket`` with a sort key above ``after``, oldest first, at most ``limit``."""
        shards = []
        for key in self.layout.keys(bucket):
            condition: ConditionBase = Key(BUCKET).eq(key)
            if after is not None:
                condition &= Key(POSITION).gt(after)
            shards.append(self._read_forward(condition, limit))
        merged = heapq.merge(*shards, key=lambda pair: pair[0])
        return [item for _, item in itertools.islice(merged, limit)]

    def _read_forward(self, condition: ConditionBase, limit: int | None) -> list[tuple[str, Item]]:
        request: dict[str, Any] = {
            "IndexName": self.layout.index_name,
            "KeyConditionExpression": condition,
            "ScanIndexForward": True,
        }
        found: list[tuple[str, Item]] = []
        while limit is None or len(found) < limit:
            if limit is not None:
                request["Limit"] = limit - len(found)
            page = self._table.query(**request)
            found.extend((row[POSITION], Item.model_validate(row)) for row in page["Items"])
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return found if limit is None else found[:limit]

    def backward(
        self,
        bucket: str,
        before: str | None,
        want: int,
        budget: int,
        filters: ConditionBase | None,
    ) -> BucketRead:
        """Up to ``want`` items of ``bucket`` below ``before``, newest first, reading at most
        ``budget`` rows (callers start a bucket with at least one row per shard).

        DynamoDB applies ``Limit`` before the filter, so ``Limit`` is what bounds the read. An
        item is taken only when every shard has shown what it holds above it; when the budget
        runs out first, ``stopped_at`` is the highest point a shard stopped at: everything above
        it has been examined, so the next page starts there and skips nothing."""
        shards = self._backward_shards(bucket, before, filters)
        read = BucketRead()
        while len(read.items) < want:
            empty = [s for s in shards if not s.buffer and not s.done]
            # Everything above the highest point an empty shard has read down to is known.
            floor = max((s.frontier for s in empty), default="")
            best = max((s for s in shards if s.buffer), key=lambda s: s.buffer[0][0], default=None)
            if best is not None and best.buffer[0][0] > floor:
                read.items.append(best.buffer.popleft()[1])
                continue
            rows_left = budget - read.scanned
            unread = [s for s in empty if s.frontier == _ABOVE_ALL]
            if not empty or rows_left < max(1, len(unread)):
                if floor == _ABOVE_ALL:  # a shard not read at all: nothing here is settled
                    read.stopped_at = Position.from_sort_key(before) if before else None
                    read.untouched = before is None
                elif floor:
                    read.stopped_at = Position.from_sort_key(floor)
                return read
            # Every shard is read once first; then the one that got least far, which holds
            # the merge up, reads on, in chunks small enough that the shards advance together
            # and little is read past where the next page starts.
            if unread:
                laggard, share = unread[0], rows_left // len(unread)
            else:
                laggard, share = max(empty, key=lambda s: s.frontier), rows_left
            if filters is not None:
                limit = min(share, max(_MIN_FETCH, rows_left // (2 * len(shards))))
            else:
                limit = min(share, -(-(want - len(read.items)) // len(shards)) + 1)
            read.scanned += laggard.fetch(self._table, limit)
        return read

    def _backward_shards(
        self, bucket: str, before: str | None, filters: ConditionBase | None
    ) -> list[_Backward]:
        shards = []
        for key in self.layout.keys(bucket):
            condition: ConditionBase = Key(BUCKET).eq(key)
            if before is not None:
                condition &= Key(POSITION).lt(before)
            request: dict[str, Any] = {
                "IndexName": self.layout.index_name,
                "KeyConditionExpression": condition,
                "ScanIndexForward": False,
            }
            if filters is not None:
                request["FilterExpression"] = filters
            shards.append(_Backward(request))
        return shards
