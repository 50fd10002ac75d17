"""Streams through a sick DynamoDB: an SSE app whose storage goes through a fault proxy.

Each fault runs for a minute against an SSE app of its own (they run side by side, so the four
minutes take one), with two open streams (global and a watch list) and items posted through the
healthy dashboard before, during and after the fault. For each fault: heartbeats keep their
schedule, no stream ends, no slot leaks, the poller logs the fault once, and every item arrives
exactly once, within the poll interval + 2 s of storage coming back.

The SSE apps' storage client gives up sooner than on Lambda (1 s to connect, 3 s to read, two
attempts: about 9 s in all), so every fault outlasts the client's whole retry budget, and the
added latency (2 s) stays within one attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.utils.factories import configuration_payload, item_payload
from tests.utils.faults import FaultProxy, app_behind
from tests.utils.processes import RunningStack, stream_status
from tests.utils.sse import Event, StreamReader, open_stream

pytestmark = pytest.mark.integration

FAULT_SECONDS = 60.0
HEARTBEAT = 1.0
POLL = 0.5
POST_EVERY = 5.0
SICK_STORAGE_ENV = {
    "DYNAMODB_CONNECT_TIMEOUT": "1",
    "DYNAMODB_READ_TIMEOUT": "3",
    "DYNAMODB_MAX_ATTEMPTS": "2",
    "SSE_MAX_STREAM_SECONDS": "900",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}
# Each fault's items name a ticker of their own, so the four runs side by side stay apart.
TICKERS = {"stall": "STALL", "refused": "REFUSE", "latency": "SLOW", "throttled": "THROTTL"}


@dataclass
class Outcome:
    """What the streams of one fault saw."""

    fault: str
    ticker: str = ""
    readers: dict[str, StreamReader] = field(default_factory=dict)
    stored: dict[str, float] = field(default_factory=dict)  # item_id -> when its POST returned
    fault_start: float = 0.0
    fault_end: float = 0.0
    fault_end_wall: float = 0.0  # time.time() when storage came back
    ended: dict[str, bool] = field(default_factory=dict)  # streams that ended on their own
    status_after: dict[str, Any] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    def deadline(self, item_id: str) -> float:
        """When an item must have arrived: poll interval + 2 s after it was stored, or after
        storage came back if it was stored during the fault."""
        stored = self.stored[item_id]
        since = self.fault_end if self.fault_start <= stored < self.fault_end else stored
        return since + POLL + 2.0

    def delivered(self, stream: str) -> list[Any]:
        """This fault's new_item events on one of its streams (the global stream also gets the
        other faults' items)."""
        return [e for e in self.readers[stream].of("new_item") if self.ticker in e.data["tickers"]]

    def longest_heartbeat_gap(self) -> float:
        beats = [[e.received for e in r.of("heartbeat")] for r in self.readers.values()]
        return max((b - a for one in beats for a, b in itertools.pairwise(one)), default=0.0)

    def lost(self, stream: str) -> int:
        return len(set(self.stored) - set(self.arrivals(stream)))

    def summary(self) -> str:
        """The figures of this fault, printed for a run with -s."""
        lost = ", ".join(f"{n} {self.lost(n)}" for n in self.readers)
        return (
            f"{self.fault}: longest heartbeat gap {self.longest_heartbeat_gap():.2f} s; "
            f"items lost of {len(self.stored)} stored: {lost}"
        )

    def arrivals(self, stream: str) -> dict[str, float]:
        return {e.data["item_id"]: e.received for e in self.delivered(stream)}

    def log_records(self, message: str) -> list[dict[str, Any]]:
        records = []
        for line in self.log:
            _, _, text = line.partition("| ")
            with contextlib.suppress(ValueError):
                record = json.loads(text)
                if isinstance(record, dict) and record.get("message") == message:
                    records.append(record)
        return records


Inject = Callable[[FaultProxy], Awaitable[None]]


async def _stall(proxy: FaultProxy) -> None:
    proxy.stall()


async def _refuse(proxy: FaultProxy) -> None:
    await proxy.refuse()


async def _slow(proxy: FaultProxy) -> None:
    proxy.slow(2.0)


async def _throttle(proxy: FaultProxy) -> None:
    proxy.throttle(0.2)


FAULTS: dict[str, Inject] = {
    "stall": _stall,
    "refused": _refuse,
    "latency": _slow,
    "throttled": _throttle,
}


async def _post(client: httpx.AsyncClient, stack: RunningStack, outcome: Outcome) -> None:
    item = item_payload(tickers=[outcome.ticker])
    response = await client.post("/api/v2/items", json=item, headers={"X-API-Key": stack.api_key})
    assert response.status_code == 201, response.text
    outcome.stored[item["item_id"]] = time.monotonic()


async def _config_stream_url(
    client: httpx.AsyncClient, sse_url: str, ticker: str
) -> tuple[str, str]:
    session = (await client.post("/api/v2/auth/anonymous")).json()
    headers = {"Authorization": f"Bearer {session['token']}"}
    config = await client.post(
        "/api/v2/configurations",
        json=configuration_payload(tickers=[ticker]),
        headers=headers,
    )
    assert config.status_code == 201, config.text
    url = f"{sse_url}/api/v2/configurations/{config.json()['config_id']}/stream"
    return url, session["token"]


def _all_arrived(outcome: Outcome, stream: str) -> bool:
    return set(outcome.stored) <= set(outcome.arrivals(stream))


