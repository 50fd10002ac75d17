"""The life of one stream (sse.stream.event_stream) with a fake source and a real hub."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.sse import ServerSentEvent

from sentiment.positions import Position, utc_now
from sentiment.settings import Settings
from sse import events
from sse.hub import POLL_OVERLAP, Subscriber, item_position
from sse.lifetime import stream_end
from sse.start import StartPoint, start_point
from tests.unit.conftest import Clock
from tests.unit.sse.conftest import (
    TIMEOUT,
    Consumer,
    Harness,
    ago,
    dashboard_metrics,
    events_counted,
    make_item,
    refused,
    throttled,
    wait_polls,
)

EVENT_TYPES = {"heartbeat", "metrics", "new_item", "resync"}


def position_of(event: ServerSentEvent) -> Position:
    assert event.id is not None
    return Position.decode(event.id)


def new_item_ids(sent: list[ServerSentEvent]) -> list[str]:
    return [e.data.item_id for e in sent if e.event == "new_item"]


def assert_well_formed(sent: list[ServerSentEvent]) -> None:
    """Every event but a final closing frame has a type and an id; ids never go backwards."""
    previous: Position | None = None
    for index, event in enumerate(sent):
        if event.event is None:
            assert index == len(sent) - 1, "only the last frame may be the closing comment"
            assert event.comment is not None
            assert event.comment.startswith("closing: ")
            assert event.retry == events.CLOSING_RETRY_MS
            assert event.data is None
        else:
            assert event.event in EVENT_TYPES
            assert event.data is not None
        position = position_of(event)
        if previous is not None:
            assert position >= previous, f"id went backwards at event {index}"
        previous = position


@pytest.fixture
def frozen() -> Clock:
    """A frozen clock at the real time (the hub reads the real clock)."""
    return Clock(utc_now())


# --- greeting -------------------------------------------------------------------------------


async def test_first_heartbeat_with_retry_then_metrics(
    make_harness: Callable[..., Harness], frozen: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    harness = make_harness(clock=frozen)
    request = harness.request()
    stream = Consumer(harness.stream(request))

    first, second = await stream.take(2)

    assert first.event == "heartbeat"
    assert first.retry == events.RETRY_MS == 3000
    assert first.id == Position.at(frozen.now).encode()
    assert isinstance(first.data, events.Heartbeat)
    assert first.data.timestamp == frozen.now
    assert first.data.connections == 1
    assert first.data.uptime_seconds >= 0

    assert second.event == "metrics"
    assert second.retry is None
    assert second.id == first.id
    assert second.data == dashboard_metrics(None)
    assert harness.metrics_service.calls == [(24, None)]

    assert events_counted(harness, capsys) == {"heartbeat": 1, "metrics": 1}
    opened = harness.logs.messages("stream opened")
    assert len(opened) == 1
    assert opened[0]["connection_id"] == request.slot.connection_id
    assert opened[0]["resumed"] is False
    assert opened[0]["connections"] == 1
    await stream.cancel()


async def test_heartbeat_counts_every_open_stream(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness()
    first = Consumer(harness.stream(harness.request()))
    await first.take(2)
    second = Consumer(harness.stream(harness.request()))

    heartbeat = await second.next()

    assert heartbeat.event == "heartbeat"
    assert heartbeat.data.connections == 2
    assert harness.hub.running
    await first.cancel()
    await second.cancel()
    assert harness.connections.active == 0


async def test_heartbeats_and_metrics_recur_at_their_intervals(
    make_harness: Callable[..., Harness],
) -> None:
    harness = make_harness(heartbeat_interval=0.03, metrics_interval=0.05)
    stream = Consumer(harness.stream(harness.request()))
    await stream.take(2)

    later = await stream.take(8)

    heartbeats = [e for e in later if e.event == "heartbeat"]
    metrics = [e for e in later if e.event == "metrics"]
    assert len(heartbeats) >= 3
    assert len(metrics) >= 2
    assert len(heartbeats) + len(metrics) == 8
    assert all(e.retry is None for e in later)  # retry only with the first event
    assert all(e.data.connections == 1 for e in heartbeats)
    assert all(e.data == dashboard_metrics(None) for e in metrics)
    assert_well_formed(stream.events)
    await stream.cancel()


# --- live items -----------------------------------------------------------------------------


async def test_live_item_arrives_as_new_item(
    make_harness: Callable[..., Harness], capsys: pytest.CaptureFixture[str]
) -> None:
    harness = make_harness()
    stream = Consumer(harness.stream(harness.request()))
    greeting = await stream.take(2)
    item = make_item()
    harness.source.add(item)

    event = await stream.next()

    assert event.event == "new_item"
    assert event.data == item
    assert position_of(event) >= position_of(greeting[-1])
    # At-least-once: resuming from this id would not skip the item.
    assert position_of(event) < item_position(item)
    assert events_counted(harness, capsys)["new_item"] == 1

    await wait_polls(harness.hub, 3)
    assert stream.pending() == []  # re-read in the overlap window, sent once
    await stream.cancel()


async def test_live_items_keep_their_order(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness()
    stream = Consumer(harness.stream(harness.request()))
    await stream.take(2)
    base = utc_now()
    items = [make_item(base + timedelta(microseconds=n), item_id=f"n-{n}") for n in range(5)]
    harness.source.add(*reversed(items))  # the source sorts, as the index does

    received = await stream.take(5)

    assert [e.event for e in received] == ["new_item"] * 5
    assert new_item_ids(received) == [f"n-{n}" for n in range(5)]
    assert_well_formed(stream.events)
    await stream.cancel()


async def test_config_stream_only_gets_items_sharing_a_ticker(
    make_harness: Callable[..., Harness],
) -> None:
    harness = make_harness()
    request = harness.request(tickers=["AAPL", "MSFT"], config_id="cfg-1")
    stream = Consumer(harness.stream(request))
    _, metrics = await stream.take(2)
    assert metrics.data.tickers == ["AAPL", "MSFT"]
    assert harness.metrics_service.calls == [(24, ["AAPL", "MSFT"])]

    harness.source.add(
        make_item(item_id="tsla", tickers=["TSLA"]),
        make_item(item_id="msft", tickers=["MSFT"]),
        make_item(item_id="goog-aapl", tickers=["GOOG", "AAPL"]),
        make_item(item_id="goog", tickers=["GOOG"]),
    )

    assert new_item_ids(await stream.take(2)) == ["msft", "goog-aapl"]
    await wait_polls(harness.hub, 3)
    assert stream.pending() == []
    assert harness.logs.messages("stream opened")[0]["config_id"] == "cfg-1"
    await stream.cancel()


# --- resuming -------------------------------------------------------------------------------


async def test_resumed_stream_replays_missed_items_oldest_first_then_goes_live(
    make_harness: Callable[..., Harness],
) -> None:
    harness = make_harness()
    start = StartPoint(Position(ago(30), "seen-last"), resumed=True)
    missed = [
        make_item(ago(20), item_id="missed-old"),  # outside the hub's overlap window
        make_item(ago(1.0), item_id="missed-recent"),  # the hub will read these two again
        make_item(ago(0.5), item_id="missed-newest"),
    ]
    harness.source.add(*reversed(missed))
    harness.source.add(make_item(ago(40), item_id="before-start"))
    stream = Consumer(harness.stream(harness.request(start)))

    greeting = await stream.take(5)

    assert [e.event for e in greeting] == [
        "heartbeat",
        "new_item",
        "new_item",
        "new_item",
        "metrics",
    ]
    assert new_item_ids(greeting) == ["missed-old", "missed-recent", "missed-newest"]
    assert [e.data for e in greeting[1:4]] == missed
    assert greeting[0].retry == 3000
    # Ids advance through the replay, but never past what was settled when it was read.
    ids = [position_of(e) for e in greeting]
    assert ids[0] == start.position
    assert ids[1] == Position(missed[0].ingested_at, "missed-old")
    assert ids == sorted(ids)
    assert all(p.ingested_at <= ago(0) - POLL_OVERLAP for p in ids[2:4])
    assert [c for c in harness.source.calls if c[1] is not None] == [(start.position, 51)]
    assert harness.logs.messages("stream opened")[0]["resumed"] is True

    # The hub reads the two recent items again (overlap window): they are not sent twice.
    await wait_polls(harness.hub, 3)
    assert stream.pending() == []
    live = make_item(item_id="live")
    harness.source.add(live)
    event = await stream.next()
    assert event.event == "new_item"
    assert event.data == live
    await wait_polls(harness.hub, 3)
    assert stream.pending() == []
    assert new_item_ids(stream.events) == ["missed-old", "missed-recent", "missed-newest", "live"]
    assert_well_formed(stream.events)
    await stream.cancel()


async def test_resumed_stream_with_nothing_missed(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness()
    start = StartPoint(Position(ago(5), "seen-last"), resumed=True)
    harness.source.add(make_item(ago(6), item_id="already-seen"))
    stream = Consumer(harness.stream(harness.request(start)))

    greeting = await stream.take(2)

    assert [e.event for e in greeting] == ["heartbeat", "metrics"]
    await wait_polls(harness.hub, 2)
    assert stream.pending() == []
    await stream.cancel()


async def test_config_stream_replays_only_its_tickers(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness()
    start = StartPoint(Position(ago(30), "seen-last"), resumed=True)
    harness.source.add(
        make_item(ago(20), item_id="aapl", tickers=["AAPL"]),
        make_item(ago(15), item_id="tsla", tickers=["TSLA"]),
        make_item(ago(10), item_id="msft-tsla", tickers=["MSFT", "TSLA"]),
    )
    stream = Consumer(harness.stream(harness.request(start, tickers=["AAPL", "MSFT"])))

    greeting = await stream.take(4)

    assert [e.event for e in greeting] == ["heartbeat", "new_item", "new_item", "metrics"]
    assert new_item_ids(greeting) == ["aapl", "msft-tsla"]
    await stream.cancel()


async def test_replay_past_the_limit_sends_resync_and_no_items(
    make_harness: Callable[..., Harness], frozen: Clock
) -> None:
    harness = make_harness(replay_limit=3, clock=frozen)
    start = StartPoint(Position(frozen.now - timedelta(seconds=30), "seen-last"), resumed=True)
    harness.source.add(
        *(make_item(frozen.now - timedelta(seconds=20 - n), item_id=f"old-{n}") for n in range(5))
    )
    stream = Consumer(harness.stream(harness.request(start)))

    greeting = await stream.take(3)

    assert [e.event for e in greeting] == ["heartbeat", "resync", "metrics"]
    resync = greeting[1]
    assert isinstance(resync.data, events.Resync)
    assert resync.data.reason == "replay_limit"
    assert resync.data.detail
    assert greeting[0].id == start.position.encode()
    live_from = Position.at(frozen.now - POLL_OVERLAP)
    assert resync.id == live_from.encode()
    # Live from there on: the hub's watermark (on its own clock) may carry the id further.
    assert Position.decode(greeting[2].id) >= live_from
    # A bounded read: one more than the limit tells "too many" apart from "exactly the limit".
    assert [c for c in harness.source.calls if c[1] is not None] == [(start.position, 4)]
    await wait_polls(harness.hub, 3)
    assert stream.pending() == []
    assert_well_formed(stream.events)
    await stream.cancel()


async def test_replay_of_exactly_the_limit_is_sent_in_full(
    make_harness: Callable[..., Harness],
) -> None:
    harness = make_harness(replay_limit=3)
    start = StartPoint(Position(ago(30), "seen-last"), resumed=True)
    harness.source.add(*(make_item(ago(20 - n), item_id=f"old-{n}") for n in range(3)))
    stream = Consumer(harness.stream(harness.request(start)))

    greeting = await stream.take(5)

    assert [e.event for e in greeting] == [
        "heartbeat",
        "new_item",
        "new_item",
        "new_item",
        "metrics",
    ]
    assert new_item_ids(greeting) == ["old-0", "old-1", "old-2"]
    await stream.cancel()


@pytest.mark.parametrize("reason", ["malformed", "expired"])
async def test_unusable_id_sends_resync_right_after_the_first_heartbeat(
    make_harness: Callable[..., Harness], frozen: Clock, reason: str
) -> None:
    harness = make_harness(clock=frozen)
    live = Position.at(frozen.now)
    stream = Consumer(harness.stream(harness.request(StartPoint(live, resync_reason=reason))))

    greeting = await stream.take(3)

    assert [e.event for e in greeting] == ["heartbeat", "resync", "metrics"]
    assert greeting[0].retry == 3000
    assert greeting[1].data == events.Resync(
        reason=reason,  # type: ignore[arg-type]
        detail="reload the REST snapshot; this stream continues live",
    )
    assert [e.id for e in greeting] == [live.encode()] * 3
    assert harness.source.calls == [] or all(c[1] is None for c in harness.source.calls)
    await stream.cancel()


async def test_no_item_is_lost_across_a_reconnect(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness()
    first = Consumer(harness.stream(harness.request()))
    await first.take(2)
    delivered = [make_item(item_id="a-1"), make_item(item_id="a-2")]
    for item in delivered:
        harness.source.add(item)
        await first.next_of("new_item")
    last_id = first.events[-1].id
    await first.cancel()
    missed = [make_item(item_id="gap-1"), make_item(item_id="gap-2")]
    harness.source.add(*missed)  # while no stream is open

    start = start_point(last_id, utc_now())
    assert start.resumed
    assert start.resync_reason is None
    second = Consumer(harness.stream(harness.request(start)))
    await second.next_of("metrics")
    harness.source.add(after := make_item(item_id="after"))
    async with asyncio.timeout(TIMEOUT):
        while "after" not in new_item_ids(second.events):
            await second.next_of("new_item")

    received = new_item_ids(second.events)
    assert {"gap-1", "gap-2", "after"} <= set(received)
    assert received.index("gap-1") < received.index("gap-2") < received.index("after")
    assert len(received) == len(set(received))  # no repeats within one connection
    assert after.item_id == received[-1]
    await second.cancel()


# --- ending -------------------------------------------------------------------------------


async def test_past_end_closes_right_after_the_first_heartbeat(
    make_harness: Callable[..., Harness], frozen: Clock
) -> None:
    harness = make_harness(clock=frozen)
    request = harness.request(end_in=-1)
    stream = Consumer(harness.stream(request))

    sent = await stream.take(2)
    await stream.wait_finished()

    assert [e.event for e in sent] == ["heartbeat", None]
    closing = sent[1]
    assert closing.comment == "closing: lifetime"
    assert closing.retry == 250
    assert closing.data is None
    assert closing.raw_data is None
    assert closing.id == Position.at(frozen.now).encode()
    assert stream.error is None
    assert stream.events == sent
    assert request.slot.release() is False  # released already
    assert not harness.hub.running
    assert harness.metrics_service.calls == []
    assert [r["reason"] for r in harness.logs.messages("stream closed")] == ["lifetime"]


async def test_stream_ends_when_its_lifetime_runs_out_while_waiting(
    make_harness: Callable[..., Harness],
) -> None:
    harness = make_harness()
    request = harness.request(end_in=0.2)
    stream = Consumer(harness.stream(request))

    await stream.wait_finished()

    assert [e.event for e in stream.events] == ["heartbeat", "metrics", None]
    assert stream.events[-1].comment == "closing: lifetime"
    assert request.slot.release() is False  # released already


async def test_slow_subscriber_stream_closes_so_the_client_resumes(
    make_harness: Callable[..., Harness],
) -> None:
    harness = make_harness(buffer_size=2)
    request = harness.request()
    stream = Consumer(harness.stream(request))
    greeting = await stream.take(2)
    burst = [make_item(item_id=f"burst-{n}") for n in range(3)]
    harness.source.add(*burst)  # three items in one poll: more than the buffer holds

    await stream.wait_finished()

    closing = stream.events[-1]
    assert [e.event for e in stream.events] == ["heartbeat", "metrics", None]
    assert closing.comment == "closing: slow_subscriber"
    assert closing.retry == 250
    # Resuming from the closing id replays the whole burst: nothing is lost.
    assert position_of(closing) >= position_of(greeting[-1])
    assert all(position_of(closing) < item_position(item) for item in burst)
    assert request.slot.release() is False  # released already
    assert not harness.hub.running
    assert [r["reason"] for r in harness.logs.messages("stream closed")] == ["slow_subscriber"]


# --- the whole contract at once --------------------------------------------------------------


async def test_every_event_has_a_type_and_an_id_and_ids_never_go_backwards(
    make_harness: Callable[..., Harness], capsys: pytest.CaptureFixture[str]
) -> None:
    harness = make_harness(heartbeat_interval=0.04, metrics_interval=0.06)
    start = StartPoint(Position(ago(10), "seen-last"), resumed=True)
    harness.source.add(make_item(ago(5), item_id="missed-1"), make_item(ago(1), item_id="missed-2"))
    request = harness.request(start, end_in=1.0)
    stream = Consumer(harness.stream(request))
    await stream.next_of("metrics")

    for n in range(3):
        harness.source.add(make_item(item_id=f"live-{n}"))
        await asyncio.sleep(0.1)
    await stream.wait_finished()

    sent = stream.events
    assert stream.error is None
    assert sent[0].event == "heartbeat"
    assert sent[0].retry == 3000
    assert all(e.retry is None for e in sent[1:-1])
    assert sent[-1].comment == "closing: lifetime"
    assert_well_formed(sent)
    assert new_item_ids(sent) == ["missed-1", "missed-2", "live-0", "live-1", "live-2"]
    assert {e.event for e in sent[:-1]} == {"heartbeat", "metrics", "new_item"}
    # The stream's position moves forward with the hub's watermark.
    assert position_of(sent[-1]) > start.position
    assert events_counted(harness, capsys)["new_item"] == 5
    assert request.slot.release() is False  # released already


# --- sick storage ---------------------------------------------------------------------------


async def test_heartbeats_keep_their_schedule_while_metrics_stall(
    make_harness: Callable[..., Harness],
) -> None:
    harness = make_harness(heartbeat_interval=0.05, metrics_interval=0.05)
    harness.metrics_service.open.clear()
    stream = Consumer(harness.stream(harness.request()))

    stalled = await stream.take(6, within=1.0)
    harness.metrics_service.open.set()
    metrics = await stream.next_of("metrics")

    assert [e.event for e in stalled] == ["heartbeat"] * 6
    assert metrics.data == dashboard_metrics(None)
    # One refresh at a time: the rounds that fell due while it stalled were skipped.
    assert len(harness.metrics_service.calls) == 1
    await stream.cancel()


async def test_a_failed_metrics_refresh_sends_the_last_good_snapshot(
    make_harness: Callable[..., Harness],
) -> None:
    harness = make_harness(metrics_interval=0.05, metrics_ttl=0)
    stream = Consumer(harness.stream(harness.request()))
    good = await stream.next_of("metrics")
    harness.metrics_service.failures = [throttled()]
    harness.metrics_service.total = 99

    again = await stream.next_of("metrics")
    fresh = await stream.next_of("metrics")

    assert again.data == good.data  # the newest good snapshot, its generated_at unchanged
    assert fresh.data.total == 99
    assert len(harness.logs.messages("metrics refresh failed; streams send the last snapshot")) == 1
    assert len(harness.logs.messages("metrics refresh recovered")) == 1
    assert stream.error is None
    await stream.cancel()


async def test_no_snapshot_yet_and_a_failed_refresh_skips_the_round(
    make_harness: Callable[..., Harness],
) -> None:
    harness = make_harness(heartbeat_interval=0.02, metrics_interval=0.05, metrics_ttl=0)
    harness.metrics_service.failures = [throttled()] * 3
    stream = Consumer(harness.stream(harness.request()))

    metrics = await stream.next_of("metrics")

    assert len(harness.metrics_service.calls) == 4
    assert metrics.data == dashboard_metrics(None)
    assert {e.event for e in stream.events[:-1]} == {"heartbeat"}
    await stream.cancel()


async def test_replay_is_retried_until_storage_answers_and_nothing_is_lost(
    make_harness: Callable[..., Harness],
) -> None:
    harness = make_harness(separate_replay_source=True, heartbeat_interval=0.02)
    missed = [make_item(ago(20 - n), item_id=f"missed-{n}") for n in range(3)]
    harness.replay_source.add(*missed)
    harness.replay_source.failures = [refused(), throttled(), refused()]
    start = StartPoint(Position(ago(30), "seen-last"), resumed=True)
    stream = Consumer(harness.stream(harness.request(start)))

    events_until_items = []
    while len(new_item_ids(events_until_items)) < 3:
        events_until_items.append(await stream.next())

    sent = events_until_items
    first_item = next(i for i, e in enumerate(sent) if e.event == "new_item")
    assert {e.event for e in sent[:first_item]} == {"heartbeat"}
    assert first_item >= 2  # heartbeats went out while storage was away
    assert new_item_ids(sent) == ["missed-0", "missed-1", "missed-2"]
    assert [c[1] for c in harness.replay_source.calls] == [51] * 4
    assert len(harness.logs.messages("replay read failed; retrying")) == 1
    assert stream.error is None
    assert_well_formed(stream.events)
    await stream.cancel()


async def test_an_unexpected_error_ends_the_stream_with_its_closing_event(
    make_harness: Callable[..., Harness],
) -> None:
    harness = make_harness(metrics_interval=0.01)
    harness.runtime.metrics.latest = None  # type: ignore[method-assign,assignment]
    harness.metrics_service.failures = [throttled()]
    request = harness.request()
    stream = Consumer(harness.stream(request))

    await stream.wait_finished()

    assert stream.error is None
    assert stream.events[-1].comment == "closing: error"
    assert stream.events[-1].id == stream.events[0].id
    assert request.slot.release() is False  # released already
    assert len(harness.logs.messages("stream failed")) == 1
    assert [r["reason"] for r in harness.logs.messages("stream closed")] == ["error"]


# --- the default cadences, on a fake clock ---------------------------------------------------


class FakeMonotonic:
    """A monotonic clock that moves only when a stream waits with nothing to wake it."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake_monotonic(monkeypatch: pytest.MonkeyPatch) -> FakeMonotonic:
    """Subscribers wait on the fake clock: a wait that nothing ends within a moment of real
    time (a background read finishing, an item offered) lets the whole timeout pass at once."""
    fake = FakeMonotonic()

    async def wait(self: Subscriber, seconds: float) -> None:
        if self._buffer or self.dropped or seconds <= 0:
            return
        self._waiter = waiter = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait_for(asyncio.shield(waiter), 0.05)
        except TimeoutError:
            fake.now += seconds
        finally:
            self._waiter = None

    monkeypatch.setattr(Subscriber, "wait", wait)
    return fake


