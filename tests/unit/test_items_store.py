"""ItemStore: idempotent ingest with exactly-once counters, and queries on the bucketed index."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.exceptions import TransactionCanceledException
from moto.dynamodb.models import DynamoDBBackend

from sentiment.metrics import MetricsService
from sentiment.models import ItemIn
from sentiment.positions import Position
from sentiment.services import Services
from sentiment.settings import Settings
from sentiment.store import CounterStore, ItemStore
from sentiment.store import items as items_module
from tests.unit.conftest import Clock
from tests.utils.factories import item_in, serialize_moto_transactions
from tests.utils.listing import ids, walk

T = datetime(2026, 11, 21, 13, 0, tzinfo=UTC)  # an hour boundary
US = timedelta(microseconds=1)


@pytest.fixture
def store(dynamodb: Any, settings: Settings, clock: Clock) -> ItemStore:
    return ItemStore(
        dynamodb, settings.ITEMS_TABLE, settings.COUNTERS_TABLE, ttl=timedelta(days=30), clock=clock
    )


@pytest.fixture
def metrics(dynamodb: Any, settings: Settings, clock: Clock) -> MetricsService:
    return MetricsService(CounterStore(dynamodb, settings.COUNTERS_TABLE), clock)


def stored_rows(dynamodb: Any, settings: Settings) -> list[dict[str, Any]]:
    """Every row of the items table (a Scan is fine in a test, never on a request path)."""
    rows: list[dict[str, Any]] = dynamodb.Table(settings.ITEMS_TABLE).scan()["Items"]
    return rows


def ingest_at(store: ItemStore, moments: dict[str, datetime], **fields: Any) -> None:
    for item_id, moment in moments.items():
        assert store.ingest(item_in(item_id=item_id, **fields), ingested_at=moment)


# --- ingest ------------------------------------------------------------------------------


def test_ingest_writes_the_item_with_index_and_ttl_attributes(
    store: ItemStore, dynamodb: Any, settings: Settings, clock: Clock
) -> None:
    """Without an explicit time the store's clock is used; the row carries bucket, position, TTL."""
    clock.now = datetime(2026, 11, 21, 12, 59, 59, 999999, tzinfo=UTC)
    item = item_in(item_id="row-1", tickers=["AAPL", "MSFT"], score=-0.25, confidence=0.75)

    assert store.ingest(item) is True

    [row] = stored_rows(dynamodb, settings)
    assert row["item_id"] == "row-1"
    assert row["tickers"] == ["AAPL", "MSFT"]
    assert row["score"] == Decimal("-0.25")
    assert row["confidence"] == Decimal("0.75")
    assert row["ingested_at"] == "2026-11-21T12:59:59.999999Z"
    # The hour, on the index shard of the item id (crc32("row-1") % 4 == 3).
    assert row["bucket"] == "2026-11-21T12#3"
    assert row["position"] == "2026-11-21T12:59:59.999999Z#row-1"
    assert row["expires_at"] == int((clock.now + timedelta(days=30)).timestamp())


def test_ingest_twice_is_stored_and_counted_once(
    store: ItemStore, metrics: MetricsService, dynamodb: Any, settings: Settings, clock: Clock
) -> None:
    """A retried ingest returns False, changes nothing, and never double-counts."""
    item = item_in(item_id="same", title="first title", sentiment="negative", score=-0.5)
    assert store.ingest(item) is True
    clock.advance(minutes=10)
    retry = item_in(item_id="same", title="second title", sentiment="positive", score=0.9)
    assert store.ingest(retry) is False

    [row] = stored_rows(dynamodb, settings)
    assert row["title"] == "first title"
    assert row["ingested_at"] == "2026-11-21T12:30:00.000000Z"
    result = metrics.compute(hours=24)
    assert (result.total, result.negative, result.positive) == (1, 1, 0)
    assert result.average_score == -0.5
    assert result.by_ticker == {"AAPL": 1}


