"""The SSE app's EMF metrics, as a real process writes them, against what the test did.

One SSE app (run.sh, metrics enabled, its DynamoDB behind a fault proxy) serves a scripted
session: two global streams, a third refused for capacity, three items posted through the
dashboard, a storage outage of throttled polls, a stream ended by its Lambda deadline, and the
two first streams closed by their clients. Its stdout is parsed for EMF documents (one JSON
object per line with an ``_aws`` key, as CloudWatch Logs reads them) and every count, unit and
dimension is checked against that script. The last stream to close must flush at once: on
Lambda nothing flushes after the invocation ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from sse.lifetime import DEADLINE_MARGIN_SECONDS
from sse.telemetry import METRIC_NAMES, POLL_ERROR_KINDS, STREAM_END_REASONS
from tests.utils.factories import item_payload
from tests.utils.faults import FaultProxy, app_behind
from tests.utils.processes import RunningStack, stream_status, wait_for
from tests.utils.sse import Event, StreamReader, open_stream

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

NAMESPACE = "SentimentMetricsTest"
APP_ENV = {
    "POWERTOOLS_METRICS_DISABLED": "false",
    "METRICS_NAMESPACE": NAMESPACE,
    "SSE_MAX_CONNECTIONS": "2",
    # A throttled poll fails at once (no client retries), so the outage is quick to see.
    "DYNAMODB_MAX_ATTEMPTS": "1",
    "SSE_MAX_STREAM_SECONDS": "900",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}
PAGE_ID = "emf-test-page-0001"
UNITS = {
    "StreamsOpened": "Count",
    "StreamsClosed": "Count",
    "StreamsRejected": "Count",
    "StreamSeconds": "Seconds",
    "EventsSent": "Count",
    "DeliveryLag": "Milliseconds",
    "Polls": "Count",
    "PollDuration": "Milliseconds",
    "PollErrors": "Count",
}
# The one dimension (besides service and environment) of each dimensioned metric.
DIMENSION_OF = {"StreamsClosed": "Reason", "EventsSent": "EventType", "PollErrors": "Kind"}
ITEMS = 3


@dataclass
class Session:
    """What the script did, as the clients saw it, and what the app printed."""

    output: list[str] = field(default_factory=list)
    readers: dict[str, StreamReader] = field(default_factory=dict)
    opened: dict[str, float] = field(default_factory=dict)  # monotonic, per stream
    closed: dict[str, float] = field(default_factory=dict)
    rejected: httpx.Response | None = None
    last_close_wall: float = 0.0
    flushed_after: float | None = None  # seconds from the last close to its EMF document
    final_flush: list[dict[str, Any]] = field(default_factory=list)  # the documents it wrote

    def records(self) -> list[dict[str, Any]]:
        records = []
        for line in self.output:
            _, _, text = line.partition("| ")
            with contextlib.suppress(ValueError):
                record = json.loads(text)
                if isinstance(record, dict):
                    records.append(record)
        return records

    def emf(self) -> list[dict[str, Any]]:
        return [r for r in self.records() if "_aws" in r]

    def logs(self, message: str) -> list[dict[str, Any]]:
        return [r for r in self.records() if r.get("message") == message]


def deadline_in(seconds: float) -> dict[str, str]:
    """LWA's context header for an invocation whose stream must close in ``seconds``."""
    deadline = time.time() + DEADLINE_MARGIN_SECONDS + seconds
    context = {"request_id": "emf-test-invocation", "deadline": int(deadline * 1000)}
    return {"x-amzn-lambda-context": json.dumps(context)}


def is_heartbeat(event: Event) -> bool:
    return event.type == "heartbeat"


