"""Stream positions: the opaque wire token, the index sort key, and hour buckets."""

from __future__ import annotations

import base64
import itertools
import random
import string
from datetime import UTC, datetime, timedelta, timezone

import pytest

from sentiment.positions import (
    InvalidPositionError,
    Position,
    format_timestamp,
    hour_bucket,
    hour_buckets,
    parse_timestamp,
)

ALLOWED_ID_CHARS = string.ascii_letters + string.digits + "._:-"
# 66 allowed characters do not fit in one 64-character id: two ids cover them all.
LONGEST_ID = ALLOWED_ID_CHARS[:64]
LONGEST_ID_TAIL = ALLOWED_ID_CHARS[-64:]
MOMENT = datetime(2026, 11, 21, 13, 5, 1, 123456, tzinfo=UTC)
LATEST = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def raw_token(raw: bytes) -> str:
    """A token built by hand: URL-safe base64 of ``raw``, padding stripped as encode() does."""
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


@pytest.mark.parametrize(
    ("moment", "item_id"),
    [
        (MOMENT, "item-1"),
        (MOMENT, ""),
        (MOMENT, LONGEST_ID),
        (MOMENT, LONGEST_ID_TAIL),
        (MOMENT, "a:b:c"),
        (datetime(1970, 1, 1, tzinfo=UTC), "x"),
        (LATEST, LONGEST_ID),
        (MOMENT.replace(microsecond=0), "."),
    ],
    ids=[
        "plain",
        "empty-id",
        "64-chars-head",
        "64-chars-tail",
        "colons-in-id",
        "epoch",
        "latest",
        "no-microseconds",
    ],
)
def test_encode_decode_round_trip(moment: datetime, item_id: str) -> None:
    """decode(encode(p)) == p, and the token is <= 128 URL-safe ASCII characters."""
    position = Position(moment, item_id)
    token = position.encode()

    assert Position.decode(token) == position
    assert len(token) <= 128
    assert token.isascii()
    assert set(token) <= set(string.ascii_letters + string.digits + "-_")


def test_longest_ids_use_every_allowed_character() -> None:
    """The two 64-character fixture ids together cover the whole alphabet ``[A-Za-z0-9._:-]``."""
    assert len(LONGEST_ID) == len(LONGEST_ID_TAIL) == 64
    assert set(LONGEST_ID) | set(LONGEST_ID_TAIL) == set(ALLOWED_ID_CHARS)


def test_round_trip_normalises_timezone_to_utc() -> None:
    """A position written from a non-UTC moment decodes to the same instant, in UTC."""
    local = MOMENT.astimezone(timezone(timedelta(hours=-5)))
    decoded = Position.decode(Position(local, "a").encode())
    assert decoded.ingested_at == MOMENT
    assert decoded.ingested_at.tzinfo == UTC
    assert decoded.sort_key == "2026-11-21T13:05:01.123456Z#a"


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("", id="empty"),
        pytest.param("A" * 129, id="too-long"),
        pytest.param(raw_token(b"1:" + b"a" * 64) + "A" * 128, id="valid-prefix-too-long"),
        pytest.param("abc=", id="padding-char"),
        pytest.param("ab+/", id="standard-base64-alphabet"),
        pytest.param("!!!!", id="punctuation"),
        pytest.param("A", id="truncated-base64"),
        pytest.param("dG9rZW7pcg", id="decodes-to-non-ascii"),
        pytest.param("tökén", id="non-ascii-token"),
        pytest.param("AAAA AAAA", id="whitespace"),
        pytest.param(raw_token(b"-5:item-1"), id="negative-micros"),
        pytest.param(raw_token(b"12345"), id="missing-colon"),
        pytest.param(raw_token(b":item-1"), id="empty-micros"),
        pytest.param(raw_token(b"abc:item-1"), id="non-numeric-micros"),
        pytest.param(raw_token(b"9" * 30 + b":x"), id="micros-overflow"),
        pytest.param(raw_token(b"253402300800000000:x"), id="after-year-9999"),
        pytest.param(raw_token(b"5:bad id"), id="id-with-space"),
        pytest.param(raw_token(b"5:" + b"a" * 65), id="id-65-chars"),
        pytest.param(raw_token(b"5:a#b"), id="id-with-hash"),
        pytest.param(raw_token(b"5:a/b"), id="id-with-slash"),
        pytest.param(raw_token("5:é".encode()), id="id-non-ascii"),
    ],
)
def test_decode_rejects_bad_tokens(token: str) -> None:
    """Anything that is not a token encode() could have written is an InvalidPositionError."""
    with pytest.raises(InvalidPositionError):
        Position.decode(token)


def test_invalid_position_error_is_a_value_error() -> None:
    """Callers (REST cursor, SSE Last-Event-ID) may catch it as a ValueError."""
    with pytest.raises(ValueError, match="position token"):
        Position.decode("")


def test_sort_key_format_and_round_trip() -> None:
    """The index sort key is fixed-width ISO UTC text, '#', then the item id."""
    position = Position(MOMENT, "item-1")
    assert position.sort_key == "2026-11-21T13:05:01.123456Z#item-1"
    assert Position.from_sort_key(position.sort_key) == position
    assert Position(MOMENT.replace(microsecond=0)).sort_key == "2026-11-21T13:05:01.000000Z#"
    assert position.bucket == "2026-11-21T13"