def test_concurrent_duplicates_create_exactly_once(
    store: ItemStore,
    metrics: MetricsService,
    dynamodb: Any,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Eight threads ingest the SAME item at once: one True, seven False, counted once."""
    serialize_moto_transactions(monkeypatch)
    item = item_in(item_id="raced")
    start = threading.Barrier(8)

    def ingest(_: int) -> bool:
        start.wait()
        return store.ingest(item)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(ingest, range(8)))

    assert sorted(results) == [False] * 7 + [True]
    assert [row["item_id"] for row in stored_rows(dynamodb, settings)] == ["raced"]
    assert metrics.compute(hours=24).total == 1


def test_concurrent_distinct_items_are_all_counted(
    store: ItemStore, metrics: MetricsService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Different items updating the same counter rows concurrently lose no increment."""
    serialize_moto_transactions(monkeypatch)
    items = [item_in(item_id=f"par-{n}", tickers=["AAPL", "TSLA"]) for n in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(store.ingest, items))

    result = metrics.compute(hours=24)
    assert (result.total, result.positive, result.last_hour) == (8, 8, 8)
    assert result.by_ticker == {"AAPL": 8, "TSLA": 8}


def test_batch_reports_an_already_stored_item_as_duplicate(
    store: ItemStore, metrics: MetricsService
) -> None:
    """ingest_many keeps the request order within created and duplicates."""
    assert store.ingest(item_in(item_id="old"))
    batch = [item_in(item_id=i) for i in ("new-1", "old", "new-2")]

    result = store.ingest_many(batch)

    assert result.created == ["new-1", "new-2"]
    assert result.duplicates == ["old"]
    assert metrics.compute(hours=24).total == 3


def _cancel_with(
    monkeypatch: pytest.MonkeyPatch, reasons: list[tuple[Any, Any, Any]], times: int
) -> list[int]:
    """The next ``times`` TransactWriteItems calls are cancelled with ``reasons``."""
    original = DynamoDBBackend.transact_write_items
    calls: list[int] = []

    def transact_write_items(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) <= times:
            raise TransactionCanceledException(reasons)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", transact_write_items)
    return calls


CONFLICT = [(None, None, None), ("TransactionConflict", "ongoing", None), (None, None, None)]


def test_transaction_conflict_is_retried(
    store: ItemStore, metrics: MetricsService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A counter row busy in another transaction is retried, then the item counts once."""
    calls = _cancel_with(monkeypatch, CONFLICT, times=2)
    assert store.ingest(item_in(item_id="busy")) is True
    assert len(calls) == 3
    assert metrics.compute(hours=24).total == 1


def test_persistent_conflict_raises_and_writes_nothing(
    store: ItemStore,
    metrics: MetricsService,
    dynamodb: Any,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Retries are bounded; the error surfaces (the API maps it to 503)."""
    calls = _cancel_with(monkeypatch, CONFLICT, times=100)
    with pytest.raises(ClientError) as error:
        store.ingest(item_in(item_id="busy"))
    assert error.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert len(calls) == 6
    assert stored_rows(dynamodb, settings) == []
    assert metrics.compute(hours=24).total == 0


def test_other_cancellations_are_not_retried(
    store: ItemStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    reasons = [(None, None, None), ("ValidationError", "bad", None), (None, None, None)]
    calls = _cancel_with(monkeypatch, reasons, times=100)
    with pytest.raises(ClientError):
        store.ingest(item_in(item_id="bad"))
    assert len(calls) == 1


# --- after(position): oldest first, strictly after ---------------------------------------


@pytest.fixture
def around_the_hour(store: ItemStore, clock: Clock) -> None:
    """Items on both sides of 13:00 UTC; "now" is 13:30."""
    clock.now = T + timedelta(minutes=30)
    ingest_at(
        store, {"z-before": T - US, "a-at": T, "m-after": T + US, "late": T + timedelta(minutes=5)}
    )


AROUND_THE_HOUR = [
    # (case, position, items strictly after it)
    ("long before", Position.at(T - timedelta(hours=2)), ["z-before", "a-at", "m-after", "late"]),
    ("at 12:59:59.999999", Position.at(T - US), ["z-before", "a-at", "m-after", "late"]),
    ("on the last item of 12h", Position(T - US, "z-before"), ["a-at", "m-after", "late"]),
    ("at 13:00:00.000000", Position.at(T), ["a-at", "m-after", "late"]),
    ("on the first item of 13h", Position(T, "a-at"), ["m-after", "late"]),
    ("mid-bucket, on an item", Position(T + US, "m-after"), ["late"]),
    ("mid-bucket, between items", Position.at(T + timedelta(minutes=1)), ["late"]),
    ("on the newest item", Position(T + timedelta(minutes=5), "late"), []),
]


@pytest.mark.usefixtures("around_the_hour")
def test_after_across_an_hour_boundary(store: ItemStore) -> None:
    """Strictly after the position, oldest first, whichever bucket the position is in."""
    for case, position, expected in AROUND_THE_HOUR:
        assert ids(store.after(position)) == expected, case


@pytest.mark.usefixtures("around_the_hour")
def test_after_respects_limit_across_buckets(store: ItemStore) -> None:
    """``limit`` counts across buckets: the oldest ``limit`` items after the position."""
    everything = ["z-before", "a-at", "m-after", "late"]
    for limit in range(6):
        found = ids(store.after(Position.at(T - timedelta(hours=1)), limit=limit))
        assert found == everything[:limit], f"limit={limit}"


def test_after_across_midnight(store: ItemStore, clock: Clock) -> None:
    """Buckets of two different days are read in time order."""
    midnight = datetime(2026, 11, 22, tzinfo=UTC)
    clock.now = midnight + timedelta(minutes=45)
    ingest_at(
        store,
        {
            "d1-late": midnight - US,
            "d1-earlier": midnight - timedelta(hours=1, minutes=30),
            "d2-first": midnight,
            "d2-later": midnight + timedelta(minutes=30),
        },
    )

    assert ids(store.after(Position.at(midnight - timedelta(hours=3)))) == [
        "d1-earlier",
        "d1-late",
        "d2-first",
        "d2-later",
    ]
    assert ids(store.after(Position(midnight - US, "d1-late"))) == ["d2-first", "d2-later"]
    assert ids(store.after(Position.at(midnight - timedelta(hours=3)), limit=2)) == [
        "d1-earlier",
        "d1-late",
    ]


def test_after_orders_same_timestamp_by_item_id(store: ItemStore, clock: Clock) -> None:
    """Items ingested in the same microsecond come back in item_id (byte) order."""
    moment = T + timedelta(minutes=10)
    clock.now = T + timedelta(minutes=20)
    ingest_at(store, dict.fromkeys(["b", "a", "c", "a.1", "B", "a-1"], moment))

    assert ids(store.after(Position.at(moment))) == ["B", "a", "a-1", "a.1", "b", "c"]
    assert ids(store.after(Position(moment, "a-1"))) == ["a.1", "b", "c"]
    assert ids(store.after(Position(moment, "a"), limit=2)) == ["a-1", "a.1"]


def test_after_returns_items_as_stored(store: ItemStore, clock: Clock) -> None:
    """Items come back with every contract field and their ingested_at."""
    item = item_in(item_id="full", tickers=["BRK.B", "MSFT"], sentiment="neutral", score=0.0)
    store.ingest(item, ingested_at=T)
    clock.now = T + timedelta(minutes=1)

    [found] = store.after(Position.at(T))

    assert found.model_dump(exclude={"ingested_at"}) == item.model_dump()
    assert found.ingested_at == T


def test_after_sees_a_writer_clock_slightly_ahead(store: ItemStore, clock: Clock) -> None:
    """An item stamped a few seconds into the next hour is found just before that hour."""
    clock.now = T - timedelta(seconds=30)
    ingest_at(store, {"ahead": T + timedelta(seconds=10)})
    assert ids(store.after(Position.at(T - timedelta(minutes=5)))) == ["ahead"]


def test_after_with_nothing_newer_is_empty(store: ItemStore, clock: Clock) -> None:
    ingest_at(store, {"old": clock.now - timedelta(minutes=1)})
    assert store.after(Position.at(clock.now)) == []


# --- newest(): pages, newest first -------------------------------------------------------


@pytest.fixture
def short_lookback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Listings look back 12 hours instead of 168, so each last page sweeps 13 buckets, not 169.

    Pagination does not depend on the lookback; the real one is tested on its own below.
    """
    monkeypatch.setattr(items_module, "LISTING_LOOKBACK", timedelta(hours=12))


@pytest.fixture
def spread(store: ItemStore, clock: Clock, short_lookback: None) -> list[str]:
    """17 items over four hour buckets (plus one at a bucket's first microsecond); newest first."""
    clock.now = datetime(2026, 11, 21, 15, 50, tzinfo=UTC)
    moments = {f"s-{n:02d}": T - timedelta(hours=1) + timedelta(minutes=13 * n) for n in range(16)}
    moments["s-edge"] = T
    ingest_at(store, moments)
    return sorted(moments, key=lambda i: (moments[i], i), reverse=True)


def test_newest_pages_walk_everything_once(store: ItemStore, spread: list[str]) -> None:
    """Pages of ``limit`` cover all items newest-first with no gap and no repeat.

    Every page but the last is full; the last is short (possibly empty when the item count
    is a multiple of ``limit``) and has no cursor.
    """
    for limit in (1, 5, 17):
        pages = walk(store, limit)
        assert [i for page in pages for i in page] == spread, f"limit={limit}"
        assert all(len(page) == limit for page in pages[:-1]), f"limit={limit}"
        assert len(pages[-1]) < limit, f"limit={limit}"


def test_newest_short_page_has_no_cursor(store: ItemStore, spread: list[str]) -> None:
    """A page with fewer items than asked for is the end: its cursor is None."""
    items, before = store.newest(6, before=Position(T, "s-edge"))
    assert before is None
    assert ids(items) == spread[spread.index("s-edge") + 1 :]
    assert len(items) == 5


def test_newest_before_a_position_is_strictly_older(store: ItemStore, spread: list[str]) -> None:
    """A cursor in the middle of a bucket continues just below it."""
    middle = spread[6]
    items, _ = store.newest(3, before=Position.decode(_position_of(store, middle).encode()))
    assert ids(items) == spread[7:10]


@pytest.mark.usefixtures("short_lookback")
def test_newest_pages_through_items_with_the_same_timestamp(store: ItemStore, clock: Clock) -> None:
    """A cursor between two items of the same microsecond continues by item_id, descending."""
    ingest_at(store, dict.fromkeys(["e", "a", "d", "b", "c"], clock.now - timedelta(minutes=1)))
    assert walk(store, 2) == [["e", "d"], ["c", "b"], ["a"]]


def _position_of(store: ItemStore, item_id: str) -> Position:
    items, _ = store.newest(100)
    [item] = [i for i in items if i.item_id == item_id]
    return Position(item.ingested_at, item.item_id)


@pytest.fixture
def mixed(store: ItemStore, clock: Clock, short_lookback: None) -> list[ItemIn]:
    """Twelve items over three hours with varied tickers and sentiments; newest last."""
    clock.now = T + timedelta(hours=2)
    shapes = [
        (["AAPL"], "positive"),
        (["MSFT"], "negative"),
        (["AAPL", "MSFT"], "neutral"),
        (["TSLA"], "negative"),
        (["MSFT", "TSLA"], "positive"),
        (["AAPL"], "negative"),
    ]
    items = []
    for n in range(12):
        tickers, sentiment = shapes[n % len(shapes)]
        item = item_in(item_id=f"m-{n:02d}", tickers=tickers, sentiment=sentiment)
        store.ingest(item, ingested_at=T - timedelta(hours=1) + timedelta(minutes=15 * n))
        items.append(item)
    return items


FILTER_CASES: list[tuple[dict[str, str], Callable[[ItemIn], bool]]] = [
    ({"ticker": "MSFT"}, lambda i: "MSFT" in i.tickers),
    ({"ticker": "MS"}, lambda i: False),  # a symbol in the list, never a substring
    ({"sentiment": "negative"}, lambda i: i.sentiment == "negative"),
    (
        {"ticker": "AAPL", "sentiment": "negative"},
        lambda i: "AAPL" in i.tickers and i.sentiment == "negative",
    ),
]


def test_newest_filters(store: ItemStore, mixed: list[ItemIn]) -> None:
    """Ticker and sentiment filters, still paged newest-first with full pages."""
    for filters, keep in FILTER_CASES:
        expected = [i.item_id for i in reversed(mixed) if keep(i)]
        pages = walk(store, 2, **filters)
        assert [i for page in pages for i in page] == expected, filters
        assert all(len(page) == 2 for page in pages[:-1]), filters


def test_newest_ignores_items_older_than_a_week(store: ItemStore, clock: Clock) -> None:
    """Listings look back as far as the longest metrics window (168 hours)."""
    ingest_at(
        store,
        {
            "six-days": clock.now - timedelta(days=6),
            "eight-days": clock.now - timedelta(days=8),
            "167-hours": clock.now - timedelta(hours=167),
        },
    )
    items, before = store.newest(10)
    assert (ids(items), before) == (["six-days", "167-hours"], None)


@pytest.fixture
def queries(dynamodb: Any) -> Iterator[list[dict[str, Any]]]:
    """Records the parameters of every Query the store sends."""
    sent: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        sent.append(dict(params))

    events = dynamodb.meta.client.meta.events
    events.register("before-parameter-build.dynamodb.Query", record)
    yield sent
    events.unregister("before-parameter-build.dynamodb.Query", record)


@pytest.mark.usefixtures("short_lookback")
def test_newest_across_dynamodb_pages_in_one_bucket(
    store: ItemStore, clock: Clock, queries: list[dict[str, Any]]
) -> None:
    """30 items in one hour, pages of 7: DynamoDB's Limit pages line up with the API's pages."""
    clock.now = T + timedelta(minutes=59)
    ingest_at(store, {f"p-{n:02d}": T + timedelta(seconds=n) for n in range(30)})

    pages = walk(store, 7)

    assert [len(page) for page in pages] == [7, 7, 7, 7, 2]
    assert [i for page in pages for i in page] == [f"p-{n:02d}" for n in reversed(range(30))]
    bucket_queries = [q for q in queries if "Limit" in q]
    assert bucket_queries, "an unfiltered listing should pass Limit to DynamoDB"
    assert {q["Limit"] for q in bucket_queries} <= set(range(1, 8))


@pytest.fixture
def small_dynamodb_pages(dynamodb: Any) -> Iterator[list[dict[str, Any]]]:
    """Caps every Query at 3 rows, as DynamoDB's 1 MB page limit would with large items."""
    sent: list[dict[str, Any]] = []

    def cap(params: dict[str, Any], **_: Any) -> None:
        params["Limit"] = min(params.get("Limit", 3), 3)
        sent.append(dict(params))

    events = dynamodb.meta.client.meta.events
    events.register("before-parameter-build.dynamodb.Query", cap)
    yield sent
    events.unregister("before-parameter-build.dynamodb.Query", cap)


@pytest.mark.usefixtures("short_lookback")
def test_newest_follows_last_evaluated_key_within_a_bucket(
    store: ItemStore, clock: Clock, small_dynamodb_pages: list[dict[str, Any]]
) -> None:
    """A bucket served in several short DynamoDB pages still yields full API pages, no gaps."""
    clock.now = T + timedelta(minutes=59)
    sentiments = {f"q-{n:02d}": "negative" if n % 3 else "positive" for n in range(20)}
    for n, (item_id, sentiment) in enumerate(sentiments.items()):
        store.ingest(
            item_in(item_id=item_id, sentiment=sentiment), ingested_at=T + timedelta(seconds=n)
        )
    newest_first = list(reversed(sentiments))

    for filters in ({}, {"sentiment": "negative"}, {"ticker": "AAPL"}):
        expected = [
            i for i in newest_first if filters.get("sentiment", sentiments[i]) == sentiments[i]
        ]
        pages = walk(store, 7, **filters)
        assert [i for page in pages for i in page] == expected, filters
        assert all(len(page) == 7 for page in pages[:-1]), filters
    assert any("ExclusiveStartKey" in q for q in small_dynamodb_pages)


def test_after_follows_last_evaluated_key(
    store: ItemStore, clock: Clock, small_dynamodb_pages: list[dict[str, Any]]
) -> None:
    clock.now = T + timedelta(minutes=59)
    ingest_at(store, {f"r-{n:02d}": T + timedelta(seconds=n) for n in range(10)})
    assert ids(store.after(Position.at(T))) == [f"r-{n:02d}" for n in range(10)]
    assert ids(store.after(Position.at(T), limit=8)) == [f"r-{n:02d}" for n in range(8)]


def test_services_item_store_uses_the_configured_tables(
    services: Services, dynamodb: Any, settings: Settings
) -> None:
    """build_services wires ITEMS_TABLE and COUNTERS_TABLE (no generic table variable)."""
    assert services.items.ingest(item_in(item_id="wired"))
    assert [r["item_id"] for r in stored_rows(dynamodb, settings)] == ["wired"]
    counters = dynamodb.Table(settings.COUNTERS_TABLE).scan()["Items"]
    # An aggregate shard (crc32("wired") % 4 == 2) and the ticker's row, per hour and slot.
    assert sorted(r["counter_id"].split("#", 2)[2] for r in counters) == [
        "s2",
        "s2",
        "t#AAPL",
        "t#AAPL",
    ]
    assert sorted(r["counter_id"][:2] for r in counters) == ["h#", "h#", "m#", "m#"]


# --- newest(): a bounded read per request, whatever the traffic ----------------------------

BUSY_HOUR = 1_500
RARE_AT = (20, 1200, 1490)  # no RARE among busy-0500..busy-0999: a whole budget of misses


@pytest.fixture
def scanned(dynamodb: Any) -> Iterator[list[int]]:
    """``ScannedCount`` of every Query the store sends: the items DynamoDB read (and bills)."""
    counts: list[int] = []

    def record(parsed: dict[str, Any], **_: Any) -> None:
        counts.append(parsed["ScannedCount"])

    events = dynamodb.meta.client.meta.events
    events.register("after-call.dynamodb.Query", record)
    yield counts
    events.unregister("after-call.dynamodb.Query", record)


@pytest.fixture
def busy_hour(store: ItemStore, clock: Clock, short_lookback: None) -> list[str]:
    """1,500 AAPL items in the current hour, sentiments in turn; three also name RARE, as do
    two items of earlier hours. Returns the RARE item ids, newest first."""
    clock.now = T + timedelta(minutes=50)  # clock skew still inside this hour: it is queried first
    step = timedelta(minutes=50) / BUSY_HOUR
    rows = []
    for n in range(BUSY_HOUR):
        tickers = ["AAPL", "RARE"] if n in RARE_AT else ["AAPL"]
        sentiment = ("positive", "neutral", "negative")[n % 3]
        item = item_in(item_id=f"busy-{n:04d}", tickers=tickers, sentiment=sentiment)
        rows.append((item, T + step * n))
    rows.append((item_in(item_id="older-1", tickers=["RARE"]), T - timedelta(minutes=30)))
    rows.append((item_in(item_id="older-2", tickers=["RARE"]), T - timedelta(hours=3)))
    assert store.load(rows) == BUSY_HOUR + 2
    rare = [item.item_id for item, at in sorted(rows, key=lambda r: r[1]) if "RARE" in item.tickers]
    return list(reversed(rare))


def test_a_filter_nothing_matches_reads_no_items(
    store: ItemStore, busy_hour: list[str], scanned: list[int]
) -> None:
    """``ticker=NOPE``: the hour counters show no match, so no item is read at all."""
    assert store.newest(1, ticker="NOPE") == ([], None)
    assert sum(scanned) == 0


@pytest.mark.parametrize(
    "filters",
    [{"ticker": "RARE"}, {"ticker": "AAPL", "sentiment": "negative"}, {"sentiment": "neutral"}],
)
def test_a_filtered_listing_reads_at_most_the_budget(
    store: ItemStore, busy_hour: list[str], scanned: list[int], filters: dict[str, str]
) -> None:
    """However busy the hour, one request reads at most LISTING_READ_BUDGET items, and hands
    back a cursor, since more may exist (a full page, or the budget spent on misses)."""
    items, before = store.newest(100, **filters)

    assert sum(scanned) <= items_module.LISTING_READ_BUDGET
    assert before is not None
    assert items, "each of these filters matches within the newest 500 items"
    newest_first = sorted(items, key=lambda i: (i.ingested_at, i.item_id), reverse=True)
    assert items == newest_first


def test_paging_a_sparse_filter_returns_every_match_once(
    store: ItemStore, busy_hour: list[str], scanned: list[int]
) -> None:
    """Following the cursors walks through the busy hour within budget per request and finds
    every RARE item once, newest first, then ends with no cursor."""
    pages: list[list[str]] = []
    before: Position | None = None
    while True:
        scanned.clear()
        items, before = store.newest(4, before=before, ticker="RARE")
        assert sum(scanned) <= items_module.LISTING_READ_BUDGET
        pages.append(ids(items))
        if before is None:
            break
        assert len(pages) < 20, "pagination does not terminate"
    assert [i for page in pages for i in page] == busy_hour
    # 500 rows a request: busy-1499..1000, busy-0999..0500 (no match), busy-0499..0000 (the
    # budget ends with the hour: the cursor is the hour's start), then the older hours.
    assert pages == [["busy-1490", "busy-1200"], [], ["busy-0020"], ["older-1", "older-2"]]


def test_the_api_documents_the_read_budget() -> None:
    """``next_cursor``'s description (in the OpenAPI document) names the real budget."""
    from sentiment.models import ItemPage

    description = ItemPage.model_fields["next_cursor"].description or ""
    assert f"at most {items_module.LISTING_READ_BUDGET} stored items" in description


def test_index_write_shards_1_writes_under_the_bare_hour_as_before(
    dynamodb: Any, settings: Settings
) -> None:
    """INDEX_WRITE_SHARDS=1 (an upgrade's first step): every item under the hour's own key,
    which processes from before the sharded index read; readers merge all four keys anyway."""
    from sentiment.services import build_services

    one = build_services(settings.model_copy(update={"INDEX_WRITE_SHARDS": 1}), dynamodb)
    four = build_services(settings, dynamodb)
    moment = datetime(2026, 11, 21, 12, 30, tzinfo=UTC)
    for n in range(8):
        assert one.items.ingest(item_in(item_id=f"one-{n}"), ingested_at=moment)
        assert four.items.ingest(item_in(item_id=f"four-{n}"), ingested_at=moment)
    buckets = {row["item_id"]: row["bucket"] for row in stored_rows(dynamodb, settings)}
    assert {buckets[f"one-{n}"] for n in range(8)} == {"2026-11-21T12"}
    assert len({buckets[f"four-{n}"] for n in range(8)}) > 1
    for services in (one, four):
        assert services.items.layout.shards == 4
        found = services.items.after(Position.at(moment - timedelta(seconds=1)))
        assert sorted(ids(found)) == sorted(buckets)