async def _script(stack: RunningStack) -> Session:
    session = Session()
    proxy = FaultProxy(stack.dynamodb_url)
    await proxy.start()
    limits = httpx.Limits(max_keepalive_connections=0)
    try:
        async with (
            httpx.AsyncClient(base_url=stack.dashboard_url, timeout=10) as api,
            httpx.AsyncClient(timeout=httpx.Timeout(10, read=30), limits=limits) as streams,
            app_behind(proxy, stack, APP_ENV, output=session.output) as sse_url,
        ):
            url = f"{sse_url}/api/v2/stream?correlation_id={PAGE_ID}"
            async with open_stream(streams, url) as a, open_stream(streams, url) as b:
                session.readers |= {"a": a, "b": b}
                for name, reader in (("a", a), ("b", b)):
                    session.opened[name] = (await reader.wait_for(is_heartbeat)).received
                session.rejected = await streams.get(url)

                for _ in range(ITEMS):
                    item = item_payload(tickers=["EMF"])
                    response = await api.post(
                        "/api/v2/items", json=item, headers={"X-API-Key": stack.api_key}
                    )
                    assert response.status_code == 201, response.text
                for reader in (a, b):
                    await reader.wait_for(lambda _, r=reader: len(r.of("new_item")) == ITEMS)

                proxy.throttle(1.0)  # every DynamoDB call: ThrottlingException
                await asyncio.to_thread(wait_for, lambda: session.logs("storage poll failing"), 15)
                await asyncio.sleep(1.5)
                proxy.heal()
                await asyncio.to_thread(
                    wait_for, lambda: session.logs("storage poll recovered"), 15
                )

                # "b" hangs up (client_gone), freeing a slot for "d", which ends on its
                # Lambda deadline (lifetime) while "a" is still open; then "a" hangs up.
                await b.response.aclose()
                session.closed["b"] = time.monotonic()
                await asyncio.to_thread(
                    wait_for, lambda: stream_status(sse_url)["connections"] == 1, 10
                )
                async with open_stream(streams, url, headers=deadline_in(1.5)) as d:
                    session.readers["d"] = d
                    session.opened["d"] = (await d.wait_for(is_heartbeat)).received
                    await asyncio.wait_for(d.ended.wait(), 15)
                    session.closed["d"] = time.monotonic()

                emf_before = len(session.emf())
                await a.response.aclose()
                session.closed["a"] = time.monotonic()
                session.last_close_wall = time.time()

                def flushed() -> bool:
                    return any("StreamsClosed" in r for r in session.emf()[emf_before:])

                await asyncio.to_thread(wait_for, flushed, 10)
                session.flushed_after = time.time() - session.last_close_wall
                await asyncio.sleep(0.5)  # the rest of that flush's lines
                session.final_flush = session.emf()[emf_before:]
            await asyncio.to_thread(
                wait_for, lambda: stream_status(sse_url)["connections"] == 0, 10
            )
    finally:
        await proxy.close()
    return session


@pytest.fixture(scope="module")
def session(stack: RunningStack) -> Session:
    return asyncio.run(_script(stack))


def totals(documents: list[dict[str, Any]]) -> dict[tuple[str, str | None], float]:
    """Each metric's values summed over every document, by its extra dimension's value."""
    summed: Counter[tuple[str, str | None]] = Counter()
    for document in documents:
        [directive] = document["_aws"]["CloudWatchMetrics"]
        [dimensions] = directive["Dimensions"]
        extra = [document[name] for name in dimensions if name not in ("service", "environment")]
        for metric in directive["Metrics"]:
            summed[(metric["Name"], extra[0] if extra else None)] += sum(document[metric["Name"]])
    return dict(summed)


def samples(documents: list[dict[str, Any]], name: str) -> list[float]:
    return [value for document in documents for value in document.get(name, [])]


@pytest.fixture(scope="module")
def documents(session: Session) -> list[dict[str, Any]]:
    found = session.emf()
    assert found, "no EMF document in the app's output:\n" + "\n".join(session.output[-40:])
    return found