async def _run(stack: RunningStack, name: str, inject: Inject) -> Outcome:
    outcome = Outcome(name, TICKERS[name])
    proxy = FaultProxy(stack.dynamodb_url)
    await proxy.start()
    limits = httpx.Limits(max_keepalive_connections=0)
    timeout = httpx.Timeout(10, read=30)
    try:
        async with (
            httpx.AsyncClient(base_url=stack.dashboard_url, timeout=10) as api,
            httpx.AsyncClient(timeout=timeout, limits=limits) as streams,
            app_behind(proxy, stack, SICK_STORAGE_ENV, output=outcome.log) as sse_url,
        ):
            config_url, token = await _config_stream_url(api, sse_url, outcome.ticker)
            auth = {"Authorization": f"Bearer {token}"}
            async with (
                open_stream(streams, f"{sse_url}/api/v2/stream") as everything,
                open_stream(streams, config_url, headers=auth) as watched,
            ):
                outcome.readers = {"global": everything, "config": watched}
                for reader in outcome.readers.values():
                    await reader.next_of("metrics", timeout=15)
                for _ in range(2):
                    await _post(api, stack, outcome)
                for name, reader in outcome.readers.items():  # delivered while healthy
                    await reader.wait_for(lambda _, n=name: _all_arrived(outcome, n))

                outcome.fault_start = time.monotonic()
                await inject(proxy)
                while time.monotonic() < outcome.fault_start + FAULT_SECONDS:
                    await _post(api, stack, outcome)
                    await asyncio.sleep(POST_EVERY)
                await proxy.restart()
                outcome.fault_end, outcome.fault_end_wall = time.monotonic(), time.time()

                for _ in range(2):
                    await _post(api, stack, outcome)
                # Then the healthy streams for a while: every item, fresh metrics, heartbeats.
                with contextlib.suppress(TimeoutError):
                    for name, reader in outcome.readers.items():
                        await reader.wait_for(lambda _, n=name: _all_arrived(outcome, n), 30)
                        await reader.wait_for(lambda e: _fresh_metrics(e, outcome), timeout=15)
                outcome.ended = {n: r.ended.is_set() for n, r in outcome.readers.items()}
            await asyncio.sleep(1)
            outcome.status_after = await asyncio.to_thread(stream_status, sse_url)
    finally:
        await proxy.close()
    return outcome


def _fresh_metrics(event: Event, outcome: Outcome) -> bool:
    """A metrics event computed after storage came back."""
    if event.type != "metrics":
        return False
    generated = datetime.fromisoformat(event.data["generated_at"]).timestamp()
    return generated > outcome.fault_end_wall


@pytest.fixture(scope="module")
def outcomes(stack: RunningStack) -> dict[str, Outcome]:
    """Every fault at once, each against its own SSE app and proxy."""

    async def all_faults() -> list[Outcome]:
        return await asyncio.gather(*(_run(stack, n, f) for n, f in FAULTS.items()))

    done = {outcome.fault: outcome for outcome in asyncio.run(all_faults())}
    for outcome in done.values():
        print(outcome.summary())
    return done


@pytest.fixture(params=list(FAULTS))
def outcome(request: pytest.FixtureRequest, outcomes: dict[str, Outcome]) -> Iterator[Outcome]:
    return outcomes[request.param]


def test_heartbeats_keep_their_schedule(outcome: Outcome) -> None:
    for name, reader in outcome.readers.items():
        beats = [e.received for e in reader.of("heartbeat")]
        gaps = [b - a for a, b in itertools.pairwise(beats)]
        assert len(beats) >= FAULT_SECONDS / HEARTBEAT, (name, len(beats))
        assert max(gaps) <= HEARTBEAT + 1.0, (name, max(gaps))


def test_no_stream_ends_and_no_slot_leaks(outcome: Outcome) -> None:
    assert outcome.ended == {"global": False, "config": False}
    for name, reader in outcome.readers.items():
        assert reader.of("resync") == [], name
    assert outcome.status_after["connections"] == 0
    assert outcome.status_after["poller_running"] is False


def test_every_item_arrives_once_in_time(outcome: Outcome) -> None:
    assert len(outcome.stored) >= FAULT_SECONDS / POST_EVERY
    for name in outcome.readers:
        delivered = [e.data["item_id"] for e in outcome.delivered(name)]
        assert sorted(delivered) == sorted(outcome.stored), (name, "lost or repeated items")
        late = {
            item_id: round(arrived - outcome.deadline(item_id), 2)
            for item_id, arrived in outcome.arrivals(name).items()
            if arrived > outcome.deadline(item_id)
        }
        assert late == {}, (name, "seconds past the deadline", late)


def test_metrics_resume_after_the_fault(outcome: Outcome) -> None:
    watched = [e for e in outcome.readers["config"].of("metrics") if _fresh_metrics(e, outcome)]
    assert watched, "no fresh metrics event after storage came back"
    assert watched[-1].data["tickers"] == [outcome.ticker]
    assert watched[-1].data["total"] >= len(outcome.stored) - 2
    assert any(_fresh_metrics(e, outcome) for e in outcome.readers["global"].of("metrics"))


@pytest.mark.parametrize("fault", ["stall", "refused"])
def test_the_poller_logs_an_outage_once_per_kind(outcomes: dict[str, Outcome], fault: str) -> None:
    outcome = outcomes[fault]
    kinds = [r["kind"] for r in outcome.log_records("storage poll failing")]
    recovered = outcome.log_records("storage poll recovered")
    # One outage: each kind of failure it showed logged once (dozens of polls failed).
    assert kinds[:1] == [{"stall": "timeout", "refused": "unavailable"}[fault]]
    assert len(kinds) == len(set(kinds)), kinds
    assert len(recovered) == 1
    assert recovered[0]["kinds"] == sorted(kinds)
    assert recovered[0]["failures"] >= 2
    assert recovered[0]["outage_seconds"] >= FAULT_SECONDS / 2