def _random_positions(count: int) -> list[Position]:
    rng = random.Random(20261121)
    stamps = [MOMENT + timedelta(microseconds=rng.randrange(-(10**10), 10**10)) for _ in range(8)]
    stamps += [datetime(1970, 1, 1, tzinfo=UTC), LATEST]
    ids = ["", "a", "a.", "a-", "a:", "a_", "aa", "A", "0", "z" * 64, "item-10", "item-9"]
    ids += [LONGEST_ID, LONGEST_ID_TAIL]
    return [Position(rng.choice(stamps), rng.choice(ids)) for _ in range(count)]


def test_sort_key_order_equals_position_order() -> None:
    """Sorting by the DynamoDB sort key (string order) gives the same order as Position order."""
    positions = _random_positions(150)
    assert sorted(positions) == sorted(positions, key=lambda p: p.sort_key)
    for first, second in itertools.combinations(positions, 2):
        assert (first < second) == (first.sort_key < second.sort_key)
        assert (first == second) == (first.sort_key == second.sort_key)


def test_position_at_is_before_every_item_at_that_moment() -> None:
    """Position.at(t) sorts before any item ingested at t and after anything earlier."""
    at = Position.at(MOMENT)
    assert at.item_id == ""
    assert at < Position(MOMENT, "0")
    assert at.sort_key < Position(MOMENT, "0").sort_key
    earlier = Position(MOMENT - timedelta(microseconds=1), "z" * 64)
    assert earlier < at
    assert earlier.sort_key < at.sort_key


def test_format_and_parse_timestamp_are_fixed_width_utc() -> None:
    """Every timestamp is 27 characters ending in Z, whatever its zone or microseconds."""
    local = datetime(2026, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=2)))
    assert format_timestamp(local) == "2025-12-31T23:00:00.000000Z"
    assert len(format_timestamp(MOMENT)) == 27
    assert parse_timestamp(format_timestamp(MOMENT)) == MOMENT


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        pytest.param(
            datetime(2026, 11, 21, 13, 0, tzinfo=UTC),
            datetime(2026, 11, 21, 13, 59, 59, 999999, tzinfo=UTC),
            ["2026-11-21T13"],
            id="one-hour",
        ),
        pytest.param(
            datetime(2026, 11, 21, 12, 59, 59, 999999, tzinfo=UTC),
            datetime(2026, 11, 21, 13, 0, tzinfo=UTC),
            ["2026-11-21T12", "2026-11-21T13"],
            id="hour-boundary",
        ),
        pytest.param(
            datetime(2026, 11, 21, 22, 30, tzinfo=UTC),
            datetime(2026, 11, 22, 1, 10, tzinfo=UTC),
            ["2026-11-21T22", "2026-11-21T23", "2026-11-22T00", "2026-11-22T01"],
            id="midnight",
        ),
        pytest.param(
            datetime(2026, 11, 30, 23, 59, tzinfo=UTC),
            datetime(2026, 12, 1, 0, 1, tzinfo=UTC),
            ["2026-11-30T23", "2026-12-01T00"],
            id="month-end",
        ),
        pytest.param(
            datetime(2028, 2, 28, 23, 0, tzinfo=UTC),
            datetime(2028, 2, 29, 0, 0, tzinfo=UTC),
            ["2028-02-28T23", "2028-02-29T00"],
            id="leap-day",
        ),
        pytest.param(
            datetime(2026, 12, 31, 23, 45, tzinfo=UTC),
            datetime(2027, 1, 1, 0, 15, tzinfo=UTC),
            ["2026-12-31T23", "2027-01-01T00"],
            id="year-end",
        ),
        pytest.param(
            datetime(2026, 11, 22, 0, 30, tzinfo=timezone(timedelta(hours=1))),
            datetime(2026, 11, 22, 1, 30, tzinfo=timezone(timedelta(hours=1))),
            ["2026-11-21T23", "2026-11-22T00"],
            id="non-utc-input",
        ),
        pytest.param(
            datetime(2026, 11, 21, 14, 0, tzinfo=UTC),
            datetime(2026, 11, 21, 13, 0, tzinfo=UTC),
            [],
            id="start-after-end",
        ),
    ],
)
def test_hour_buckets(start: datetime, end: datetime, expected: list[str]) -> None:
    """Every UTC hour from start's to end's, oldest first, across day/month/year boundaries."""
    assert hour_buckets(start, end) == expected


def test_hour_buckets_for_a_week_are_contiguous() -> None:
    """168 hours back from a moment gives 169 distinct, consecutive buckets."""
    end = datetime(2026, 11, 21, 12, 30, tzinfo=UTC)
    buckets = hour_buckets(end - timedelta(hours=168), end)
    assert len(buckets) == 169 == len(set(buckets))
    assert buckets == sorted(buckets)
    assert buckets[0] == "2026-11-14T12"
    assert buckets[-1] == hour_bucket(end) == "2026-11-21T12"
