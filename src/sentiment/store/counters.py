"""Pre-aggregated counters, so metrics cost the same however many items are stored.

Every item adds to two counter rows in the same transaction as its first write: its UTC hour
(``h#2026-11-21T13``, the metrics window and chart) and its five-minute slot
(``m#2026-11-21T13:05``, the rolling "last hour"). Both rows carry the same attributes:
``total``, one per sentiment, ``score_sum``, and per ticker ``t:{TICKER}:{sentiment}`` and
``t:{TICKER}:score_sum``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sentiment.models import SENTIMENTS, ItemIn
from sentiment.positions import hour_bucket
from sentiment.store.tables import COUNTERS, EXPIRES_AT

SLOT_MINUTES = 5
HOUR_COUNTER_TTL = timedelta(days=8)  # the longest metrics window is 7 days
SLOT_COUNTER_TTL = timedelta(hours=3)
_BATCH_GET_LIMIT = 100


def hour_counter_id(moment: datetime) -> str:
    return bucket_counter_id(hour_bucket(moment))


def bucket_counter_id(bucket: str) -> str:
    """The hour counter row of an index bucket (both are the item's UTC hour)."""
    return f"h#{bucket}"


def slot_start(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return moment.replace(
        minute=moment.minute - moment.minute % SLOT_MINUTES, second=0, microsecond=0
    )


def slot_counter_id(moment: datetime) -> str:
    return f"m#{slot_start(moment).strftime('%Y-%m-%dT%H:%M')}"


def ticker_attribute(ticker: str, field: str) -> str:
    return f"t:{ticker}:{field}"


def counter_increments(item: ItemIn) -> dict[str, Decimal]:
    """What one item adds to each of its counter rows."""
    score = Decimal(str(item.score))
    increments = {"total": Decimal(1), item.sentiment: Decimal(1), "score_sum": score}
    for ticker in item.tickers:
        increments[ticker_attribute(ticker, item.sentiment)] = Decimal(1)
        increments[ticker_attribute(ticker, "score_sum")] = score
    return increments


def counter_rows(ingested_at: datetime) -> list[tuple[str, int]]:
    """The counter rows an item ingested at ``ingested_at`` feeds, with their expiry."""
    return [
        (
            hour_counter_id(ingested_at),
            int((slot_start(ingested_at) + HOUR_COUNTER_TTL).timestamp()),
        ),
        (
            slot_counter_id(ingested_at),
            int((slot_start(ingested_at) + SLOT_COUNTER_TTL).timestamp()),
        ),
    ]


def add_request(counter_id: str, increments: Mapping[str, Decimal], expires: int) -> dict[str, Any]:
    """``UpdateItem`` arguments (resource-client style) adding ``increments`` to one row."""
    names = {f"#a{i}": name for i, name in enumerate(increments)}
    values: dict[str, Any] = {f":v{i}": value for i, value in enumerate(increments.values())}
    adds = ", ".join(f"#a{i} :v{i}" for i in range(len(increments)))
    names["#exp"] = EXPIRES_AT
    values[":exp"] = expires
    return {
        "Key": {COUNTERS.hash_key: counter_id},
        "UpdateExpression": f"ADD {adds} SET #exp = if_not_exists(#exp, :exp)",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


def counter_updates(table_name: str, item: ItemIn, ingested_at: datetime) -> list[dict[str, Any]]:
    """Transaction ``Update`` actions adding one item to its hour and slot rows."""
    increments = counter_increments(item)
    return [
        {"Update": {"TableName": table_name, **add_request(counter_id, increments, expires)}}
        for counter_id, expires in counter_rows(ingested_at)
    ]


@dataclass(frozen=True)
class Counter:
    """One counter row, read back; absent attributes count as zero."""

    values: Mapping[str, Decimal]

    def _get(self, name: str) -> Decimal:
        return self.values.get(name, Decimal(0))

    def count(self, sentiment: str | None = None, tickers: Iterable[str] | None = None) -> int:
        """Items (or, with ``tickers``, ticker mentions) of one sentiment or of all."""
        sentiments = SENTIMENTS if sentiment is None else (sentiment,)
        if tickers is None:
            return int(sum(self._get(s) for s in sentiments))
        return int(sum(self._get(ticker_attribute(t, s)) for t in tickers for s in sentiments))

    def score_sum(self, tickers: Iterable[str] | None = None) -> Decimal:
        if tickers is None:
            return self._get("score_sum")
        return sum((self._get(ticker_attribute(t, "score_sum")) for t in tickers), Decimal(0))

    def tickers(self) -> set[str]:
        return {name.split(":")[1] for name in self.values if name.startswith("t:")}


EMPTY = Counter({})


class CounterStore:
    """Reads counter rows by id (writes happen inside the item transaction)."""

    def __init__(self, resource: Any, table_name: str) -> None:
        self._resource = resource
        self.table_name = table_name

    def add(self, counter_id: str, increments: Mapping[str, Decimal], expires: int) -> None:
        self._resource.Table(self.table_name).update_item(
            **add_request(counter_id, increments, expires)
        )

    def read(self, counter_ids: list[str]) -> dict[str, Counter]:
        """Counters by id; ids never written come back as :data:`EMPTY`."""
        found: dict[str, Counter] = dict.fromkeys(counter_ids, EMPTY)
        for start in range(0, len(counter_ids), _BATCH_GET_LIMIT):
            keys = [
                {COUNTERS.hash_key: cid} for cid in counter_ids[start : start + _BATCH_GET_LIMIT]
            ]
            request: dict[str, Any] = {self.table_name: {"Keys": keys}}
            while request:
                response = self._resource.batch_get_item(RequestItems=request)
                for row in response["Responses"].get(self.table_name, []):
                    counter_id = row.pop(COUNTERS.hash_key)
                    row.pop(EXPIRES_AT, None)
                    found[counter_id] = Counter(row)
                request = response.get("UnprocessedKeys") or {}
        return found