def test_every_document_has_the_namespace_dimensions_and_units(
    documents: list[dict[str, Any]],
) -> None:
    for document in documents:
        [directive] = document["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == NAMESPACE
        assert (document["service"], document["environment"]) == ("sse", "local")
        [dimensions] = directive["Dimensions"]
        names = [metric["Name"] for metric in directive["Metrics"]]
        extra = set(dimensions) - {"service", "environment"}
        assert set(dimensions) >= {"service", "environment"}
        if extra:  # a dimensioned document holds exactly one metric, with its own dimension
            [name] = names
            assert extra == {DIMENSION_OF[name]}
        else:
            assert not set(names) & set(DIMENSION_OF)
        for metric in directive["Metrics"]:
            assert metric["Unit"] == UNITS[metric["Name"]]
            assert "StorageResolution" not in metric  # standard resolution: 60 s
        assert isinstance(document["_aws"]["Timestamp"], int)
    assert {m["Name"] for d in documents for m in d["_aws"]["CloudWatchMetrics"][0]["Metrics"]} <= (
        set(METRIC_NAMES)
    )


def test_streams_opened_closed_and_rejected_match_the_script(
    session: Session, documents: list[dict[str, Any]]
) -> None:
    assert session.rejected is not None
    assert session.rejected.status_code == 503
    counted = totals(documents)
    assert counted[("StreamsOpened", None)] == 3
    assert counted[("StreamsRejected", None)] == 1
    closed = {reason: counted.get(("StreamsClosed", reason), 0) for reason in STREAM_END_REASONS}
    assert closed == {"lifetime": 1, "client_gone": 2, "slow_subscriber": 0, "error": 0}


def test_stream_seconds_add_up_to_the_time_streams_were_open(
    session: Session, documents: list[dict[str, Any]]
) -> None:
    """Sum(StreamSeconds) / period is the mean number of open streams: the sum must be the
    streams' lifetimes (each measured by its client, from first heartbeat to close)."""
    lived = sum(session.closed[name] - session.opened[name] for name in session.opened)
    counted = totals(documents)[("StreamSeconds", None)]
    assert lived - 1.0 <= counted <= lived + 2.0, (counted, lived)


def test_items_delivered_and_their_lag(session: Session, documents: list[dict[str, Any]]) -> None:
    counted = totals(documents)
    received = {name: reader.of("new_item") for name, reader in session.readers.items()}
    assert [len(received[name]) for name in ("a", "b", "d")] == [ITEMS, ITEMS, 0]
    assert counted[("EventsSent", "new_item")] == 2 * ITEMS
    lags = samples(documents, "DeliveryLag")
    assert len(lags) == 2 * ITEMS
    assert all(0 <= lag < 10_000 for lag in lags), lags
    # Heartbeats: what the clients read, give or take the last one of a client that hung up.
    heartbeats = sum(len(reader.of("heartbeat")) for reader in session.readers.values())
    assert heartbeats <= counted[("EventsSent", "heartbeat")] <= heartbeats + 2
    assert counted.get(("EventsSent", "resync"), 0) == 0


def test_the_outage_is_counted_as_throttled_polls(
    session: Session, documents: list[dict[str, Any]]
) -> None:
    counted = totals(documents)
    errors = {kind: counted.get(("PollErrors", kind), 0) for kind in POLL_ERROR_KINDS}
    [failing] = session.logs("storage poll failing")
    assert failing["kind"] == "throttled"
    [recovered] = session.logs("storage poll recovered")
    assert errors == {**dict.fromkeys(POLL_ERROR_KINDS, 0), "throttled": recovered["failures"]}
    assert recovered["failures"] >= 2
    assert counted[("Polls", None)] >= 5
    for document in documents:
        if "Polls" in document:  # one sample per successful poll, at most 99 per document
            [polls] = document["Polls"]
            assert len(document.get("PollDuration", [])) == min(polls, 99)
    assert all(0 <= duration < 10_000 for duration in samples(documents, "PollDuration"))


def test_the_last_stream_to_close_flushes_at_once(session: Session) -> None:
    """Not the 60 s timer: within moments of the close (on Lambda the environment may be
    frozen right after), and carrying that close."""
    assert session.flushed_after is not None
    assert session.flushed_after < 5.0
    flushed = totals(session.final_flush)
    assert flushed[("StreamsClosed", "client_gone")] >= 1  # "a", the last one
    assert flushed[("StreamSeconds", None)] > 0
    for document in session.final_flush:
        assert document["_aws"]["Timestamp"] >= (session.last_close_wall - 1) * 1000


def test_stream_log_lines_carry_the_pages_correlation_id(session: Session) -> None:
    closed = session.logs("stream closed")
    assert sorted(r["reason"] for r in closed) == ["client_gone", "client_gone", "lifetime"]
    assert {r["correlation_id"] for r in closed} == {PAGE_ID}
    assert sorted(r["items_delivered"] for r in closed) == [0, ITEMS, ITEMS]
    lifetime = next(r for r in closed if r["reason"] == "lifetime")
    assert lifetime["function_request_id"] == "emf-test-invocation"
    [rejected] = session.logs("request rejected")
    assert (rejected["status"], rejected["path"]) == (503, "/api/v2/stream")
    assert rejected["correlation_id"] == PAGE_ID
