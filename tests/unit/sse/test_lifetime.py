"""How long a stream lives: the Lambda deadline from LWA's context header, jitter, margin."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace

import pytest

from sse import lifetime
from sse.lifetime import DEADLINE_MARGIN_SECONDS, JITTER_LOW, deadline_from_context, stream_end

WALL = 1_795_264_200.0  # the wall clock (epoch seconds) while these tests run
MONO = 5_000.0  # the monotonic clock


@pytest.fixture
def frozen_wall(monkeypatch: pytest.MonkeyPatch) -> None:
    """Freezes the wall clock ``sse.lifetime`` reads (and only there)."""
    fake = SimpleNamespace(time=lambda: WALL, monotonic=lambda: MONO)
    monkeypatch.setattr(lifetime, "time", fake)


def context(**fields: object) -> str:
    return json.dumps({"request_id": "abc", "invoked_function_arn": "arn:x", **fields})


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (context(deadline=1_795_264_200_123), 1_795_264_200.123),
        (context(deadline_ms=1_795_264_200_123), 1_795_264_200.123),
        (context(deadline=1_795_264_200_000, deadline_ms=1), 1_795_264_200.0),
        (json.dumps({"deadline": 1_000}), 1.0),
    ],
    ids=["deadline", "deadline_ms", "deadline-wins", "bare"],
)
def test_deadline_from_context(header: str, expected: float) -> None:
    assert deadline_from_context(header) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "not json",
        "{",
        "[1, 2]",
        '"a string"',
        "42",
        "null",
        context(),
        context(deadline="soon"),
        context(deadline=None),
        context(deadline=[1]),
        context(deadline={"ms": 1}),
        context(deadline_ms="soon"),
    ],
)
def test_unusable_context_means_no_deadline(header: str | None) -> None:
    assert deadline_from_context(header) is None


def test_no_deadline_uses_max_times_jitter(frozen_wall: None) -> None:
    assert stream_end(840, None, now=100.0, jitter=1.0) == 940.0
    assert stream_end(840, None, now=100.0, jitter=0.9) == pytest.approx(100.0 + 756.0)
    assert stream_end(840, "garbage", now=100.0, jitter=0.8) == pytest.approx(100.0 + 672.0)


def test_near_deadline_wins_over_max(frozen_wall: None) -> None:
    header = context(deadline=int((WALL + 60) * 1000))

    end = stream_end(840, header, now=100.0, jitter=1.0)

    assert end == pytest.approx(100.0 + 60 - DEADLINE_MARGIN_SECONDS)


def test_deadline_ms_is_honoured_too(frozen_wall: None) -> None:
    header = context(deadline_ms=int((WALL + 30) * 1000))

    assert stream_end(840, header, now=0.0, jitter=1.0) == pytest.approx(30 - 2.0)


def test_far_deadline_leaves_max_times_jitter(frozen_wall: None) -> None:
    header = context(deadline=int((WALL + 900) * 1000))

    assert stream_end(840, header, now=100.0, jitter=0.9) == pytest.approx(100.0 + 756.0)
    assert stream_end(840, header, now=100.0, jitter=1.0) == pytest.approx(100.0 + 840.0)


@pytest.mark.parametrize("seconds_left", [-3600.0, -5.0, 0.0, 1.0, DEADLINE_MARGIN_SECONDS])
def test_deadline_past_or_inside_the_margin_ends_immediately(
    frozen_wall: None, seconds_left: float
) -> None:
    header = context(deadline=int((WALL + seconds_left) * 1000))

    assert stream_end(840, header, now=123.0, jitter=1.0) == 123.0


def test_now_defaults_to_the_monotonic_clock(frozen_wall: None) -> None:
    assert stream_end(10, None, jitter=1.0) == MONO + 10
    header = context(deadline=int((WALL + 12) * 1000))
    assert stream_end(840, header, jitter=1.0) == pytest.approx(MONO + 10)


def test_default_now_is_time_monotonic() -> None:
    before = time.monotonic()
    end = stream_end(10, None, jitter=1.0)
    after = time.monotonic()

    assert before + 10 <= end <= after + 10


def test_default_jitter_spreads_over_80_to_100_percent(frozen_wall: None) -> None:
    assert JITTER_LOW == 0.8
    lifetimes = [stream_end(100, None, now=0.0) for _ in range(500)]

    assert all(80.0 <= value <= 100.0 for value in lifetimes)
    # Spread, not one fixed value (a herd of reconnects): both ends of the range are used.
    assert min(lifetimes) < 85.0
    assert max(lifetimes) > 95.0


def test_default_jitter_still_respects_the_deadline(frozen_wall: None) -> None:
    header = context(deadline=int((WALL + 12) * 1000))

    lifetimes = [stream_end(840, header, now=0.0) for _ in range(50)]

    assert lifetimes == [pytest.approx(12 - DEADLINE_MARGIN_SECONDS)] * 50
