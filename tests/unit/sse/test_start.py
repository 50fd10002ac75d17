"""Where a stream starts: event ids as Position tokens, and Last-Event-ID parsing."""

from __future__ import annotations

import base64
import re
import string
from datetime import UTC, datetime, timedelta

import pytest

from sentiment.positions import CLOCK_SKEW, InvalidPositionError, Position
from sse.start import REPLAY_MAX_AGE, StartPoint, start_point

NOW = datetime(2026, 11, 21, 12, 30, 0, 123456, tzinfo=UTC)
LIVE = Position(NOW, "")
LONGEST_ID = (string.ascii_letters + string.digits + "._:-")[:64]
URL_SAFE = re.compile(r"^[A-Za-z0-9_-]+$")


def token(raw: bytes) -> str:
    """A hand-made token: URL-safe base64 without padding, as Position.encode writes them."""
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def micros(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


# --- Position tokens --------------------------------------------------------------------


@pytest.mark.parametrize(
    "position",
    [
        Position(NOW, "item-1"),
        Position(NOW, ""),
        Position(NOW, LONGEST_ID),
        Position(datetime(1970, 1, 1, tzinfo=UTC), "a"),
        Position(datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), LONGEST_ID),
    ],
    ids=["plain", "between-items", "64-char-id", "epoch", "max-date-64-char-id"],
)
def test_position_token_round_trips_and_is_ascii_url_safe_and_short(position: Position) -> None:
    encoded = position.encode()

    assert Position.decode(encoded) == position
    assert encoded.isascii()
    assert URL_SAFE.match(encoded), encoded
    assert len(encoded.encode("ascii")) <= 128
    assert "=" not in encoded  # no padding: nothing a URL or header would need escaped


def test_position_token_is_the_documented_encoding() -> None:
    # "<epoch microseconds>:<item_id>", URL-safe base64, padding stripped.
    position = Position(datetime(2026, 11, 21, 12, 30, tzinfo=UTC), "item-1")
    assert position.encode() == "MTc5NTI2NDIwMDAwMDAwMDppdGVtLTE"
    assert position.encode() == token(b"1795264200000000:item-1")


def test_position_tokens_sort_like_positions_after_decoding() -> None:
    positions = [
        Position(NOW, "b"),
        Position(NOW, ""),
        Position(NOW - timedelta(microseconds=1), "z"),
        Position(NOW, "a"),
        Position(NOW + timedelta(seconds=1), ""),
    ]
    decoded = [Position.decode(p.encode()) for p in positions]
    assert sorted(decoded) == [positions[2], positions[1], positions[3], positions[0], positions[4]]


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "garbage!!",
        "has space",
        "a" * 129,
        "AAAAA",  # 1 more than a multiple of 4: not base64
        token(b"no separator at all"),
        token(b"notanumber:item-1"),
        token(b"-5:item-1"),
        token(b"1795264200000000:bad id!"),
        token(b"1795264200000000:" + b"x" * 65),
        token(b"99999999999999999999999:item-1"),  # past datetime.max
        token(b"1795264200000000:\xff\xfe"),
    ],
)
def test_position_decode_rejects_what_encode_never_writes(bad: str) -> None:
    with pytest.raises(InvalidPositionError):
        Position.decode(bad)


# --- start_point --------------------------------------------------------------------------


@pytest.mark.parametrize("last_event_id", [None, ""])
def test_no_last_event_id_starts_live_at_now(last_event_id: str | None) -> None:
    start = start_point(last_event_id, NOW)

    assert start == StartPoint(LIVE, resumed=False, resync_reason=None)
    assert start.position.ingested_at == NOW
    assert start.position.item_id == ""


@pytest.mark.parametrize(
    "last_event_id",
    [
        "garbage!!",
        "   ",  # empty after strip
        "\t\n",
        "%%%%",  # not base64
        "a" * 129,  # longer than any id we write
        Position(NOW, "item-1").encode() + "x" * 100,  # too long once extended
        token(b"hello world"),  # base64 of junk
        token(b"1795264200000000"),  # no item separator
        token(b"17952642OOOOOOOO:item-1"),
        token(b"1795264200000000:item 1"),
        token(b"-1:item-1"),
        "AAAAA",
        "null",
        "undefined",  # what a careless client sends
    ],
)
def test_malformed_ids_start_live_and_ask_for_resync(last_event_id: str) -> None:
    start = start_point(last_event_id, NOW)

    assert start == StartPoint(LIVE, resumed=False, resync_reason="malformed")


def test_expired_id_starts_live_and_asks_for_resync() -> None:
    old = Position(NOW - REPLAY_MAX_AGE - timedelta(microseconds=1), "item-1")

    assert start_point(old.encode(), NOW) == StartPoint(LIVE, resync_reason="expired")


def test_much_older_id_is_expired() -> None:
    old = Position(NOW - timedelta(days=3), "item-1")

    assert start_point(old.encode(), NOW) == StartPoint(LIVE, resync_reason="expired")


def test_id_just_inside_the_replay_age_resumes() -> None:
    recent = Position(NOW - REPLAY_MAX_AGE + timedelta(seconds=1), "item-1")

    assert start_point(recent.encode(), NOW) == StartPoint(recent, resumed=True)


def test_id_from_beyond_the_future_skew_is_malformed() -> None:
    future = Position(NOW + CLOCK_SKEW + timedelta(microseconds=1), "item-1")

    assert start_point(future.encode(), NOW) == StartPoint(LIVE, resync_reason="malformed")


def test_id_slightly_ahead_within_the_skew_resumes() -> None:
    ahead = Position(NOW + CLOCK_SKEW - timedelta(seconds=1), "item-1")

    assert start_point(ahead.encode(), NOW) == StartPoint(ahead, resumed=True)


@pytest.mark.parametrize(
    "position",
    [
        Position(NOW - timedelta(seconds=5), "item-1"),
        Position(NOW - timedelta(minutes=59), LONGEST_ID),
        Position(NOW - timedelta(seconds=2), ""),  # an id between items (a heartbeat's)
        Position(NOW, "item-1"),
    ],
)
def test_valid_recent_id_resumes_at_that_position(position: Position) -> None:
    start = start_point(position.encode(), NOW)

    assert start == StartPoint(position, resumed=True, resync_reason=None)


def test_surrounding_whitespace_is_ignored() -> None:
    position = Position(NOW - timedelta(seconds=5), "item-1")

    assert start_point(f"  {position.encode()}\r\n", NOW) == StartPoint(position, resumed=True)


@pytest.mark.parametrize(
    "raw",
    [
        b"+%d:item-1",
        b" %d:item-1",
        b"0%d:item-1",
    ],
    ids=["plus-sign", "leading-space", "leading-zero"],
)
def test_non_canonical_tokens_are_malformed(raw: bytes) -> None:
    forged = token(raw % micros(NOW - timedelta(seconds=5)))

    assert start_point(forged, NOW) == StartPoint(LIVE, resync_reason="malformed")
