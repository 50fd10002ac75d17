"""The SSE app's EMF metrics (sse.telemetry): what a flush writes, and when streams flush."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from sse.telemetry import MAX_SAMPLES, EmfWriter, StreamTelemetry
from tests.unit.sse.conftest import Consumer, Harness, make_item, wait_polls

DIMENSIONS = {"service": "sse", "environment": "test"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def emf_documents(output: str) -> list[dict[str, Any]]:
    """The EMF documents in captured stdout (one JSON object per line with an ``_aws`` key)."""
    documents = []
    for line in output.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            documents.append(json.loads(line))
    return documents


def metric_values(documents: list[dict[str, Any]]) -> dict[tuple[str, str | None], Any]:
    """{(metric name, its extra dimension's value or None): values} over the documents
    (Powertools writes every value as a list)."""
    found: dict[tuple[str, str | None], Any] = {}
    for document in documents:
        [directive] = document["_aws"]["CloudWatchMetrics"]
        [dimensions] = directive["Dimensions"]
        extra = [document[d] for d in dimensions if d not in DIMENSIONS]
        for metric in directive["Metrics"]:
            found[(metric["Name"], extra[0] if extra else None)] = document[metric["Name"]]
    return found


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def telemetry(clock: FakeClock) -> StreamTelemetry:
    return StreamTelemetry(EmfWriter("Sentiment/Test", DIMENSIONS), clock)


def test_a_flush_writes_counts_samples_and_one_document_per_dimension_value(
    telemetry: StreamTelemetry, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    telemetry.stream_opened()
    telemetry.stream_opened()
    telemetry.stream_rejected()
    for event_type in ("heartbeat", "heartbeat", "new_item", "metrics"):
        telemetry.event_sent(event_type)
    telemetry.delivery_lag(120.5)
    telemetry.delivery_lag(80.0)
    telemetry.poll_duration(0.012)
    telemetry.poll_failed("throttled")
    telemetry.poll_failed("throttled")
    telemetry.poll_failed("timeout")
    clock.now += 30
    telemetry.flush()

    documents = emf_documents(capsys.readouterr().out)
    for document in documents:
        [directive] = document["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "Sentiment/Test"
        assert document["service"] == "sse"
        assert document["environment"] == "test"
    main = documents[0]["_aws"]["CloudWatchMetrics"][0]
    assert sorted(main["Dimensions"][0]) == ["environment", "service"]
    assert {m["Name"]: m["Unit"] for m in main["Metrics"]} == {
        "StreamsOpened": "Count",
        "StreamsRejected": "Count",
        "StreamSeconds": "Seconds",
        "Polls": "Count",
        "PollDuration": "Milliseconds",
        "DeliveryLag": "Milliseconds",
    }
    assert metric_values(documents) == {
        ("StreamsOpened", None): [2.0],
        ("StreamsRejected", None): [1.0],
        ("StreamSeconds", None): [60.0],  # two streams open for 30 s
        ("Polls", None): [1.0],
        ("PollDuration", None): [12.0],
        ("DeliveryLag", None): [120.5, 80.0],
        ("EventsSent", "heartbeat"): [2.0],
        ("EventsSent", "metrics"): [1.0],
        ("EventsSent", "new_item"): [1.0],
        ("PollErrors", "throttled"): [2.0],
        ("PollErrors", "timeout"): [1.0],
    }
    dimension_names = [
        sorted(d["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]) for d in documents[1:]
    ]
    assert (
        dimension_names
        == [["EventType", "environment", "service"]] * 3 + [["Kind", "environment", "service"]] * 2
    )


def test_an_idle_flush_writes_nothing_and_a_flush_starts_over(
    telemetry: StreamTelemetry, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    telemetry.flush()
    assert emf_documents(capsys.readouterr().out) == []

    telemetry.stream_opened()
    clock.now += 10
    telemetry.flush()
    clock.now += 5
    telemetry.flush()  # the stream is still open: its time keeps counting, nothing else

    first, second = emf_documents(capsys.readouterr().out)
    assert (first["StreamsOpened"], first["StreamSeconds"]) == ([1.0], [10.0])
    assert (second["StreamsOpened"], second["StreamSeconds"]) == ([0.0], [5.0])


def test_the_last_stream_to_close_flushes(
    telemetry: StreamTelemetry, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """On Lambda the environment may be frozen as soon as its stream ends: no waiting for the
    timer. With other streams still open the timer does it."""
    telemetry.stream_opened()
    telemetry.stream_opened()
    clock.now += 4
    telemetry.stream_closed("slow_subscriber")
    assert emf_documents(capsys.readouterr().out) == []
    assert telemetry.open_streams == 1

    clock.now += 2
    telemetry.stream_closed("lifetime")

    documents = emf_documents(capsys.readouterr().out)
    assert metric_values(documents) == {
        ("StreamsOpened", None): [2.0],
        ("StreamsRejected", None): [0.0],
        ("StreamSeconds", None): [10.0],  # 4 s x 2 streams + 2 s x 1
        ("Polls", None): [0.0],
        ("StreamsClosed", "lifetime"): [1.0],
        ("StreamsClosed", "slow_subscriber"): [1.0],
    }
    assert telemetry.open_streams == 0


def test_samples_are_capped_so_a_flush_stays_one_document(
    telemetry: StreamTelemetry, capsys: pytest.CaptureFixture[str]
) -> None:
    for lag in range(1000):
        telemetry.delivery_lag(float(lag))
    telemetry.flush()

    [document] = emf_documents(capsys.readouterr().out)
    samples = document["DeliveryLag"]
    assert len(samples) == MAX_SAMPLES == 99
    assert set(samples) <= {float(lag) for lag in range(1000)}
    assert max(samples) > 99  # a sample of all 1,000, not the first 99


def test_nothing_is_written_with_metrics_disabled(
    telemetry: StreamTelemetry,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    telemetry.stream_opened()
    for lag in range(500):
        telemetry.delivery_lag(float(lag))
    telemetry.stream_closed("error")

    assert emf_documents(capsys.readouterr().out) == []


async def test_a_stream_that_ends_writes_its_metrics_before_its_last_frame_is_taken(
    make_harness: Callable[..., Harness], capsys: pytest.CaptureFixture[str]
) -> None:
    """Stream.events() reports its end (and, being the last, flushes) before the generator
    finishes, i.e. before the response and the Lambda invocation end."""
    harness = make_harness(poll_interval=0.05)
    request = harness.request(end_in=1.0)
    stream = Consumer(harness.stream(request))
    await stream.next_of("heartbeat")
    await wait_polls(harness.hub, 1)
    harness.source.add(make_item())
    await stream.next_of("new_item")

    await stream.wait_finished()

    values = metric_values(emf_documents(capsys.readouterr().out))
    assert values[("StreamsOpened", None)] == [1.0]
    assert values[("StreamsClosed", "lifetime")] == [1.0]
    assert values[("EventsSent", "new_item")] == [1.0]
    assert values[("Polls", None)][0] >= 1.0
    [lag] = values[("DeliveryLag", None)]
    assert 0.0 <= lag < 5000
    [seconds] = values[("StreamSeconds", None)]
    assert 0.5 < seconds < 5.0
    [closed] = harness.logs.messages("stream closed")
    assert closed["reason"] == "lifetime"
    assert closed["items_delivered"] == 1
    assert closed["max_delivery_lag_ms"] >= 0
    assert harness.telemetry.open_streams == 0