async def test_default_cadences_heartbeat_and_metrics_every_30_s_until_the_lifetime(
    make_harness: Callable[..., Harness], fake_monotonic: FakeMonotonic
) -> None:
    defaults = Settings()
    harness = make_harness(
        heartbeat_interval=defaults.SSE_HEARTBEAT_INTERVAL,
        metrics_interval=defaults.SSE_METRICS_INTERVAL,
        monotonic=fake_monotonic,
    )
    opened = fake_monotonic.now
    lifetime = stream_end(defaults.SSE_MAX_STREAM_SECONDS, None, now=opened, jitter=0.9) - opened
    request = harness.request(end_in=lifetime)

    sent: list[tuple[float, str | None]] = []
    async with asyncio.timeout(60):
        async for event in harness.stream(request):
            sent.append((round(fake_monotonic.now - opened, 3), event.event))

    assert lifetime == 756.0  # 90% of the default 840 s cap
    beats = [at for at, kind in sent if kind == "heartbeat"]
    metrics = [at for at, kind in sent if kind == "metrics"]
    assert beats == [30.0 * n for n in range(26)]  # the greeting, then every 30 s
    assert metrics == [30.0 * n for n in range(26)]  # the first at once, then every 30 s
    assert sent[-1] == (756.0, None)  # the closing frame, at the end of the lifetime
    assert [r["reason"] for r in harness.logs.messages("stream closed")] == ["lifetime"]
