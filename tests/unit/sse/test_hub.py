"""The hub: one poller per process fanned out to bounded per-subscriber buffers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest

from sentiment.models import Item
from sentiment.positions import Position, utc_now
from sse.hub import POLL_OVERLAP, Hub, Subscriber, item_position
from tests.unit.conftest import Clock
from tests.unit.sse.conftest import (
    POLL,
    TIMEOUT,
    FakeSource,
    LogCapture,
    ago,
    make_item,
    refused,
    throttled,
    wait_polls,
    wait_until,
)


@pytest.fixture
def source() -> FakeSource:
    return FakeSource()


@pytest.fixture
def logs() -> LogCapture:
    return LogCapture()


@pytest.fixture
async def make_hub(source: FakeSource, logs: LogCapture) -> AsyncIterator[Callable[..., Hub]]:
    hubs: list[Hub] = []

    def build(**kwargs: object) -> Hub:
        kwargs.setdefault("buffer_size", 256)
        hub = Hub(source, POLL, logs.logger, **kwargs)  # type: ignore[arg-type]
        hubs.append(hub)
        return hub

    yield build
    for hub in hubs:
        await hub.close()


async def receive(subscriber: Subscriber, count: int, within: float = TIMEOUT) -> list[Item]:
    """Drain ``subscriber`` until it has handed over ``count`` items."""
    items: list[Item] = []
    async with asyncio.timeout(within):
        while len(items) < count:
            await subscriber.wait(1.0)
            items.extend(subscriber.drain())
    return items


def ids(items: list[Item]) -> list[str]:
    return [item.item_id for item in items]


def poller_tasks() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name() == "sse-hub-poller" and not t.done()]


# --- Subscriber ------------------------------------------------------------------------------


async def test_subscriber_wants_only_items_after_its_start() -> None:
    now = utc_now()
    subscriber = Subscriber(Position(now, "m"), None, capacity=10)

    assert not subscriber.wants(make_item(now - timedelta(microseconds=1), item_id="z"))
    assert not subscriber.wants(make_item(now, item_id="a"))
    assert not subscriber.wants(make_item(now, item_id="m"))  # exactly at the start
    assert subscriber.wants(make_item(now, item_id="n"))
    assert subscriber.wants(make_item(now + timedelta(microseconds=1), item_id="a"))


async def test_subscriber_ticker_filter_needs_one_shared_ticker() -> None:
    subscriber = Subscriber(Position.at(ago(60)), ["AAPL", "MSFT"], capacity=10)

    assert subscriber.wants(make_item(tickers=["AAPL"]))
    assert subscriber.wants(make_item(tickers=["GOOG", "MSFT"]))
    assert not subscriber.wants(make_item(tickers=["GOOG"]))
    assert not subscriber.wants(make_item(tickers=["AAP", "MSFTX"]))


async def test_full_buffer_drops_the_subscriber() -> None:
    subscriber = Subscriber(Position.at(ago(60)), None, capacity=2)
    items = [make_item() for _ in range(3)]

    subscriber.offer(items[0])
    subscriber.offer(items[1])
    assert not subscriber.dropped
    subscriber.offer(items[2])

    assert subscriber.dropped
    assert subscriber.drain() == []
    subscriber.offer(make_item())  # ignored once dropped
    assert subscriber.drain() == []
    async with asyncio.timeout(TIMEOUT):
        await subscriber.wait(60)  # returns at once: the stream must notice the drop


async def test_wait_returns_when_an_item_is_offered() -> None:
    subscriber = Subscriber(Position.at(ago(60)), None, capacity=5)
    item = make_item()

    async def offer_later() -> None:
        await asyncio.sleep(0.01)
        subscriber.offer(item)

    task = asyncio.create_task(offer_later())
    async with asyncio.timeout(TIMEOUT):
        await subscriber.wait(60)
    await task
    assert subscriber.drain() == [item]
    assert subscriber.drain() == []


# --- fan-out and filtering ------------------------------------------------------------------


async def test_one_polled_item_fans_out_to_every_subscriber(
    make_hub: Callable[..., Hub], source: FakeSource
) -> None:
    hub = make_hub()
    subscribers = [hub.subscribe(Position.at(ago(1))) for _ in range(25)]
    item = make_item()
    source.add(item)

    for subscriber in subscribers:
        assert await receive(subscriber, 1) == [item]
    await wait_polls(hub, 2)
    assert all(s.drain() == [] for s in subscribers)
    assert all(not s.dropped for s in subscribers)


async def test_subscriber_never_gets_items_at_or_before_its_start(
    make_hub: Callable[..., Hub], source: FakeSource
) -> None:
    hub = make_hub()
    moment = ago(0.5)
    source.add(
        make_item(moment - timedelta(milliseconds=1), item_id="before"),
        make_item(moment, item_id="at-a"),
        make_item(moment, item_id="at-b"),  # the start position itself
        make_item(moment, item_id="at-c"),
        make_item(moment + timedelta(milliseconds=1), item_id="after"),
    )
    early = hub.subscribe(Position.at(ago(1.5)))
    late = hub.subscribe(Position(moment, "at-b"))

    assert ids(await receive(early, 5)) == ["before", "at-a", "at-b", "at-c", "after"]
    assert ids(await receive(late, 2)) == ["at-c", "after"]
    await wait_polls(hub, 2)
    assert late.drain() == []


async def test_late_subscriber_gets_nothing_from_before_it_subscribed(
    make_hub: Callable[..., Hub], source: FakeSource
) -> None:
    hub = make_hub()
    first = hub.subscribe(Position.at(ago(1)))
    old = make_item()
    source.add(old)
    assert await receive(first, 1) == [old]

    second = hub.subscribe(Position.at(utc_now()))
    await wait_polls(hub, 3)  # `old` is still re-read in the overlap window
    assert second.drain() == []
    new = make_item()
    source.add(new)
    assert await receive(second, 1) == [new]
    assert await receive(first, 1) == [new]


async def test_ticker_filters(make_hub: Callable[..., Hub], source: FakeSource) -> None:
    hub = make_hub()
    start = Position.at(ago(1))
    everything = hub.subscribe(start)
    apple = hub.subscribe(start, ["AAPL"])
    others = hub.subscribe(start, ["MSFT", "TSLA"])
    items = [
        make_item(item_id="aapl", tickers=["AAPL"]),
        make_item(item_id="msft", tickers=["MSFT"]),
        make_item(item_id="goog-tsla", tickers=["GOOG", "TSLA"]),
        make_item(item_id="aapl-msft", tickers=["AAPL", "MSFT"]),
        make_item(item_id="goog", tickers=["GOOG"]),
    ]
    source.add(*items)

    assert ids(await receive(everything, 5)) == ["aapl", "msft", "goog-tsla", "aapl-msft", "goog"]
    assert ids(await receive(apple, 2)) == ["aapl", "aapl-msft"]
    assert ids(await receive(others, 3)) == ["msft", "goog-tsla", "aapl-msft"]
    await wait_polls(hub, 2)
    assert apple.drain() == []
    assert others.drain() == []


async def test_items_reread_in_the_overlap_window_are_published_once(
    make_hub: Callable[..., Hub], source: FakeSource
) -> None:
    hub = make_hub()
    subscriber = hub.subscribe(Position.at(ago(1)))
    first = make_item()
    source.add(first)
    assert await receive(subscriber, 1) == [first]

    await wait_polls(hub, 5)
    # The source returned `first` on every one of those polls.
    reads = [call for call in source.calls if call[0] < item_position(first)]
    assert len(reads) >= 5
    assert subscriber.drain() == []

    second = make_item()
    source.add(second)
    assert await receive(subscriber, 1) == [second]
    await wait_polls(hub, 3)
    assert subscriber.drain() == []


async def test_slow_subscriber_is_dropped_and_the_others_keep_receiving(
    make_hub: Callable[..., Hub], source: FakeSource
) -> None:
    hub = make_hub(buffer_size=2)
    start = Position.at(ago(1))
    slow = hub.subscribe(start)
    fast = hub.subscribe(start)
    items = [make_item(item_id=f"item-{n}") for n in range(4)]

    for item in items:
        source.add(item)
        assert await receive(fast, 1) == [item]  # one per poll: `fast` always has room

    assert slow.dropped
    assert slow.drain() == []
    assert not fast.dropped
    # The dropped subscriber stays registered until its stream unsubscribes; it stalls no one.
    hub.unsubscribe(fast)
    assert hub.running  # `slow` still holds the poller
    fast = hub.subscribe(Position.at(utc_now() - POLL_OVERLAP))
    late = make_item(item_id="item-late")
    source.add(late)
    assert await receive(fast, 1) == [late]


# --- the poller's life ------------------------------------------------------------------------


async def test_poller_starts_with_first_subscriber_and_stops_with_the_last(
    make_hub: Callable[..., Hub], source: FakeSource
) -> None:
    hub = make_hub()
    assert not hub.running
    assert hub._task is None
    await asyncio.sleep(5 * POLL)
    assert source.call_count == 0  # nobody listens: no reads

    first = hub.subscribe(Position.at(utc_now()))
    second = hub.subscribe(Position.at(utc_now()))
    assert hub.running
    assert len(poller_tasks()) == 1
    await wait_polls(hub, 2)

    hub.unsubscribe(first)
    assert hub.running
    task = hub._task
    assert task is not None
    hub.unsubscribe(second)
    assert not hub.running
    assert hub._task is None
    async with asyncio.timeout(TIMEOUT):
        await asyncio.gather(task, return_exceptions=True)
    assert task.done()
    assert poller_tasks() == []

    calls = source.call_count
    await asyncio.sleep(10 * POLL)
    assert source.call_count == calls  # stopped: no more reads

    # A new subscriber starts a new poller, which delivers.
    third = hub.subscribe(Position.at(ago(1)))
    assert hub.running
    assert hub._task is not None
    assert hub._task is not task
    item = make_item()
    source.add(item)
    assert await receive(third, 1) == [item]
    assert source.call_count > calls


async def test_unsubscribing_twice_is_harmless(make_hub: Callable[..., Hub]) -> None:
    hub = make_hub()
    subscriber = hub.subscribe(Position.at(utc_now()))
    hub.unsubscribe(subscriber)
    hub.unsubscribe(subscriber)

    assert not hub.running


@pytest.mark.parametrize("subscriber_count", [1, 20])
async def test_one_read_per_poll_whatever_the_number_of_subscribers(
    make_hub: Callable[..., Hub], source: FakeSource, subscriber_count: int
) -> None:
    hub = make_hub()
    for _ in range(subscriber_count):
        hub.subscribe(Position.at(utc_now()))
    assert len(poller_tasks()) == 1
    await wait_polls(hub, 1)

    calls_before, polls_before = source.call_count, hub.polls
    await wait_polls(hub, 10)
    polls = hub.polls - polls_before
    calls = source.call_count - calls_before

    # One source read per poll (a read may be in flight when either count is taken).
    assert polls - 1 <= calls <= polls + 1
    assert all(limit is None for _, limit in source.calls)
    assert len(poller_tasks()) == 1


async def test_close_stops_the_poller(make_hub: Callable[..., Hub]) -> None:
    hub = make_hub()
    hub.subscribe(Position.at(utc_now()))
    task = hub._task
    assert task is not None

    async with asyncio.timeout(TIMEOUT):
        await hub.close()

    assert task.done()
    assert not hub.running


# --- watermark and errors ---------------------------------------------------------------------


async def test_watermark_follows_the_poll_time_minus_the_overlap(
    make_hub: Callable[..., Hub], source: FakeSource
) -> None:
    clock = Clock(utc_now())
    polled_at = clock.now
    hub = make_hub(clock=clock)
    assert hub.watermark is None
    hub.subscribe(Position.at(clock.now))
    assert hub.watermark is None  # nothing polled yet

    await wait_polls(hub, 1)
    assert hub.watermark == Position.at(polled_at - POLL_OVERLAP)
    assert hub.watermark <= Position.at(polled_at)
    assert source.calls[0] == (Position.at(polled_at - POLL_OVERLAP), None)

    later = clock.advance(seconds=10)
    await wait_polls(hub, 2)
    assert hub.watermark == Position.at(later - POLL_OVERLAP)
    assert hub.watermark <= Position.at(later)
    # Each poll reads from the previous poll's watermark.
    assert source.calls[-1] == (Position.at(later - POLL_OVERLAP), None)


async def test_watermark_is_never_ahead_of_the_clock(
    make_hub: Callable[..., Hub], source: FakeSource
) -> None:
    hub = make_hub()
    hub.subscribe(Position.at(utc_now()))
    for _ in range(5):
        await wait_polls(hub, 1)
        assert hub.watermark is not None
        assert hub.watermark <= Position.at(utc_now() - POLL_OVERLAP)


async def test_failing_source_keeps_the_hub_alive_and_it_recovers(
    make_hub: Callable[..., Hub], source: FakeSource, logs: LogCapture
) -> None:
    durations: list[float] = []
    outages: list[str] = []
    failures: list[str] = []
    hub = make_hub(on_poll=durations.append, on_outage=outages.append, on_failure=failures.append)
    source.failures = [throttled(), throttled(), refused(), throttled()]
    subscriber = hub.subscribe(Position.at(ago(1)))
    item = make_item()
    source.add(item)

    assert await receive(subscriber, 1) == [item]
    assert hub.running
    assert source.failures == []
    # One outage of four failed polls: each kind logged and counted once, then one recovery.
    failing = logs.messages("storage poll failing")
    assert [f["kind"] for f in failing] == ["throttled", "unavailable"]
    assert "ThrottlingException" in failing[0]["error"]
    assert outages == ["throttled", "unavailable"]
    # Every failed poll is reported with its kind (the PollErrors metric).
    assert failures == ["throttled", "throttled", "unavailable", "throttled"]
    [recovered] = logs.messages("storage poll recovered")
    assert recovered["failures"] == 4
    assert recovered["kinds"] == ["throttled", "unavailable"]
    assert recovered["outage_seconds"] > 0
    assert hub.outage is None
    # Only successful polls count, and each reports its duration.
    await wait_until(lambda: len(durations) >= 1)
    assert hub.polls == len(durations)
    assert all(d >= 0 for d in durations)
    assert hub.polls < source.call_count


async def test_an_unexpected_error_is_logged_with_its_traceback_and_polling_goes_on(
    make_hub: Callable[..., Hub], source: FakeSource, logs: LogCapture
) -> None:
    hub = make_hub()
    source.failures = [RuntimeError("a bug"), RuntimeError("a bug")]
    subscriber = hub.subscribe(Position.at(ago(1)))
    item = make_item()
    source.add(item)

    assert await receive(subscriber, 1) == [item]
    [failing] = logs.messages("storage poll failing")
    assert failing["kind"] == "error"
    assert "RuntimeError: a bug" in failing["exception"]
    assert logs.messages("storage poll recovered")[0]["failures"] == 2


async def test_backoff_is_one_interval_then_two_with_jitter(make_hub: Callable[..., Hub]) -> None:
    hub = make_hub()
    for failures, (low, high) in {1: (0.75, 1.0), 2: (1.5, 2.0), 9: (1.5, 2.0)}.items():
        delays = [hub._backoff(failures) / POLL for _ in range(50)]
        assert all(low <= d <= high for d in delays), (failures, min(delays), max(delays))
        assert len(set(delays)) > 1


async def test_failures_do_not_move_the_watermark(
    make_hub: Callable[..., Hub], source: FakeSource
) -> None:
    clock = Clock(utc_now())
    first_poll = clock.now
    hub = make_hub(clock=clock)
    hub.subscribe(Position.at(clock.now))
    await wait_polls(hub, 1)
    assert hub.watermark == Position.at(first_poll - POLL_OVERLAP)

    source.failures = [RuntimeError("down")] * 3
    clock.advance(seconds=30)
    await wait_until(lambda: len(source.failures) == 0)
    assert hub.watermark == Position.at(first_poll - POLL_OVERLAP)
    await wait_polls(hub, 1)
    assert hub.watermark == Position.at(clock.now - POLL_OVERLAP)
