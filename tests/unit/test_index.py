"""The sharded index read back merged, against the single-key index on the same items.

Three stores hold the same items: one with a single index key per hour (the layout before
sharding, read as such), one spreading each hour over 4 keys, and one holding a mix (half the
items written before sharding, under the bare hour, half after): what an upgrade leaves behind.
Every read (the poller's and replay's ``after``, the REST listing's ``newest`` with filters,
cursors and a small read budget) must give the same items in the same order from all three,
and the order a brute force over the items gives.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sentiment.models import SENTIMENTS, ItemIn
from sentiment.positions import Position
from sentiment.settings import Settings
from sentiment.store import ItemStore
from sentiment.store import items as items_module
from sentiment.store.index import IndexLayout
from sentiment.store.tables import BY_BUCKET_REPLICAS, create_tables
from tests.unit.conftest import Clock
from tests.utils.factories import item_in
from tests.utils.listing import ids, walk

NOW = datetime(2026, 11, 21, 15, 20, 0, tzinfo=UTC)
TICKERS = ["AAPL", "MSFT", "RARE"]
SINGLE = IndexLayout(shards=1, write_shards=1)


def stored_items(count: int = 160) -> list[tuple[ItemIn, datetime]]:
    """Items over the last four hours and a bit, some sharing an instant, on hour edges."""
    rng = random.Random(1121)
    moments = [NOW - timedelta(seconds=rng.uniform(0, 4.2 * 3600)) for _ in range(count - 8)]
    moments += [NOW.replace(minute=0) - timedelta(hours=h) for h in (0, 1, 2)]  # hour starts
    moments += [NOW.replace(minute=0) - timedelta(microseconds=1)] * 2  # an instant twice
    moments += [NOW - timedelta(hours=2, minutes=7)] * 3
    return [
        (
            item_in(
                item_id=f"i-{n:03d}",
                tickers=["RARE"] if n % 23 == 0 else rng.sample(TICKERS[:2], rng.randint(1, 2)),
                sentiment=rng.choice(SENTIMENTS),
            ),
            moment,
        )
        for n, moment in enumerate(moments)
    ]


class HalfBeforeSharding(IndexLayout):
    """Odd-numbered items under the bare hour, as written before sharding; the rest sharded."""

    def key_of(self, bucket: str, item_id: str) -> str:
        if int(item_id.removeprefix("i-")) % 2:
            return bucket
        return super().key_of(bucket, item_id)


@pytest.fixture
def stores(aws: None, settings: Settings, clock: Clock) -> dict[str, ItemStore]:
    """The same items in three pairs of tables, bulk-loaded (ingest's keys are the same:
    tests/unit/test_items_store.py)."""
    import boto3

    resource = boto3.resource("dynamodb")
    clock.now = NOW
    made = {}
    layouts = {"single": SINGLE, "sharded": IndexLayout(), "mixed": HalfBeforeSharding()}
    for name, layout in layouts.items():
        tables = settings.model_copy(
            update={
                "ITEMS_TABLE": f"{name}-items",
                "COUNTERS_TABLE": f"{name}-counters",
                "CONFIGURATIONS_TABLE": f"{name}-configurations",
            }
        )
        create_tables(resource.meta.client, tables)
        store = ItemStore(
            resource,
            tables.ITEMS_TABLE,
            tables.COUNTERS_TABLE,
            ttl=timedelta(days=30),
            clock=clock,
            layout=layout,
        )
        assert store.load(stored_items()) == len(stored_items())
        made[name] = store
    return made


def expected_order(predicate: Any = lambda item: True) -> list[str]:
    items = [(at, item.item_id, item) for item, at in stored_items()]
    return [item_id for _, item_id, item in sorted(items) if predicate(item)]


def test_the_layouts_really_differ(stores: dict[str, ItemStore], dynamodb: Any) -> None:
    """The single-key store uses one key per hour; the sharded one four; the mixed one both."""
    keys = {}
    for name in stores:
        table = dynamodb.Table(f"{name}-items")
        keys[name] = {row["bucket"] for row in table.scan()["Items"]}
    assert len(keys["single"]) == 5  # hours 11 to 15
    assert all("#" not in key for key in keys["single"])
    assert keys["sharded"] > {f"2026-11-21T14#{k}" for k in (1, 2, 3)}
    assert keys["mixed"] >= keys["single"] | {"2026-11-21T14#1"}


def test_after_is_the_same_from_every_layout(stores: dict[str, ItemStore]) -> None:
    """The poller's read (no limit) and replay's (a limit), from every item's position and
    from points between items: same items, same order, as the brute force."""
    everything = sorted_items()
    # Every 8th item, and every item on an hour edge or sharing its instant with another.
    edges = {at for _, at in everything if at.minute == at.second == 0 or at.microsecond == 999999}
    edges |= {NOW - timedelta(hours=2, minutes=7)}
    starts = [
        Position(at, item.item_id)
        for n, (item, at) in enumerate(everything)
        if n % 8 == 0 or at in edges
    ]
    starts += [Position.at(NOW - timedelta(minutes=m)) for m in (0, 1, 59, 60, 61, 150, 400)]
    for start in starts:
        expected = [item.item_id for item, at in everything if Position(at, item.item_id) > start]
        for limit in (None, 1, 7, 50):
            want = expected if limit is None else expected[:limit]
            for name, store in stores.items():
                assert ids(store.after(start, limit)) == want, (name, start, limit)


def sorted_items() -> list[tuple[ItemIn, datetime]]:
    return sorted(stored_items(), key=lambda pair: (pair[1], pair[0].item_id))


FILTERS: list[dict[str, str]] = [
    {},
    {"ticker": "RARE"},
    {"ticker": "MSFT", "sentiment": "negative"},
    {"sentiment": "neutral"},
]


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: ",".join(f.values()) or "all")
@pytest.mark.parametrize("budget", [500, 40])
def test_listing_pages_are_the_same_from_every_layout(
    stores: dict[str, ItemStore],
    monkeypatch: pytest.MonkeyPatch,
    filters: dict[str, str],
    budget: int,
) -> None:
    """Following the cursors gives every match once, newest first, from every layout. With the
    whole budget no request stops early, so the pages themselves are identical; with a small
    one requests stop where their reads stopped, at different points per layout."""
    monkeypatch.setattr(items_module, "LISTING_READ_BUDGET", budget)

    def matches(item: ItemIn) -> bool:
        ticker, sentiment = filters.get("ticker"), filters.get("sentiment")
        return (ticker is None or ticker in item.tickers) and (
            sentiment is None or item.sentiment == sentiment
        )

    expected = list(reversed(expected_order(matches)))
    assert expected
    for limit in (1, 9, 100):
        layouts = {name: walk(store, limit, **filters) for name, store in stores.items()}
        for name, pages in layouts.items():
            assert [i for page in pages for i in page] == expected, (name, limit)
            assert all(len(page) <= limit for page in pages)
        if budget == 500:
            assert layouts["sharded"] == layouts["single"] == layouts["mixed"], limit


def test_a_listing_request_reads_at_most_its_budget_from_four_keys(
    stores: dict[str, ItemStore], dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Walking a sparse filter with a budget of 40 rows: no request reads more, and each gets
    most of its budget further down the listing (a key reads at most a chunk past the point
    the next page starts from), so the walk takes few requests."""
    monkeypatch.setattr(items_module, "LISTING_READ_BUDGET", 40)
    scanned: list[int] = []

    def record(parsed: dict[str, Any], **_: Any) -> None:
        scanned.append(parsed["ScannedCount"])

    events = dynamodb.meta.client.meta.events
    events.register("after-call.dynamodb.Query", record)
    requests = []
    before: Position | None = None
    try:
        while True:
            scanned.clear()
            items, before = stores["sharded"].newest(1, before=before, ticker="RARE")
            requests.append((ids(items), sum(scanned)))
            if before is None or len(requests) > 100:
                break
    finally:
        events.unregister("after-call.dynamodb.Query", record)
    assert max(read for _, read in requests) <= 40
    assert [i for page, _ in requests for i in page] == list(
        reversed(expected_order(lambda item: "RARE" in item.tickers))
    )
    # 160 rows at >= 20 rows of progress a request, plus one request per match and per hour.
    assert len(requests) <= 160 // 20 + 7 + 5, requests


def test_each_copy_of_the_index_holds_every_item(
    stores: dict[str, ItemStore], dynamodb: Any, settings: Settings, clock: Clock
) -> None:
    """by_bucket and by_bucket_r1 are the same index: a store reading either sees it all."""
    everything = expected_order()
    for name in BY_BUCKET_REPLICAS:
        reader = ItemStore(
            dynamodb,
            "sharded-items",
            "sharded-counters",
            ttl=timedelta(days=30),
            clock=clock,
            layout=IndexLayout(index_name=name),
        )
        assert ids(reader.after(Position.at(NOW - timedelta(hours=5)))) == everything
        assert ids(reader.newest(100)[0]) == list(reversed(everything))[:100]
