"""Counters written with each item, and the metrics computed from them, checked by brute force."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from sentiment.metrics import HourRanks, MetricsService, Ranking, rank
from sentiment.models import SENTIMENTS, TOP_TICKERS, ItemIn
from sentiment.settings import Settings
from sentiment.store import CounterStore, ItemStore
from sentiment.store.counters import (
    RANK_SHARDS,
    CounterRow,
    RankList,
    hour_counter_id,
    shard_of,
    slot_counter_id,
)
from tests.unit.conftest import Clock
from tests.utils.factories import item_in

TICKERS = ["AAPL", "MSFT", "TSLA", "NVDA", "AMZN", "BRK.B"]
NOW = datetime(2026, 11, 21, 12, 37, 12, 345678, tzinfo=UTC)


@pytest.fixture
def store(dynamodb: Any, settings: Settings, clock: Clock) -> ItemStore:
    return ItemStore(
        dynamodb, settings.ITEMS_TABLE, settings.COUNTERS_TABLE, ttl=timedelta(days=30), clock=clock
    )


@pytest.fixture
def counters(dynamodb: Any, settings: Settings) -> CounterStore:
    return CounterStore(dynamodb, settings.COUNTERS_TABLE)


@pytest.fixture
def metrics(counters: CounterStore, clock: Clock) -> MetricsService:
    return MetricsService(counters, clock)


# --- brute force over the documented definitions -----------------------------------------


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _slot(moment: datetime) -> datetime:
    return moment.replace(minute=moment.minute - moment.minute % 5, second=0, microsecond=0)


def brute_force(
    stored: list[tuple[ItemIn, datetime]], now: datetime, hours: int, tickers: list[str] | None
) -> dict[str, Any]:
    """Metrics straight from the items, per docs/architecture.md and the Metrics model's fields.

    Window: the current UTC hour plus ``hours - 1`` whole hours before it. ``last_hour``: the
    current five-minute slot plus the eleven before it, whatever the window. With a ticker
    filter every count is a mention count (an item naming two watched tickers counts twice),
    and so is the average.
    """
    first_hour = _hour(now) - timedelta(hours=hours - 1)
    first_slot = _slot(now) - timedelta(minutes=55)

    def weight(item: ItemIn) -> int:
        return 1 if tickers is None else len(set(item.tickers) & set(tickers))

    window = [(item, at) for item, at in stored if first_hour <= at <= now]
    total = sum(weight(item) for item, _ in window)
    score_sum = sum((Decimal(str(item.score)) * weight(item) for item, _ in window), Decimal(0))
    by_ticker: Counter[str] = Counter(
        t for item, _ in window for t in item.tickers if tickers is None or t in tickers
    )
    # Everything: the most mentioned (ties by symbol), the rest summed. A filter: its tickers.
    listed = (
        dict(sorted(by_ticker.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_TICKERS])
        if tickers is None
        else {**dict.fromkeys(tickers, 0), **by_ticker}
    )
    hourly = []
    for h in range(hours):
        start = first_hour + timedelta(hours=h)
        in_hour = [item for item, at in window if _hour(at) == start]
        hourly.append(
            {
                "hour": start,
                "total": sum(weight(i) for i in in_hour),
                **{s: sum(weight(i) for i in in_hour if i.sentiment == s) for s in SENTIMENTS},
            }
        )
    return {
        "window_hours": hours,
        "tickers": tickers,
        "total": total,
        **{s: sum(weight(i) for i, _ in window if i.sentiment == s) for s in SENTIMENTS},
        "average_score": round(float(score_sum / total), 4) if total else 0.0,
        "by_ticker": listed,
        "others": sum(by_ticker.values()) - sum(listed.values()),
        "ranking_exact": True,
        "last_hour": sum(weight(item) for item, at in stored if first_slot <= at <= now),
        "hourly": hourly,
        "generated_at": now,
    }


@pytest.fixture
def random_items(store: ItemStore, clock: Clock) -> list[tuple[ItemIn, datetime]]:
    """~60 seeded-random items over the last 30 hours, plus items on every window edge."""
    rng = random.Random(20261121)
    moments = [NOW - timedelta(seconds=rng.uniform(0, 30 * 3600)) for _ in range(56)]
    moments += [
        _hour(NOW) - timedelta(hours=23),  # first microsecond of a 24 h window
        _hour(NOW) - timedelta(hours=23) - timedelta(microseconds=1),  # just outside it
        _slot(NOW) - timedelta(minutes=55),  # first microsecond of last_hour
        _slot(NOW) - timedelta(minutes=55, microseconds=1),  # just outside it
        _hour(NOW),  # first microsecond of the current hour
        NOW,
    ]
    stored = []
    for n, moment in enumerate(moments):
        item = item_in(
            item_id=f"rnd-{n:03d}",
            tickers=rng.sample(TICKERS, rng.randint(1, 3)),
            sentiment=rng.choice(SENTIMENTS),
            score=round(rng.uniform(-1, 1), 3),
        )
        assert store.ingest(item, ingested_at=moment)
        stored.append((item, moment))
    clock.now = NOW
    return stored


WINDOWS = [1, 24, 168]
FILTERS: list[list[str] | None] = [None, ["AAPL", "TSLA"], ["BRK.B", "GOOG"]]


def test_metrics_match_brute_force(
    random_items: list[tuple[ItemIn, datetime]], metrics: MetricsService, clock: Clock
) -> None:
    """Every field equals a brute-force count over the same items, for windows and filters.

    Checked at three moments, so the window and the rolling hour slide over the items.
    """
    for later in (timedelta(0), timedelta(minutes=23), timedelta(hours=5)):
        clock.now = NOW + later
        for hours in WINDOWS:
            for tickers in FILTERS:
                expected = brute_force(random_items, clock.now, hours, tickers)
                actual = metrics.compute(hours=hours, tickers=tickers).model_dump()
                assert actual == expected, (later, hours, tickers)

    # The data really exercises the definitions: items fall in and out of every window.
    day = brute_force(random_items, NOW, 24, None)
    week = brute_force(random_items, NOW, 168, None)
    watched = brute_force(random_items, NOW, 24, ["AAPL", "TSLA"])
    assert 0 < day["last_hour"] < day["total"] < week["total"] == len(random_items)
    items_naming_either = {
        item.item_id
        for item, at in random_items
        if {"AAPL", "TSLA"} & set(item.tickers) and at >= _hour(NOW) - timedelta(hours=23)
    }
    assert watched["total"] > len(items_naming_either)


def test_mentions_count_twice_with_two_watched_tickers(
    store: ItemStore, metrics: MetricsService
) -> None:
    """An item naming both watched tickers counts as two mentions; its score is averaged twice."""
    store.ingest(item_in(item_id="both", tickers=["AAPL", "MSFT"], score=0.8))
    store.ingest(item_in(item_id="one", tickers=["AAPL"], sentiment="negative", score=-0.5))

    everything = metrics.compute(hours=24)
    watched = metrics.compute(hours=24, tickers=["AAPL", "MSFT"])
    msft = metrics.compute(hours=24, tickers=["MSFT"])

    assert (everything.total, everything.average_score) == (2, 0.15)
    assert everything.by_ticker == {"AAPL": 2, "MSFT": 1}
    assert (watched.total, watched.positive, watched.negative) == (3, 2, 1)
    assert watched.average_score == round((0.8 + 0.8 - 0.5) / 3, 4)
    assert watched.by_ticker == {"AAPL": 2, "MSFT": 1}
    assert (msft.total, msft.average_score, msft.by_ticker) == (1, 0.8, {"MSFT": 1})


def test_empty_metrics(metrics: MetricsService, clock: Clock) -> None:
    """No counters: zeros everywhere, one zero row per hour, watched tickers at zero."""
    result = metrics.compute(hours=3, tickers=["AAPL"])
    assert result.model_dump() == {
        "window_hours": 3,
        "tickers": ["AAPL"],
        "total": 0,
        "positive": 0,
        "neutral": 0,
        "negative": 0,
        "average_score": 0.0,
        "by_ticker": {"AAPL": 0},
        "others": 0,
        "ranking_exact": True,
        "last_hour": 0,
        "hourly": [
            {
                "hour": datetime(2026, 11, 21, h, tzinfo=UTC),
                "total": 0,
                "positive": 0,
                "neutral": 0,
                "negative": 0,
            }
            for h in (10, 11, 12)
        ],
        "generated_at": clock.now,
    }
    assert metrics.compute().window_hours == 24
    assert metrics.compute().by_ticker == {}


@pytest.mark.parametrize("hours", [0, -1, 169, 1000])
def test_window_bounds(hours: int) -> None:
    """Checked before any read: no storage is touched."""
    metrics = MetricsService(CounterStore(resource=None, table_name="unused"))
    with pytest.raises(ValueError, match="hours must be between 1 and 168"):
        metrics.compute(hours=hours)


def test_by_ticker_is_sorted_by_count_then_symbol(
    store: ItemStore, metrics: MetricsService
) -> None:
    for n, tickers in enumerate([["TSLA"], ["AAPL", "TSLA"], ["MSFT"], ["AAPL"], ["BRK.B"]]):
        store.ingest(item_in(item_id=f"o-{n}", tickers=tickers))
    assert list(metrics.compute().by_ticker.items()) == [
        ("AAPL", 2),
        ("TSLA", 2),
        ("BRK.B", 1),
        ("MSFT", 1),
    ]


# --- counter rows ------------------------------------------------------------------------


def counter_rows(dynamodb: Any, settings: Settings) -> dict[str, dict[str, Any]]:
    table = dynamodb.Table(settings.COUNTERS_TABLE)
    return {row.pop("counter_id"): row for row in table.scan()["Items"]}


def test_each_item_adds_to_one_aggregate_shard_and_its_tickers_rows(
    store: ItemStore, dynamodb: Any, settings: Settings
) -> None:
    """Per hour and per slot: one aggregate row of the item's shard (totals and mentions, no
    tickers) and one row per ticker; hour ticker rows carry their rank key."""
    moment = datetime(2026, 11, 21, 12, 39, 59, 999999, tzinfo=UTC)
    store.ingest(item_in(item_id="c5", tickers=["AAPL", "BRK.B"], score=0.25), ingested_at=moment)
    store.ingest(
        item_in(item_id="c4", tickers=["AAPL"], sentiment="negative", score=-0.75),
        ingested_at=moment,
    )
    assert (shard_of("c5", 4), shard_of("c4", 4)) == (0, 2)  # shard 0 is the bare period id

    rows = counter_rows(dynamodb, settings)
    hour_expiry = int(datetime(2026, 11, 29, 12, 35, tzinfo=UTC).timestamp())
    slot_expiry = int(datetime(2026, 11, 21, 15, 35, tzinfo=UTC).timestamp())
    expected: dict[str, dict[str, Any]] = {}
    for period, expires in (("h#2026-11-21T12", hour_expiry), ("m#2026-11-21T12:35", slot_expiry)):
        rank = {"rank_key": "2026-11-21T12#r"} if period[0] == "h" else {}
        c1 = {"total": 1, "positive": 1, "score_sum": Decimal("0.25"), "expires_at": expires}
        c2 = {"total": 1, "negative": 1, "score_sum": Decimal("-0.75"), "expires_at": expires}
        expected[period] = {**c1, "mentions": 2}
        expected[f"{period}#s2"] = {**c2, "mentions": 1}
        expected[f"{period}#t#AAPL"] = {
            "total": 2, "positive": 1, "negative": 1, "score_sum": Decimal("-0.5"),
            "expires_at": expires, **rank,
        }  # fmt: skip
        expected[f"{period}#t#BRK.B"] = {**c1, **rank}
    for counter_id, row in rows.items():
        if "rank_key" in row:
            assert row["rank_key"] == f"2026-11-21T12#r{shard_of(counter_id.split('#t#')[1], 8)}"
            row["rank_key"] = row["rank_key"][:-1]
    assert rows == expected


def test_rows_stay_small_however_many_tickers(
    store: ItemStore, dynamodb: Any, settings: Settings
) -> None:
    """No row carries more attributes as tickers are added: 200 tickers, at most 7 each."""
    for n in range(20):
        tickers = [f"X{n:02d}{k}" for k in range(10)]
        store.ingest(item_in(item_id=f"wide-{n}", tickers=tickers), ingested_at=NOW)
    rows = counter_rows(dynamodb, settings)
    assert len([cid for cid in rows if "#t#" in cid]) == 2 * 200
    assert max(len(row) for row in rows.values()) <= 7


def test_counter_store_reads_missing_ids_as_empty_and_batches_over_100(
    store: ItemStore, counters: CounterStore
) -> None:
    """More than one BatchGetItem worth of ids; unknown ids read as zero."""
    store.ingest(item_in(item_id="c5"), ingested_at=NOW)  # aggregate shard 0
    ids = [f"h#never-{n}" for n in range(150)] + ["h#2026-11-21T12", "h#2026-11-21T12#t#AAPL"]
    ids += [f"m#never-{n}" for n in range(99)]

    found = counters.read(ids)

    assert list(found) == ids
    assert found["h#2026-11-21T12"].count() == 1
    assert found["h#2026-11-21T12#t#AAPL"].count("positive") == 1
    assert sum(c.count() for c in found.values()) == 2


def test_counter_arithmetic() -> None:
    """count() over sentiments; t: attributes of rows from before ticker rows, per ticker."""
    row = CounterRow(
        {
            "total": Decimal(3),
            "positive": Decimal(2),
            "negative": Decimal(1),
            "score_sum": Decimal("0.5"),
            "t:AAPL:positive": Decimal(2),
            "t:AAPL:score_sum": Decimal("1.5"),
            "t:MSFT:negative": Decimal(1),
            "t:MSFT:score_sum": Decimal("-1"),
        }
    )
    assert row.count() == 3
    assert row.count("neutral") == 0
    assert row.legacy_tickers() == {"AAPL": 2, "MSFT": 1}
    assert row.legacy("AAPL").count() == 2
    assert row.legacy("MSFT").count("negative") == 1
    assert row.legacy("MSFT").get("score_sum") == Decimal(-1)
    assert row.legacy("NVDA").count() == 0


# --- rows from before ticker rows ----------------------------------------------------------


def legacy_row(item: ItemIn) -> dict[str, Decimal]:
    """What the old layout added to its hour and slot rows for one item."""
    score = Decimal(str(item.score))
    row = {"total": Decimal(1), item.sentiment: Decimal(1), "score_sum": score}
    for ticker in item.tickers:
        row[f"t:{ticker}:{item.sentiment}"] = Decimal(1)
        row[f"t:{ticker}:score_sum"] = score
    return row


def add_legacy(dynamodb: Any, settings: Settings, item: ItemIn, moment: datetime) -> None:
    """An item counted the old way: every attribute on the bare hour and slot rows."""
    table = dynamodb.Table(settings.COUNTERS_TABLE)
    for counter_id in (hour_counter_id(moment), slot_counter_id(moment)):
        increments = legacy_row(item)
        names = {f"#a{i}": name for i, name in enumerate(increments)}
        values = {f":v{i}": value for i, value in enumerate(increments.values())}
        table.update_item(
            Key={"counter_id": counter_id},
            UpdateExpression="ADD " + ", ".join(f"#a{i} :v{i}" for i in range(len(names))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )


def test_rows_from_before_ticker_rows_still_count(
    store: ItemStore, metrics: MetricsService, dynamodb: Any, settings: Settings, clock: Clock
) -> None:
    """A deploy over live data: items counted the old way (t: attributes on the bare hour and
    slot rows) and the new way in the same hours add up, for everything and for watch lists,
    and filtered listings still find the old hours."""
    stored = []
    for n in range(12):
        moment = NOW - timedelta(minutes=7 * n)
        item = item_in(
            item_id=f"mix-{n:02d}",
            tickers=[TICKERS[n % 3], TICKERS[3 + n % 2]],
            sentiment=SENTIMENTS[n % 3],
            score=round(0.1 * n - 0.5, 1),
        )
        if n % 2:
            add_legacy(dynamodb, settings, item, moment)
        else:
            assert store.ingest(item, ingested_at=moment)
        stored.append((item, moment))
    clock.now = NOW

    for hours in (1, 24):
        for tickers in (None, ["AAPL", "NVDA"], ["TSLA"]):
            expected = brute_force(stored, NOW, hours, tickers)
            assert metrics.compute(hours=hours, tickers=tickers).model_dump() == expected


def test_a_listing_finds_hours_counted_the_old_way(
    store: ItemStore, dynamodb: Any, settings: Settings, clock: Clock
) -> None:
    """The listing skips hours whose counters show no match: old-layout counters count."""
    old = item_in(item_id="old", tickers=["RARE"], sentiment="negative")
    moment = NOW - timedelta(hours=3)
    add_legacy(dynamodb, settings, old, moment)
    dynamodb.Table(settings.ITEMS_TABLE).put_item(Item=store._row(old, moment))
    clock.now = NOW

    assert [i.item_id for i in store.newest(5, ticker="RARE")[0]] == ["old"]
    assert [i.item_id for i in store.newest(5, sentiment="negative")[0]] == ["old"]
    assert store.newest(5, ticker="RARE", sentiment="positive") == ([], None)


# --- ranking -------------------------------------------------------------------------------


def hour(counts: dict[str, int], bounds: dict[int, int] | None = None) -> HourRanks:
    """An hour's rank lists: ``counts`` put in their tickers' shards, ``bounds`` per shard
    (what a truncated list's last count was; 0: the list is complete)."""
    lists = [RankList({}, (bounds or {}).get(shard, 0)) for shard in range(RANK_SHARDS)]
    for ticker, count in counts.items():
        lists[shard_of(ticker, RANK_SHARDS)].counts[ticker] = count  # type: ignore[index]
    return HourRanks({}, lists)


def same_shard_as(ticker: str) -> str:
    return next(
        t
        for t in (f"Z{n:02d}" for n in range(100))
        if shard_of(t, RANK_SHARDS) == shard_of(ticker, RANK_SHARDS)
    )


def test_rank_is_exact_when_nothing_is_left_out() -> None:
    """Every list complete (bound 0): counts add up over hours, rows counted the old way
    included, and the top is exact."""
    a, b, c = "AAPL", "MSFT", "TSLA"
    hours = [hour({a: 3, b: 2, c: 1}), hour({a: 1}), HourRanks({c: 4}, [])]
    assert rank(hours, top=2) == Ranking({c: 5, a: 4}, exact=True)
    assert rank(hours, top=5) == Ranking({c: 5, a: 4, b: 2}, exact=True)


def test_rank_says_when_a_left_out_ticker_could_lead() -> None:
    """A truncated list (bound 7): a ticker missing from it may have up to 7 there. When that
    could lift it past the last one listed, or a listed count may be short, the ranking is
    not proven."""
    a, b = "AAPL", "MSFT"
    other = same_shard_as(b)
    sb = shard_of(b, RANK_SHARDS)
    complete = [hour({a: 9, b: 5}), hour({a: 8, b: 6})]
    assert rank(complete, top=2) == Ranking({a: 17, b: 11}, exact=True)
    # b's shard truncated at 3 in the second hour, b seen there: an unseen ticker of that
    # shard has at most 3 < 11.
    truncated = [hour({a: 9, b: 5}), hour({a: 8, b: 6}, {sb: 3})]
    assert rank(truncated, top=2) == Ranking({a: 17, b: 11}, exact=True)
    # b missing from the truncated list: 5 is a lower bound (up to 5 + 7), and another
    # ticker of its shard could have up to 7.
    gap = [hour({a: 9, b: 5}), hour({a: 1, other: 7}, {sb: 7})]
    unsure = frozenset({sb})  # reading on in b's shard is what could settle it
    assert rank(gap, top=3) == Ranking({a: 10, other: 7, b: 5}, exact=False, unsure=unsure)
    # The leader alone: b (5 + up to 7 = 12) could still pass 10.
    assert rank(gap, top=1) == Ranking({a: 10}, exact=False, unsure=unsure)
    assert rank([hour({a: 20, b: 5}), hour({a: 1, other: 7}, {sb: 7})], top=1) == Ranking(
        {a: 21}, exact=True
    )


def test_metrics_flag_a_ranking_read_too_shallow(
    store: ItemStore, counters: CounterStore, clock: Clock
) -> None:
    """One ticker read per hour and rank shard, where hours have 16: the ranking cannot be
    proven and says so; counts are lower bounds and by_ticker + others is every mention. Read
    deep enough, the same data ranks exactly."""
    stored = []
    for h in range(4):
        moment = NOW - timedelta(hours=h)
        group = [[f"X{h}{k:02d}" for k in range(8 * half, 8 * half + 8)] for half in (0, 1)]
        batches = [tickers for tickers in group for _ in range(3)] + [["MID"], ["MID"]]
        for n, tickers in enumerate(batches):
            item = item_in(item_id=f"deep-{h}-{n}", tickers=tickers)
            assert store.ingest(item, ingested_at=moment)
            stored.append((item, moment))
    clock.now = NOW
    truth = brute_force(stored, NOW, 24, None)
    mentions = sum(len(item.tickers) for item, _ in stored)

    deep = MetricsService(counters, clock, top=3, rank_depth=50).compute(hours=24)
    shallow = MetricsService(counters, clock, top=3, rank_depth=1, max_rank_depth=1).compute(
        hours=24
    )
    # Read shallow first, then deeper where the proof needs it: the same as reading deep.
    grown = MetricsService(counters, clock, top=3, rank_depth=1, max_rank_depth=64).compute(
        hours=24
    )

    assert dict(list(truth["by_ticker"].items())[:3]) == {"MID": 8, "X000": 3, "X001": 3}
    assert (deep.by_ticker, deep.ranking_exact) == ({"MID": 8, "X000": 3, "X001": 3}, True)
    assert (grown.by_ticker, grown.ranking_exact, grown.others) == (
        deep.by_ticker,
        True,
        deep.others,
    )
    assert shallow.ranking_exact is False
    for ticker, count in shallow.by_ticker.items():
        assert 0 < count <= Counter(t for i, _ in stored for t in i.tickers)[ticker]
    assert sum(shallow.by_ticker.values()) + shallow.others == mentions
    assert sum(deep.by_ticker.values()) + deep.others == mentions


# --- settled rows ---------------------------------------------------------------------------


def test_settled_rows_are_read_once_per_process(
    store: ItemStore, dynamodb: Any, settings: Settings, clock: Clock
) -> None:
    """With cache_settled, rows of periods that ended over 5 minutes ago are read once; the
    current hour and slot are read every time (they still change)."""
    cached = CounterStore(dynamodb, settings.COUNTERS_TABLE, clock=clock, cache_settled=True)
    metrics = MetricsService(cached, clock)
    store.ingest(item_in(item_id="past"), ingested_at=NOW - timedelta(hours=2))
    clock.now = NOW
    keys: list[int] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        keys.extend(len(entry["Keys"]) for entry in params["RequestItems"].values())

    events = dynamodb.meta.client.meta.events
    events.register("provide-client-params.dynamodb.BatchGetItem", record)
    try:
        first = metrics.compute(hours=24)
        read_first, keys[:] = sum(keys), []
        store.ingest(item_in(item_id="now"), ingested_at=NOW)
        second = metrics.compute(hours=24)
    finally:
        events.unregister("provide-client-params.dynamodb.BatchGetItem", record)
    assert (first.total, second.total) == (1, 2)
    assert second.by_ticker == {"AAPL": 2}
    assert read_first == 36 * 4
    # 12:37: hours up to 11 are settled (ended 12:00 + 5 min); slot 12:35 and 12:30 are not.
    assert sum(keys) == (1 + 2) * 4
