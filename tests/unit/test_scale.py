"""The data model at scale: any number of distinct tickers an hour ingests, through the
producer's path (one transaction per item), and metrics stay bounded in size."""

from __future__ import annotations

import json
import random
import string
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sentiment.metrics import MetricsService
from sentiment.models import SENTIMENTS, ItemIn
from sentiment.positions import Position
from sentiment.settings import Settings
from sentiment.store import CounterStore, ItemStore
from sse import events
from tests.unit.conftest import Clock
from tests.utils.factories import item_in, serialize_moto_transactions

HOUR = datetime(2026, 11, 21, 13, 0, tzinfo=UTC)
# What a metrics event (24-hour window) and a REST answer (the longest window) may weigh
# whatever the number of tickers (docs/architecture.md, "Counters and hot keys").
EVENT_BOUND = 8 * 1024
REST_BOUND = 32 * 1024


@pytest.fixture
def store(
    dynamodb: Any, settings: Settings, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> ItemStore:
    serialize_moto_transactions(monkeypatch)  # item-scoped rollback: no per-transaction copies
    return ItemStore(
        dynamodb, settings.ITEMS_TABLE, settings.COUNTERS_TABLE, ttl=timedelta(days=30), clock=clock
    )


@pytest.fixture
def metrics(dynamodb: Any, settings: Settings, clock: Clock) -> MetricsService:
    return MetricsService(CounterStore(dynamodb, settings.COUNTERS_TABLE), clock)


def distinct_tickers(count: int, rng: random.Random) -> list[str]:
    """``count`` distinct 10-character symbols (a letter, then letters and digits)."""
    found: set[str] = set()
    while len(found) < count:
        rest = "".join(rng.choices(string.ascii_uppercase + string.digits, k=9))
        found.add(rng.choice(string.ascii_uppercase) + rest)
    return sorted(found)


def firehose(tickers: list[str], rng: random.Random) -> list[ItemIn]:
    """Items naming ten new tickers each, every ticker once, sentiments mixed."""
    rng.shuffle(tickers)
    return [
        item_in(
            item_id=f"fire-{n:05d}",
            tickers=tickers[start : start + 10],
            sentiment=SENTIMENTS[n % 3],
            score=round(rng.uniform(-1, 1), 3),
        )
        for n, start in enumerate(range(0, len(tickers), 10))
    ]


def ingest_within_the_hour(store: ItemStore, items: list[ItemIn], clock: Clock) -> None:
    step = timedelta(minutes=59) / len(items)
    for n, item in enumerate(items):
        at = HOUR + step * n
        assert store.ingest(item, ingested_at=at), item.item_id
    clock.now = HOUR + timedelta(minutes=59, seconds=30)


def event_bytes(metrics: Any) -> int:
    return len(events.encode(events.metrics(metrics, Position.at(HOUR))))


@pytest.mark.timeout(600)  # 1,000 transactions of 23 actions through moto: about a minute
def test_ten_thousand_distinct_tickers_in_one_hour_all_ingest(
    store: ItemStore, metrics: MetricsService, clock: Clock
) -> None:
    """1,000 items naming 10 new 10-character tickers each, sentiments mixed, one hour: every
    one is stored and counted, the global view ranks a bounded top list, a watch list reads
    exactly its tickers, and a metrics event stays under its bound."""
    rng = random.Random(14)
    tickers = distinct_tickers(10_000, rng)
    items = firehose(list(tickers), rng)
    ingest_within_the_hour(store, items, clock)

    everything = metrics.compute(hours=1)
    assert everything.total == 1_000
    assert [everything.positive, everything.neutral, everything.negative] == [334, 333, 333]
    assert len(everything.by_ticker) == 50
    assert set(everything.by_ticker.values()) == {1}
    assert everything.others == 10_000 - 50
    # One mention each: any 50 of them are a top 50, and the ranking can prove it.
    assert everything.ranking_exact is True
    assert event_bytes(everything) < EVENT_BOUND
    assert len(everything.model_dump_json()) < REST_BOUND

    first = items[0]
    watched = [*first.tickers[:4], items[1].tickers[0]]
    mine = metrics.compute(hours=24, tickers=watched)
    assert mine.by_ticker == dict.fromkeys(watched, 1)
    assert (mine.total, mine.others, mine.ranking_exact) == (5, 0, True)
    assert (mine.positive, mine.neutral, mine.negative) == (4, 1, 0)
    assert mine.last_hour == 5
    assert event_bytes(mine) < EVENT_BOUND


def test_a_metrics_payload_stays_under_its_bound(
    store: ItemStore, metrics: MetricsService, clock: Clock
) -> None:
    """1,500 distinct tickers in an hour (a count the old layout could still store): the event
    and the longest REST window stay under their bounds, and by_ticker is the top of the list."""
    rng = random.Random(3)
    tickers = distinct_tickers(1_500, rng)
    items = firehose(list(tickers), rng)
    # A few tickers are far ahead: the top of the ranking is known exactly.
    leaders = tickers[:3]
    items += [
        item_in(item_id=f"lead-{n:03d}", tickers=leaders[: 1 + n % 3], sentiment="positive")
        for n in range(30)
    ]
    ingest_within_the_hour(store, items, clock)

    day = metrics.compute(hours=24)
    week = metrics.compute(hours=168)
    assert event_bytes(day) < EVENT_BOUND
    assert len(json.dumps(week.model_dump(mode="json"))) < REST_BOUND
    assert list(day.by_ticker)[:3] == leaders
    assert [day.by_ticker[t] for t in leaders] == [31, 21, 11]
    assert sum(day.by_ticker.values()) + day.others == 1_500 + 60
    assert len(day.by_ticker) == 50
