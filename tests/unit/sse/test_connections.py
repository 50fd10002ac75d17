"""The connection manager: a capped number of slots, each released exactly once, on every
exit path of a stream (client gone, cancellation, error)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

import pytest

from sentiment.positions import Position
from sse.connections import ConnectionManager, Slot
from sse.start import StartPoint
from tests.unit.sse.conftest import TIMEOUT, Harness, ago, make_item, wait_until


def test_limit_is_enforced_and_rejections_are_counted() -> None:
    manager = ConnectionManager(3)
    assert (manager.limit, manager.active, manager.available, manager.rejected) == (3, 0, 3, 0)

    slots = [manager.try_acquire() for _ in range(3)]
    assert all(isinstance(slot, Slot) for slot in slots)
    assert (manager.active, manager.available) == (3, 0)

    assert manager.try_acquire() is None
    assert manager.try_acquire() is None
    assert (manager.active, manager.available, manager.rejected) == (3, 0, 2)

    assert slots[0] is not None
    assert slots[0].release() is True
    assert (manager.active, manager.available) == (2, 1)
    again = manager.try_acquire()
    assert again is not None
    assert (manager.active, manager.available, manager.rejected) == (3, 0, 2)


@pytest.mark.parametrize("limit", [0, -1])
def test_limit_must_be_positive(limit: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ConnectionManager(limit)


def test_slots_have_distinct_connection_ids() -> None:
    manager = ConnectionManager(20)
    slots = [manager.try_acquire() for _ in range(20)]
    ids = [slot.connection_id for slot in slots if slot is not None]

    assert len(set(ids)) == 20
    assert all(re.fullmatch(r"[0-9a-f]{12}", i) for i in ids)


def test_double_release_is_safe_and_decrements_once() -> None:
    manager = ConnectionManager(2)
    first, second = manager.try_acquire(), manager.try_acquire()
    assert first is not None
    assert second is not None

    assert first.release() is True
    assert first.release() is False
    assert first.release() is False

    assert (manager.active, manager.available) == (1, 1)
    assert second.release() is True
    assert (manager.active, manager.available) == (0, 2)


async def test_concurrent_acquire_hands_out_exactly_the_limit() -> None:
    manager = ConnectionManager(10)
    go = asyncio.Event()
    done = asyncio.Event()

    async def client() -> Slot | None:
        await go.wait()
        await asyncio.sleep(0)
        slot = manager.try_acquire()
        await asyncio.sleep(0)
        if slot is not None:
            await done.wait()  # hold the slot while the others race
        return slot

    tasks = [asyncio.create_task(client()) for _ in range(50)]
    await asyncio.sleep(0)
    go.set()
    await wait_until(lambda: manager.active + manager.rejected == 50)
    assert (manager.active, manager.available, manager.rejected) == (10, 0, 40)
    done.set()
    async with asyncio.timeout(TIMEOUT):
        results = await asyncio.gather(*tasks)

    granted = [slot for slot in results if slot is not None]
    assert len(granted) == 10
    assert len({slot.connection_id for slot in granted}) == 10
    for slot in granted:
        slot.release()
    assert (manager.active, manager.available) == (0, 10)


# --- slots through a real stream ------------------------------------------------------------


def assert_torn_down(harness: Harness, slot: Slot, poller: asyncio.Task[None] | None) -> None:
    assert slot.release() is False  # released already
    assert harness.connections.active == 0
    assert harness.connections.available == harness.connections.limit
    assert not harness.hub.running  # the last subscriber is gone
    assert poller is None or poller.done()


async def test_slot_released_when_the_generator_is_closed(
    make_harness: Callable[..., Harness],
) -> None:
    harness = make_harness()
    request = harness.request()
    gen = harness.stream(request)

    async with asyncio.timeout(TIMEOUT):
        first = await anext(gen)
        second = await anext(gen)
    assert (first.event, second.event) == ("heartbeat", "metrics")
    assert harness.connections.active == 1
    assert harness.hub.running
    assert harness.hub.running
    poller = harness.hub._task

    await gen.aclose()

    await wait_until(lambda: poller is None or poller.done())
    assert_torn_down(harness, request.slot, poller)
    closed = harness.logs.messages("stream closed")
    assert len(closed) == 1
    assert closed[0]["reason"] == "client_gone"
    assert closed[0]["connection_id"] == request.slot.connection_id
    # The slot is released once: a second release (as the route's dependency does) is a no-op.
    assert request.slot.release() is False
    assert harness.connections.active == 0


async def test_slot_released_when_the_consuming_task_is_cancelled(
    make_harness: Callable[..., Harness],
) -> None:
    harness = make_harness()
    request = harness.request()
    gen = harness.stream(request)
    received: list[str | None] = []

    async def consume() -> None:
        async for event in gen:
            received.append(event.event)

    task = asyncio.create_task(consume())
    await wait_until(lambda: len(received) >= 2)  # greeting sent: now waiting on the hub
    await asyncio.sleep(0.05)
    assert received == ["heartbeat", "metrics"]
    assert harness.connections.active == 1
    poller = harness.hub._task

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(TIMEOUT):
            await task

    await wait_until(lambda: poller is None or poller.done())
    assert_torn_down(harness, request.slot, poller)
    assert [r["reason"] for r in harness.logs.messages("stream closed")] == ["client_gone"]


async def test_failing_replay_is_retried_with_heartbeats_and_the_slot_freed_at_the_end(
    make_harness: Callable[..., Harness],
) -> None:
    harness = make_harness(separate_replay_source=True, heartbeat_interval=0.05)
    harness.replay_source.replay_error = RuntimeError("table unreachable")
    start = StartPoint(Position(ago(30), "item-1"), resumed=True)
    request = harness.request(start, end_in=0.5)
    poller = None

    async with asyncio.timeout(TIMEOUT):
        events = []
        async for event in harness.stream(request):
            events.append(event)
            poller = poller or harness.hub._task
            assert harness.connections.active == 1

    # Heartbeats all along, never an error: the stream closes cleanly at the end of its life.
    assert {e.event for e in events[:-1]} == {"heartbeat"}
    assert len(events) >= 5
    assert events[-1].comment == "closing: lifetime"
    await wait_until(lambda: poller is None or poller.done())
    assert_torn_down(harness, request.slot, poller)
    calls = harness.replay_source.calls
    assert len(calls) >= 2
    assert set(calls) == {(start.position, 51)}
    assert [r["reason"] for r in harness.logs.messages("stream closed")] == ["lifetime"]
    assert len(harness.logs.messages("replay read failed; retrying")) == 1
    assert harness.logs.messages("stream failed") == []


async def test_slot_released_when_the_stream_reaches_its_end(
    make_harness: Callable[..., Harness],
) -> None:
    harness = make_harness()
    request = harness.request(end_in=0.3)

    async with asyncio.timeout(TIMEOUT):
        events = [event async for event in harness.stream(request)]

    assert [e.event for e in events] == ["heartbeat", "metrics", None]
    assert_torn_down(harness, request.slot, None)
    assert [r["reason"] for r in harness.logs.messages("stream closed")] == ["lifetime"]


async def test_many_streams_each_hold_one_slot_and_free_it(
    make_harness: Callable[..., Harness],
) -> None:
    harness = make_harness(max_connections=5)
    requests = [harness.request() for _ in range(5)]
    gens = [harness.stream(r) for r in requests]
    async with asyncio.timeout(TIMEOUT):
        for gen in gens:
            assert (await anext(gen)).event == "heartbeat"
    assert harness.connections.try_acquire() is None
    assert harness.hub.running

    harness.source.add(make_item())
    async with asyncio.timeout(TIMEOUT):
        for gen in gens:  # the first metrics and the item, in whichever order they are ready
            assert {(await anext(gen)).event, (await anext(gen)).event} == {"metrics", "new_item"}

    for count, gen in enumerate(gens, start=1):
        await gen.aclose()
        assert harness.connections.active == 5 - count
        assert harness.hub.running is (count < 5)
    assert not harness.hub.running
    assert all(r.slot.release() is False for r in requests)
